/**
 * OCSP (RFC 6960) as a pure primitive: building an OCSPRequest for one certificate (§ 4.1) and parsing an
 * OCSPResponse carrying a BasicOCSPResponse (§ 4.2). Verifying a parsed response against the certificate and its
 * issuer (signer, CertID, freshness, status) is in ocsp-check.ts, re-exported here. No I/O and no clock: sending
 * the request is an OcspSource's job (oci/discovery/fetcher.ts), the time is the caller's `now`.
 *
 * The response skeleton (tbsResponseData, signature, certs) is walked with the DER reader so the signed bytes are
 * the exact received ones; the ResponseData inside is decoded with @peculiar/asn1-ocsp. Sizes are bounded:
 * notation-core-go reads at most 20 KiB of a response; certificates and single responses are capped too.
 */
import { createHash } from 'node:crypto';
import { CertID, OCSPRequest, OCSPResponse, Request, ResponseData, TBSRequest, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { parseCertificate } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { childrenOf, contentBytes, decodeAlgorithm, encodedBytes, readWhole, TAG, toArrayBuffer } from './der.ts';
import { X509ParseError } from './errors.ts';
import { MAX_OCSP_RESPONSE_BYTES, OcspError } from './ocsp-errors.ts';
import type { AlgorithmId } from './signature.ts';

export { checkOcspResponse, verifyOcspResponse } from './ocsp-check.ts';
export type { OcspCheck, OcspCheckOptions, OcspStatus } from './ocsp-check.ts';
export { MAX_OCSP_RESPONSE_BYTES, OcspError } from './ocsp-errors.ts';
export type { OcspErrorCode } from './ocsp-errors.ts';

const MAX_RESPONSE_CERTS = 4;
const MAX_SINGLE_RESPONSES = 64;

export type OcspHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const OCSP_HASH_OIDS: Readonly<Record<OcspHash, string>> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

/** ResponderID (§ 4.2.1): the responder's subject DER, or the SHA-1 of its public key bits. */
export type ResponderId = { readonly byName: Uint8Array } | { readonly byKey: Uint8Array };

export interface BasicOcspResponse {
  readonly der: Uint8Array;
  /** DER of tbsResponseData: the bytes the responder signed. */
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmId;
  readonly signature: Uint8Array;
  readonly responderId: ResponderId;
  readonly data: ResponseData;
  /** Certificates the responder included to help verify its signature (§ 4.2.1 `certs`). */
  readonly certs: readonly Certificate[];
}

/** The subjectPublicKey BIT STRING value (without the unused-bits octet) of a certificate, for key hashes. */
export function publicKeyBits(cert: Certificate): Uint8Array {
  const spki = cert.publicKey.spki;
  const key = childrenOf(spki, readWhole(spki, TAG.SEQUENCE), 3)[1];
  if (!key || key.id !== TAG.BIT_STRING || key.end === key.contentStart) throw new X509ParseError('malformed', 'malformed subjectPublicKey');
  return spki.subarray(key.contentStart + 1, key.end);
}

/** CertID fields (§ 4.1.1): hashes of the issuer's name (the certificate's issuer field) and key, and the serial. */
export function certIdHashes(cert: Certificate, issuer: Certificate, hash: OcspHash): { readonly nameHash: Uint8Array; readonly keyHash: Uint8Array } {
  return {
    nameHash: createHash(hash).update(cert.issuer.der).digest(),
    keyHash: createHash(hash).update(publicKeyBits(issuer)).digest(),
  };
}

/** Two's-complement content octets of a non-negative INTEGER (DER minimal). */
function serialBytes(serial: bigint): Uint8Array {
  let h = serial.toString(16);
  if (h.length % 2) h = `0${h}`;
  if (parseInt(h.slice(0, 2), 16) & 0x80) h = `00${h}`;
  return Buffer.from(h, 'hex');
}

/** A DER OCSPRequest (§ 4.1.1) for one certificate, unsigned and without a nonce (as notation sends it). */
export function buildOcspRequest(cert: Certificate, issuer: Certificate, options: { readonly hash?: OcspHash } = {}): Uint8Array {
  const hash = options.hash ?? 'sha256';
  if (!(hash in OCSP_HASH_OIDS)) throw new OcspError('ocsp-request', `unsupported CertID hash ${String(hash)}`);
  let hashes;
  try {
    hashes = certIdHashes(cert, issuer, hash);
  } catch (err) {
    throw new OcspError('ocsp-request', `cannot hash the issuer key: ${(err as Error).message}`);
  }
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OCSP_HASH_OIDS[hash], parameters: toArrayBuffer(Uint8Array.of(TAG.NULL, 0)) }),
    issuerNameHash: new OctetString(hashes.nameHash),
    issuerKeyHash: new OctetString(hashes.keyHash),
    serialNumber: toArrayBuffer(serialBytes(cert.serialNumber)),
  });
  const request = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert })] }) });
  return new Uint8Array(AsnConvert.serialize(request));
}

