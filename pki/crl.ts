/**
 * Certificate revocation lists (RFC 5280 § 5): a typed view of a DER or PEM CRL, parsed with the DER reader
 * (skeleton, entries — a CRL can hold hundreds of thousands of entries — and the entry extensions: reason code and
 * invalidity date, no schema library, issue #16). Verification and serial lookup follow notation-core-go; see crl-check.ts, re-exported
 * here. Pure: fetching CRLs (and following FreshestCRL pointers) is the caller's job.
 */
import { integerValue, splitExtensions } from './certificate.ts';
import { childrenOf, contentBytes, decodeAlgorithm, decodeSmallInteger, decodeTime, DerError, encodedBytes, readWhole, TAG } from './der.ts';
import type { Tlv } from './der.ts';
import type { RawExtension } from './extensions.ts';
import { parseName } from './names.ts';
import type { DistinguishedName } from './names.ts';
import type { AlgorithmId } from './signature.ts';
import { CodedError } from '../errors/coded-error.ts';

export type CrlErrorCode =
  | 'malformed-crl'
  | 'crl-too-large'
  | 'crl-issuer-mismatch'
  | 'crl-signature'
  | 'crl-no-next-update'
  | 'crl-expired'
  | 'crl-not-yet-valid'
  | 'crl-unsupported-critical-extension'
  | 'crl-not-delta';

export class CrlParseError extends CodedError<'malformed-crl' | 'crl-too-large'> {
  override readonly name = 'CrlParseError';
}

export const CRL_REASONS = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
] as const;
export type CrlReason = (typeof CRL_REASONS)[number];

export interface RevokedEntry {
  readonly serialNumber: bigint;
  readonly revocationDate: Date;
  readonly reasonCode: number | null;
  readonly invalidityDate: Date | null;
  readonly extensions: readonly RawExtension[];
}

export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly signatureAlgorithm: AlgorithmId;
  readonly signature: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly crlNumber: bigint | null;
  /** baseCRLNumber of the deltaCRLIndicator extension: non-null means this is a delta CRL (§ 5.2.4). */
  readonly deltaOf: bigint | null;
  readonly extensions: readonly RawExtension[];
  /** Revoked entries keyed by serial (decimal string). */
  readonly entries: ReadonlyMap<string, readonly RevokedEntry[]>;
}

/** notation-core-go's download limit. */
export const MAX_CRL_BYTES = 32 * 1024 * 1024;
const OID_CRL_NUMBER = '2.5.29.20';
const OID_DELTA_INDICATOR = '2.5.29.27';
const OID_REASON = '2.5.29.21';
const OID_INVALIDITY = '2.5.29.24';

