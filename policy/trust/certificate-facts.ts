/**
 * The facts about a certificate that the trust store rules and identity matching need, read from its DER the
 * way Go's crypto/x509 reads them (notation-go runs on it): version, raw issuer/subject, basic constraints,
 * key usage bits, the signature algorithm, and the subject's attributes decoded with Go's string rules (an
 * unsupported or invalid string type makes Go refuse the whole certificate, so it does here too).
 * RFC 5280 § 4.1 for the structure.
 */
import { DerError, DerReader, TAG, oidText, readOnly } from './der.ts';

export interface SubjectAttribute {
  readonly oid: string;
  readonly value: string;
}

export interface CertificateFacts {
  /** 1, 2 or 3 (Go's numbering: the DER field plus one). */
  readonly version: number;
  readonly rawIssuer: Uint8Array;
  readonly rawSubject: Uint8Array;
  /** Every attribute of every RDN, in DER order (Go's pkix.Name.Names). */
  readonly subjectAttributes: readonly SubjectAttribute[];
  readonly issuerAttributes: readonly SubjectAttribute[];
  /** OID of the outer signatureAlgorithm. */
  readonly signatureAlgorithm: string;
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** Go's x509.KeyUsage bits (bit i = KeyUsage bit i of RFC 5280 § 4.2.1.3); 0 when absent. */
  readonly keyUsage: number;
}

export const KEY_USAGE_CERT_SIGN = 1 << 5;

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';

/** Go x509 isPrintable: PrintableString plus `*` and `&`, which real certificates contain. */
function isGoPrintable(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || (b >= 0x27 && b <= 0x29) ||
    (b >= 0x2b && b <= 0x2f) || b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f || b === 0x2a || b === 0x26;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Go crypto/x509 parseASN1String. */
function attributeString(tag: number, v: Uint8Array): string {
  switch (tag) {
    case TAG.T61_STRING:
      return Array.from(v, (b) => String.fromCharCode(b)).join(''); // read as Latin-1, as Go and BoringSSL do
    case TAG.PRINTABLE_STRING:
      if (!v.every(isGoPrintable)) throw new DerError('invalid PrintableString');
      return Buffer.from(v).toString('latin1');
    case TAG.UTF8_STRING:
      try {
        return strictUtf8.decode(v);
      } catch {
        throw new DerError('invalid UTF-8 string');
      }
    case TAG.BMP_STRING: {
      if (v.length % 2 !== 0) throw new DerError('invalid BMPString');
      let end = v.length;
      if (end >= 2 && v[end - 1] === 0 && v[end - 2] === 0) end -= 2;
      let s = '';
      for (let i = 0; i < end; i += 2) {
        const point = ((v[i] as number) << 8) | (v[i + 1] as number);
        if (point === 0xfffe || point === 0xffff || (point >= 0xfdd0 && point <= 0xfdef) || (point >= 0xd800 && point <= 0xdfff)) {
          throw new DerError('invalid BMPString');
        }
        s += String.fromCharCode(point);
      }
      return s;
    }
    case TAG.IA5_STRING:
      if (!v.every((b) => b < 0x80)) throw new DerError('invalid IA5String');
      return Buffer.from(v).toString('latin1');
    case TAG.NUMERIC_STRING:
      if (!v.every((b) => (b >= 0x30 && b <= 0x39) || b === 0x20)) throw new DerError('invalid NumericString');
      return Buffer.from(v).toString('latin1');
    default:
      throw new DerError(`unsupported string type: ${tag}`);
  }
}

function readName(name: Uint8Array): SubjectAttribute[] {
  const attributes: SubjectAttribute[] = [];
  const rdns = new DerReader(name);
  while (!rdns.done) {
    const set = new DerReader(rdns.read(TAG.SET).value);
    while (!set.done) {
      const atv = new DerReader(set.read(TAG.SEQUENCE).value);
      const oid = oidText(atv.read(TAG.OID).value);
      const value = atv.read();
      attributes.push({ oid, value: attributeString(value.tag, value.value) });
      if (!atv.done) throw new DerError('trailing data in attribute');
    }
  }
  return attributes;
}

/** Go's BitString.At over the KeyUsage BIT STRING, first 9 bits. */
function keyUsageBits(bitString: Uint8Array): number {
  if (bitString.length === 0) throw new DerError('empty key usage');
  let usage = 0;
  const bitLength = (bitString.length - 1) * 8 - (bitString[0] as number);
  for (let i = 0; i < 9 && i < bitLength; i++) {
    if (((bitString[1 + (i >> 3)] as number) >> (7 - (i & 7))) & 1) usage |= 1 << i;
  }
  return usage;
}

/** Reads one DER certificate. Throws DerError when Go's parser would refuse it. */
export function readCertificateFacts(der: Uint8Array): CertificateFacts {
  const cert = new DerReader(readOnly(der, TAG.SEQUENCE).value);
  const tbs = new DerReader(cert.read(TAG.SEQUENCE).value);
  const signatureAlgorithm = oidText(new DerReader(cert.read(TAG.SEQUENCE).value).read(TAG.OID).value);
  cert.read(TAG.BIT_STRING);
  if (!cert.done) throw new DerError('trailing data in certificate');

  const explicitVersion = tbs.optional(0xa0);
  const version = explicitVersion === undefined ? 1 : (readOnly(explicitVersion.value, TAG.INTEGER).value[0] ?? 0) + 1;
  if (version < 1 || version > 3) throw new DerError('invalid version');
  tbs.read(TAG.INTEGER); // serialNumber
  tbs.read(TAG.SEQUENCE); // signature
  const issuer = tbs.read(TAG.SEQUENCE);
  tbs.read(TAG.SEQUENCE); // validity
  const subject = tbs.read(TAG.SEQUENCE);
  tbs.read(TAG.SEQUENCE); // subjectPublicKeyInfo
  tbs.optional(0x81); // issuerUniqueID
  tbs.optional(0x82); // subjectUniqueID
  const extensions = tbs.optional(0xa3);

  let basicConstraintsValid = false;
  let isCA = false;
  let keyUsage = 0;
  if (extensions !== undefined) {
    const seen = new Set<string>();
    const list = new DerReader(readOnly(extensions.value, TAG.SEQUENCE).value);
    while (!list.done) {
      const ext = new DerReader(list.read(TAG.SEQUENCE).value);
      const id = oidText(ext.read(TAG.OID).value);
      if (seen.has(id)) throw new DerError('certificate contains duplicate extensions');
      seen.add(id);
      ext.optional(TAG.BOOLEAN); // critical
      const value = ext.read(TAG.OCTET_STRING).value;
      if (id === OID_BASIC_CONSTRAINTS) {
        const bc = new DerReader(readOnly(value, TAG.SEQUENCE).value);
        const ca = bc.optional(TAG.BOOLEAN);
        basicConstraintsValid = true;
        isCA = ca !== undefined && ca.value[0] !== 0;
      } else if (id === OID_KEY_USAGE) {
        keyUsage = keyUsageBits(readOnly(value, TAG.BIT_STRING).value);
      }
    }
  }
  return {
    version,
    rawIssuer: issuer.raw,
    rawSubject: subject.raw,
    subjectAttributes: readName(subject.value),
    issuerAttributes: readName(issuer.value),
    signatureAlgorithm,
    basicConstraintsValid,
    isCA,
    keyUsage,
  };
}