/**
 * Parses an OCSPResponse (§ 4.2.1). Throws `OcspError`: 'ocsp-too-large', 'ocsp-malformed', 'ocsp-unsuccessful'
 * (malformedRequest, internalError, tryLater, sigRequired, unauthorized), 'ocsp-unsupported-type'.
 */
export function parseOcspResponse(bytes: Uint8Array): BasicOcspResponse {
  if (bytes.byteLength > MAX_OCSP_RESPONSE_BYTES) throw new OcspError('ocsp-too-large', `OCSP response exceeds ${MAX_OCSP_RESPONSE_BYTES} bytes`);
  const der = new Uint8Array(bytes);
  let outer: OCSPResponse;
  try {
    readWhole(der, TAG.SEQUENCE);
    outer = AsnConvert.parse(toArrayBuffer(der), OCSPResponse);
  } catch (err) {
    throw malformed(err);
  }
  if (outer.responseStatus !== 0) throw new OcspError('ocsp-unsuccessful', `OCSP response status ${STATUS_NAMES[outer.responseStatus] ?? outer.responseStatus}`);
  if (!outer.responseBytes) throw new OcspError('ocsp-malformed', 'successful OCSP response without responseBytes');
  if (outer.responseBytes.responseType !== id_pkix_ocsp_basic) throw new OcspError('ocsp-unsupported-type', `unsupported OCSP response type ${outer.responseBytes.responseType}`);
  try {
    return parseBasic(new Uint8Array(outer.responseBytes.response.buffer));
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw malformed(err);
  }
}

const STATUS_NAMES: Readonly<Record<number, string>> = { 1: 'malformedRequest', 2: 'internalError', 3: 'tryLater', 5: 'sigRequired', 6: 'unauthorized' };

function malformed(err: unknown): OcspError {
  return new OcspError('ocsp-malformed', `malformed OCSP response: ${err instanceof Error ? err.message : String(err)}`);
}

/** BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT … OPTIONAL } */
function parseBasic(der: Uint8Array): BasicOcspResponse {
  const parts = childrenOf(der, readWhole(der, TAG.SEQUENCE), 5);
  const [tbsTlv, algTlv, sigTlv, certsTlv] = parts;
  if (!tbsTlv || !algTlv || !sigTlv || parts.length > 4 || tbsTlv.id !== TAG.SEQUENCE) throw new OcspError('ocsp-malformed', 'malformed BasicOCSPResponse');
  if (sigTlv.id !== TAG.BIT_STRING || sigTlv.end === sigTlv.contentStart || der[sigTlv.contentStart] !== 0) throw new OcspError('ocsp-malformed', 'malformed signature BIT STRING');
  const certs: Certificate[] = [];
  if (certsTlv) {
    if (certsTlv.id !== 0xa0) throw new OcspError('ocsp-malformed', 'malformed certs field');
    const [seq, extra] = childrenOf(der, certsTlv, 2);
    if (!seq || extra || seq.id !== TAG.SEQUENCE) throw new OcspError('ocsp-malformed', 'malformed certs field');
    const list = childrenOf(der, seq, MAX_RESPONSE_CERTS + 1);
    if (list.length > MAX_RESPONSE_CERTS) throw new OcspError('ocsp-too-large', `more than ${MAX_RESPONSE_CERTS} certificates in the OCSP response`);
    for (const c of list) certs.push(parseCertificate(encodedBytes(der, c)));
  }
  const tbs = encodedBytes(der, tbsTlv);
  // ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID, producedAt, responses, [1] exts }
  const fields = childrenOf(der, tbsTlv, 6);
  const idTlv = fields[0]?.id === 0xa0 ? fields[1] : fields[0];
  if (!idTlv || (idTlv.id !== 0xa1 && idTlv.id !== 0xa2)) throw new OcspError('ocsp-malformed', 'malformed ResponderID');
  const [inner, more] = childrenOf(der, idTlv, 2);
  if (!inner || more) throw new OcspError('ocsp-malformed', 'malformed ResponderID');
  let responderId: ResponderId;
  if (idTlv.id === 0xa1 && inner.id === TAG.SEQUENCE) responderId = { byName: encodedBytes(der, inner) };
  else if (idTlv.id === 0xa2 && inner.id === TAG.OCTET_STRING) responderId = { byKey: contentBytes(der, inner) };
  else throw new OcspError('ocsp-malformed', 'malformed ResponderID');
  const responses = fields.find((f, i) => i > 0 && f.id === TAG.SEQUENCE && f !== idTlv);
  if (responses && childrenOf(der, responses, MAX_SINGLE_RESPONSES + 1).length > MAX_SINGLE_RESPONSES) {
    throw new OcspError('ocsp-too-large', `more than ${MAX_SINGLE_RESPONSES} single responses`);
  }
  const data = AsnConvert.parse(toArrayBuffer(tbs), ResponseData);
  if (data.version !== 0) throw new OcspError('ocsp-malformed', `unsupported ResponseData version ${data.version}`);
  return {
    der,
    tbs,
    signatureAlgorithm: decodeAlgorithm(der, algTlv),
    signature: der.subarray(sigTlv.contentStart + 1, sigTlv.end),
    responderId,
    data,
    certs,
  };
}
