/**
 * The CMS part of token verification (RFC 5652 § 5.4, § 5.6; RFC 3161 § 2.4.1; RFC 5035 / RFC 5816), following
 * tspclient-go `SignedToken.SigningCertificate` and `cms.ParsedSignedData.verify`:
 *
 *  1. the signing certificate is named by the first ESSCertIDv2 of the SigningCertificateV2 signed attribute
 *     (its IssuerSerial, else the SignerInfo sid) and must be in the token with the attested hash;
 *  2. signed attributes are required: content-type equals eContentType, message-digest equals the hash of eContent
 *     under the SignerInfo's digestAlgorithm, and signing-time (if any) lies inside the TSA chain's validity;
 *  3. the signature over the DER SET OF signed attributes verifies with the signing certificate's key.
 */
import { createHash } from 'node:crypto';
import type { Certificate } from '../../../pki/certificate.ts';
import { integerValue } from '../../../pki/certificate.ts';
import { childrenOf, contentBytes, decodeOid, readWhole, TAG } from '../../../pki/der.ts';
import { bytesEqual } from '../../../pki/format.ts';
import { verifySignature } from '../../../pki/signature.ts';
import type { AlgorithmId } from '../../../pki/signature.ts';
import { HASHES, OIDS, tsFail } from './errors.ts';
import type { TimestampFailure } from './errors.ts';
import type { SignerInfoView, TimestampToken } from './token.ts';

const DEFAULT_SHA256 = '2.16.840.1.101.3.4.2.1';

/** The first ESSCertIDv2: hash algorithm, certHash, and IssuerSerial if present. */
function essCertIdV2(value: Uint8Array): { hash: string; certHash: Uint8Array; issuerDer: Uint8Array | null; serial: bigint | null } {
  const certs = childrenOf(value, readWhole(value, TAG.SEQUENCE), 16)[0];
  if (!certs || certs.id !== TAG.SEQUENCE) throw new Error('missing certs');
  const first = childrenOf(value, certs, 1024)[0];
  if (!first || first.id !== TAG.SEQUENCE) throw new Error('signingCertificateV2 does not contain any certificate');
  const parts = childrenOf(value, first, 4);
  let i = 0;
  let hash = DEFAULT_SHA256;
  if (parts[i]?.id === TAG.SEQUENCE) {
    const alg = childrenOf(value, parts[i++]!, 2)[0];
    if (!alg || alg.id !== TAG.OID) throw new Error('bad hashAlgorithm');
    hash = decodeOid(contentBytes(value, alg));
  }
  const certHash = parts[i++];
  if (!certHash || certHash.id !== TAG.OCTET_STRING) throw new Error('missing certHash');
  const issuerSerial = parts[i];
  if (!issuerSerial) return { hash, certHash: contentBytes(value, certHash), issuerDer: null, serial: null };
  const [names, serial] = childrenOf(value, issuerSerial, 3);
  if (!names || names.id !== TAG.SEQUENCE || !serial || serial.id !== TAG.INTEGER) throw new Error('bad IssuerSerial');
  const dirName = childrenOf(value, names, 16).find((gn) => gn.id === 0xa4); // [4] EXPLICIT Name
  if (!dirName) throw new Error('issuer name is missing in IssuerSerial');
  const name = childrenOf(value, dirName, 2)[0];
  if (!name || name.id !== TAG.SEQUENCE) throw new Error('bad directoryName');
  return { hash, certHash: contentBytes(value, certHash), issuerDer: value.subarray(name.start, name.end), serial: integerValue(contentBytes(value, serial)) };
}

function attribute(si: SignerInfoView, oid: string): Uint8Array | null | 'multiple' {
  const found = (si.signedAttributes ?? []).filter((a) => a.oid === oid);
  if (found.length === 0) return null;
  if (found.length > 1 || found[0]!.values.length !== 1) return 'multiple';
  return found[0]!.values[0]!;
}

