/**
 * RFC 3161 § 2.4.2 TimeStampToken: a CMS ContentInfo (RFC 5652 § 3) of type id-signedData whose
 * encapsulated content is a DER TSTInfo. Parsed structurally, without any verification, into a view holding the
 * exact bytes verification needs (eContent, each embedded certificate, each SignerInfo's SignedAttributes).
 *
 * Like tspclient-go, only SignedData version 3 and certificates of the plain `Certificate` CHOICE are accepted.
 * Unlike tspclient-go, BER (indefinite lengths) is not converted: the token must be DER, as RFC 3161 § 2.4.2
 * requires for TSTInfo and as every real TSA emits.
 */
import { parseCertificate } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { integerValue } from '../../../pki/certificate.ts';
import { childrenOf, contentBytes, decodeAlgorithm, decodeOid, DerError, encodedBytes, encodeHeader, readTlv, readWhole, TAG } from '../../../pki/der.ts';
import type { Tlv } from '../../../pki/der.ts';
import type { AlgorithmId } from '../../../pki/signature.ts';
import { X509ParseError } from '../../../pki/errors.ts';
import { OIDS, TIMESTAMP_LIMITS, TimestampParseError } from './errors.ts';

export interface CmsAttribute {
  readonly oid: string;
  /** DER of each AttributeValue. */
  readonly values: readonly Uint8Array[];
}

export interface SignerInfoView {
  readonly version: number;
  /** IssuerAndSerialNumber sid (version 1), or null for a subjectKeyIdentifier sid. */
  readonly sid: { readonly issuerDer: Uint8Array; readonly serialNumber: bigint } | null;
  readonly digestAlgorithm: AlgorithmId;
  readonly signedAttributes: readonly CmsAttribute[] | null;
  /** DER of SignedAttributes with the [0] IMPLICIT tag replaced by SET OF: the bytes the signature covers (§ 5.4). */
  readonly signedAttributesDer: Uint8Array | null;
  readonly signatureAlgorithm: AlgorithmId;
  readonly signature: Uint8Array;
}

export interface TimestampToken {
  readonly der: Uint8Array;
  readonly contentType: string;
  /** The eContent OCTET STRING value: DER TSTInfo. */
  readonly content: Uint8Array;
  readonly certificates: readonly Certificate[];
  readonly signerInfos: readonly SignerInfoView[];
}

/** Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } (RFC 5652 § 5.3). */
function attribute(buf: Uint8Array, tlv: Tlv): CmsAttribute {
  const [type, values, extra] = childrenOf(buf, tlv, 3);
  if (tlv.id !== TAG.SEQUENCE || !type || type.id !== TAG.OID || !values || values.id !== TAG.SET || extra) throw new DerError('malformed Attribute');
  return { oid: decodeOid(contentBytes(buf, type)), values: childrenOf(buf, values, 64).map((v) => encodedBytes(buf, v)) };
}

function smallInteger(buf: Uint8Array, tlv: Tlv | undefined): number {
  if (!tlv || tlv.id !== TAG.INTEGER || tlv.end - tlv.contentStart > 4) throw new DerError('expected a small INTEGER');
  return Number(integerValue(contentBytes(buf, tlv)));
}

function parseSignerInfo(buf: Uint8Array, tlv: Tlv): SignerInfoView {
  const f = childrenOf(buf, tlv, 8);
  const version = smallInteger(buf, f[0]);
  let sid: SignerInfoView['sid'] = null;
  const sidTlv = f[1];
  if (sidTlv?.id === TAG.SEQUENCE) {
    const [issuer, serial] = childrenOf(buf, sidTlv, 3);
    if (!issuer || issuer.id !== TAG.SEQUENCE || !serial || serial.id !== TAG.INTEGER) throw new DerError('bad IssuerAndSerialNumber');
    sid = { issuerDer: encodedBytes(buf, issuer), serialNumber: integerValue(contentBytes(buf, serial)) };
  } else if (sidTlv?.id !== 0x80) {
    throw new DerError('bad SignerIdentifier');
  }
  let i = 2;
  const digestTlv = f[i++];
  if (!digestTlv || digestTlv.id !== TAG.SEQUENCE) throw new DerError('bad digestAlgorithm');
  let signedAttributes: CmsAttribute[] | null = null;
  let signedAttributesDer: Uint8Array | null = null;
  if (f[i]?.id === 0xa0) {
    const attrsTlv = f[i++]!;
    const content = contentBytes(buf, attrsTlv);
    signedAttributesDer = Buffer.concat([encodeHeader(TAG.SET, content.length), content]);
    signedAttributes = childrenOf(buf, attrsTlv, 64).map((a) => attribute(buf, a));
  }
  const sigAlgTlv = f[i++];
  const sigTlv = f[i++];
  if (!sigAlgTlv || sigAlgTlv.id !== TAG.SEQUENCE || !sigTlv || sigTlv.id !== TAG.OCTET_STRING) throw new DerError('bad SignerInfo');
  if (f[i] && f[i]!.id !== 0xa1) throw new DerError('unexpected element in SignerInfo');
  return {
    version, sid, digestAlgorithm: decodeAlgorithm(buf, digestTlv), signedAttributes, signedAttributesDer,
    signatureAlgorithm: decodeAlgorithm(buf, sigAlgTlv), signature: contentBytes(buf, sigTlv),
  };
}