/** Parses a DER or PEM ("X509 CRL") CRL. Throws `CrlParseError`. */
export function parseCrl(data: Uint8Array | string): Crl {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength > MAX_CRL_BYTES) throw new CrlParseError('crl-too-large', `CRL size exceeds the limit: ${MAX_CRL_BYTES}`);
  let der: Uint8Array = bytes;
  if (bytes.includes('-----BEGIN X509 CRL-----')) {
    const pem = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*)-----END X509 CRL-----/.exec(bytes.toString('latin1'));
    if (!pem) throw new CrlParseError('malformed-crl', 'x509: malformed crl: bad PEM block');
    der = Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
  }
  try {
    return build(new Uint8Array(der));
  } catch (err) {
    throw new CrlParseError('malformed-crl', `x509: malformed crl: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function integerExtension(ext: RawExtension | undefined): bigint | null {
  if (!ext) return null;
  const tlv = readWhole(ext.value, TAG.INTEGER);
  return integerValue(contentBytes(ext.value, tlv));
}

/**
 * CRLReason ::= ENUMERATED (RFC 5280 § 5.3.1), any value: codes outside the list (7 is unused) are kept and named
 * by nobody (crl-check.ts `reasonName`), as before. Minimal DER encoding, no trailing bytes.
 */
export function decodeCrlReason(value: Uint8Array): number {
  return decodeSmallInteger(value, readWhole(value, TAG.ENUMERATED), TAG.ENUMERATED);
}

/** InvalidityDate ::= GeneralizedTime (RFC 5280 § 5.3.2); a UTCTime here is the wrong tag and refused. */
export function decodeInvalidityDate(value: Uint8Array): Date {
  return decodeTime(value, readWhole(value, TAG.GENERALIZED_TIME));
}

function revokedEntry(der: Uint8Array, tlv: Tlv): RevokedEntry {
  // SEQUENCE { userCertificate CertificateSerialNumber, revocationDate Time, crlEntryExtensions Extensions OPTIONAL }
  if (tlv.id !== TAG.SEQUENCE) throw new DerError('revoked entry is not a SEQUENCE');
  const [serial, date, exts, extra] = childrenOf(der, tlv, 4);
  if (!serial || serial.id !== TAG.INTEGER || !date || extra) throw new DerError('malformed revoked entry');
  const extensions = exts ? splitExtensions(der, exts) : [];
  const reason = extensions.find((e) => e.oid === OID_REASON);
  const invalidity = extensions.find((e) => e.oid === OID_INVALIDITY);
  return {
    serialNumber: integerValue(contentBytes(der, serial)),
    revocationDate: decodeTime(der, date),
    reasonCode: reason ? decodeCrlReason(reason.value) : null,
    invalidityDate: invalidity ? decodeInvalidityDate(invalidity.value) : null,
    extensions,
  };
}

function build(der: Uint8Array): Crl {
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue } (RFC 5280 § 5.1)
  const outer = readWhole(der, TAG.SEQUENCE);
  const parts = childrenOf(der, outer, 4);
  if (parts.length !== 3 || parts[0]!.id !== TAG.SEQUENCE || parts[2]!.id !== TAG.BIT_STRING) throw new DerError('CRL is not a 3-element SEQUENCE');
  const fields = childrenOf(der, parts[0]!, 8);
  let i = 0;
  if (fields[0]?.id === TAG.INTEGER) {
    if (der[fields[0].contentStart] !== 1 || fields[0].end - fields[0].contentStart !== 1) throw new DerError('unsupported CRL version');
    i++;
  }
  const [algTlv, issuerTlv, thisTlv] = [fields[i], fields[i + 1], fields[i + 2]];
  if (!algTlv || !issuerTlv || issuerTlv.id !== TAG.SEQUENCE || !thisTlv) throw new DerError('truncated TBSCertList');
  i += 3;
  let nextUpdate: Date | null = null;
  if (fields[i] && (fields[i]!.id === 0x17 || fields[i]!.id === 0x18)) nextUpdate = decodeTime(der, fields[i++]!);
  const entries = new Map<string, RevokedEntry[]>();
  if (fields[i]?.id === TAG.SEQUENCE) {
    for (const e of childrenOf(der, fields[i++]!, 10_000_000)) {
      const entry = revokedEntry(der, e);
      const key = entry.serialNumber.toString();
      const list = entries.get(key);
      if (list) list.push(entry);
      else entries.set(key, [entry]);
    }
  }
  let extensions: RawExtension[] = [];
  if (fields[i]?.id === 0xa0) {
    const seq = childrenOf(der, fields[i++]!, 2);
    if (seq.length !== 1) throw new DerError('malformed crlExtensions');
    extensions = splitExtensions(der, seq[0]!);
  }
  if (fields[i]) throw new DerError('unexpected TBSCertList field');
  const signatureAlgorithm = decodeAlgorithm(der, parts[1]!);
  if (decodeAlgorithm(der, algTlv).oid !== signatureAlgorithm.oid) throw new DerError('inner and outer signature algorithms differ');
  const sig = parts[2]!;
  if (sig.end === sig.contentStart || der[sig.contentStart] !== 0) throw new DerError('malformed signature BIT STRING');
  return {
    der,
    tbs: encodedBytes(der, parts[0]!),
    issuer: parseName(encodedBytes(der, issuerTlv)),
    signatureAlgorithm,
    signature: der.subarray(sig.contentStart + 1, sig.end),
    thisUpdate: decodeTime(der, thisTlv),
    nextUpdate,
    crlNumber: integerExtension(extensions.find((e) => e.oid === OID_CRL_NUMBER)),
    deltaOf: integerExtension(extensions.find((e) => e.oid === OID_DELTA_INDICATOR)),
    extensions,
    entries,
  };
}

export { checkCertificateAgainstCrl, lookupSerial, verifyCrl } from './crl-check.ts';
export type { CrlCheck, RevocationStatus } from './crl-check.ts';