/** Finds and authenticates the TSA signing certificate of `si` within `token` (step 1). */
export function signingCertificate(token: TimestampToken, si: SignerInfoView): Certificate | TimestampFailure {
  const attr = attribute(si, OIDS.signingCertificateV2);
  if (attr === null || attr === 'multiple') return tsFail('signing-certificate-attribute', 'failed to get SigningCertificateV2 from signed attributes');
  let ess: ReturnType<typeof essCertIdV2>;
  try {
    ess = essCertIdV2(attr);
  } catch (err) {
    return tsFail('signing-certificate-attribute', `invalid SigningCertificateV2 attribute: ${err instanceof Error ? err.message : String(err)}`);
  }
  const ref = ess.issuerDer && ess.serial !== null ? { issuerDer: ess.issuerDer, serialNumber: ess.serial } : si.sid;
  const cert = ref ? token.certificates.find((c) => bytesEqual(c.issuer.der, ref.issuerDer) && c.serialNumber === ref.serialNumber) : undefined;
  if (!cert) return tsFail('signer-certificate-not-found', 'signing certificate not found in the timestamp token');
  const hash = HASHES[ess.hash];
  if (!hash) return tsFail('signing-certificate-attribute', 'unsupported certificate hash algorithm in SigningCertificateV2 attribute');
  if (!bytesEqual(createHash(hash).update(cert.der).digest(), ess.certHash)) {
    return tsFail('signing-certificate-attribute', 'signing certificate hash does not match CertHash in signed attribute');
  }
  return cert;
}

/** tspclient-go `oid.ToSignatureAlgorithm`: rsaEncryption takes its hash from the digest algorithm. */
function signatureAlgorithmOf(si: SignerInfoView): AlgorithmId | null {
  const RSA = '1.2.840.113549.1.1.1';
  if (si.signatureAlgorithm.oid !== RSA) return si.signatureAlgorithm;
  const byDigest: Readonly<Record<string, string>> = {
    '2.16.840.1.101.3.4.2.1': '1.2.840.113549.1.1.11',
    '2.16.840.1.101.3.4.2.2': '1.2.840.113549.1.1.12',
    '2.16.840.1.101.3.4.2.3': '1.2.840.113549.1.1.13',
  };
  const oid = byDigest[si.digestAlgorithm.oid];
  return oid ? { oid, params: null } : null;
}

/** Signature over the signed attributes (step 3), then the attributes themselves (step 2). */
export function verifySignerInfo(token: TimestampToken, si: SignerInfoView, cert: Certificate, chain: readonly Certificate[]): TimestampFailure | null {
  if (si.version !== 1) return tsFail('unsupported-version', `invalid signer info version: only version 1 is supported; got ${si.version}`);
  if (si.signedAttributes === null || si.signedAttributesDer === null) return tsFail('signed-attributes', 'missing signed attributes');
  const alg = signatureAlgorithmOf(si);
  if (!alg) return tsFail('signature-invalid', 'unknown signature algorithm');
  const problem = verifySignature(alg, si.signedAttributesDer, si.signature, cert.publicKey);
  if (problem) return tsFail('signature-invalid', `failed to verify timestamp token: ${problem.message}`);

  const ct = attribute(si, OIDS.contentTypeAttr);
  let contentType: string | null = null;
  try {
    if (ct instanceof Uint8Array) contentType = decodeOid(contentBytes(ct, readWhole(ct, TAG.OID)));
  } catch {
    contentType = null;
  }
  if (contentType === null) return tsFail('signed-attributes', 'invalid content type');
  if (contentType !== token.contentType) return tsFail('signed-attributes', `mismatch content type: found "${contentType}" in signer info, and "${token.contentType}" in signed data`);

  const md = attribute(si, OIDS.messageDigestAttr);
  const hash = HASHES[si.digestAlgorithm.oid];
  if (!hash) return tsFail('unsupported-hash', 'unsupported digest algorithm');
  let expected: Uint8Array | null = null;
  try {
    if (md instanceof Uint8Array) expected = contentBytes(md, readWhole(md, TAG.OCTET_STRING));
  } catch {
    expected = null;
  }
  if (expected === null) return tsFail('signed-attributes', 'invalid message digest');
  if (!bytesEqual(expected, createHash(hash).update(token.content).digest())) return tsFail('signed-attributes', 'mismatch message digest');

  const st = attribute(si, OIDS.signingTimeAttr);
  if (st === 'multiple') return tsFail('signed-attributes', 'invalid signing time');
  if (st !== null) {
    const when = signingTime(st);
    if (when === null) return tsFail('signed-attributes', 'invalid signing time');
    if (chain.some((c) => when < c.notBefore || when > c.notAfter)) {
      return tsFail('signed-attributes', `signing time, ${when.toISOString()}, is outside certificate's validity period`);
    }
  }
  return null;
}

/** RFC 5652 § 11.3 SigningTime: UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
function signingTime(der: Uint8Array): Date | null {
  try {
    const tlv = readWhole(der);
    const text = Buffer.from(contentBytes(der, tlv)).toString('latin1');
    const m = tlv.id === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : tlv.id === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
    if (!m) return null;
    const year = tlv.id === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
    return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  } catch {
    return null;
  }
}