/** Parses a TimeStampToken. Throws `TimestampParseError`. */
export function parseTimestampToken(der: Uint8Array): TimestampToken {
  if (der.byteLength > TIMESTAMP_LIMITS.tokenBytes) throw new TimestampParseError('too-large', `timestamp token exceeds ${TIMESTAMP_LIMITS.tokenBytes} bytes`);
  const buf = new Uint8Array(der);
  try {
    const ci = childrenOf(buf, readWhole(buf, TAG.SEQUENCE), 3);
    if (ci.length !== 2 || ci[0]!.id !== TAG.OID || ci[1]!.id !== 0xa0) throw new DerError('bad ContentInfo');
    if (decodeOid(contentBytes(buf, ci[0]!)) !== OIDS.signedData) throw new DerError('cms: content type is not signed data');
    const sdWrapper = childrenOf(buf, ci[1]!, 2);
    if (sdWrapper.length !== 1 || sdWrapper[0]!.id !== TAG.SEQUENCE) throw new DerError('bad SignedData wrapper');
    const sd = childrenOf(buf, sdWrapper[0]!, 8);
    const version = smallInteger(buf, sd[0]);
    if (sd[1]?.id !== TAG.SET || sd[2]?.id !== TAG.SEQUENCE) throw new DerError('bad SignedData');
    if (version !== 3) throw new TimestampParseError('unsupported-version', `cms: syntax error: unsupported signed data version: got ${version}, want 3`);
    const eci = childrenOf(buf, sd[2], 3);
    if (eci[0]?.id !== TAG.OID) throw new DerError('bad EncapsulatedContentInfo');
    const contentType = decodeOid(contentBytes(buf, eci[0]));
    let content: Uint8Array = new Uint8Array(0);
    if (eci[1]) {
      if (eci[1].id !== 0xa0) throw new DerError('bad eContent');
      const octets = readTlv(buf, eci[1].contentStart, eci[1].end);
      if (octets.id !== TAG.OCTET_STRING || octets.end !== eci[1].end) throw new DerError('eContent is not a primitive OCTET STRING');
      content = contentBytes(buf, octets);
    }
    let next = 3;
    const certificates: Certificate[] = [];
    if (sd[next]?.id === 0xa0) {
      const certTlvs = childrenOf(buf, sd[next++]!, TIMESTAMP_LIMITS.certificates + 1);
      if (certTlvs.length > TIMESTAMP_LIMITS.certificates) throw new TimestampParseError('too-large', 'too many certificates in timestamp token');
      for (const c of certTlvs) {
        if (c.id !== TAG.SEQUENCE) throw new DerError('only X.509 certificates are supported in signed data');
        certificates.push(parseCertificate(encodedBytes(buf, c)));
      }
    }
    if (sd[next]?.id === 0xa1) next++; // crls: not used
    const infos = sd[next];
    if (!infos || infos.id !== TAG.SET || sd[next + 1]) throw new DerError('bad signerInfos');
    const signerTlvs = childrenOf(buf, infos, TIMESTAMP_LIMITS.signerInfos + 1);
    if (signerTlvs.length > TIMESTAMP_LIMITS.signerInfos) throw new TimestampParseError('too-large', 'too many signer infos');
    const signerInfos = signerTlvs.map((s) => {
      if (s.id !== TAG.SEQUENCE) throw new DerError('SignerInfo is not a SEQUENCE');
      return parseSignerInfo(buf, s);
    });
    if (contentType !== OIDS.tstInfo) {
      throw new TimestampParseError('content-type', `unexpected content type: ${contentType}. Expected to be id-ct-TSTInfo (${OIDS.tstInfo})`);
    }
    return { der: buf, contentType, content, certificates, signerInfos };
  } catch (err) {
    if (err instanceof TimestampParseError) throw err;
    const detail = err instanceof X509ParseError ? `failed to parse X.509 certificates from signed data: ${err.message}` : err instanceof Error ? err.message : String(err);
    throw new TimestampParseError('malformed-token', `cms: syntax error: invalid signed data: ${detail}`);
  }
}
