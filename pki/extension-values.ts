/**
 * Decoders for the values (extnValue contents) of the certificate extensions that extensions.ts honours or reports:
 * Key Usage, Extended Key Usage, Basic Constraints, Subject Key Identifier and Authority Information Access
 * (RFC 5280 § 4.2.1.3, § 4.2.1.12, § 4.2.1.9, § 4.2.1.2, § 4.2.2.1), on the DER reader. They replace
 * @peculiar/asn1-x509 here: its schema classes run their decorators when the module loads, which cost
 * `pullgate serve` about 2 MiB of heap at start (issue #16) for five structures of a few octets each.
 *
 * Strict DER: one element spanning the whole value (no trailing bytes), the tags RFC 5280 gives, minimal integers,
 * DER booleans. Every list is bounded. Each function throws `DerError`; extensions.ts turns that into a malformed
 * certificate, as a decoding error from the schema library did.
 */
import { childrenOf, contentBytes, decodeBoolean, decodeOid, decodeSmallInteger, DerError, readWhole, TAG } from './der.ts';
import type { Tlv } from './der.ts';

/** More than any real certificate carries; a certificate is at most 64 KiB anyway (errors.ts LIMITS). */
export const MAX_EKU_PURPOSES = 100;
export const MAX_ACCESS_DESCRIPTIONS = 100;
/**
 * pathLenConstraint above 2^23 − 1 is refused: @peculiar/asn1-schema handed integers of four or more octets back as
 * strings, which extensions.ts refused, and no chain is longer than errors.ts LIMITS.chainLength anyway.
 */
const MAX_PATH_LEN = 0x7f_ffff;
/** Elements inside one non-URI GeneralName that `wellFormed` walks. */
const MAX_NAME_ELEMENTS = 1000;
/** Value octets of a KeyUsage BIT STRING: 9 named bits need 2; 4 keeps every bit position a 32-bit flag. */
const MAX_KEY_USAGE_OCTETS = 4;

/**
 * KeyUsage ::= BIT STRING (§ 4.2.1.3) as flags: bit n of the BIT STRING (n = 0 is the first octet's most
 * significant bit, digitalSignature) is 2^n — the numbering of extensions.ts `KU` and of Go's `x509.KeyUsage`,
 * and what @peculiar/asn1-schema's `BitString.toNumber()` gave before. A BIT STRING with no value octets yields
 * NaN, as `toNumber()` did (parseInt of no digits): § 4.2.1.3 says at least one bit MUST be set, and NaN keeps
 * every use of such a certificate failing (NaN & bit is 0; NaN !== 0 makes issuance.ts refuse it as an issuer).
 */
export function decodeKeyUsage(value: Uint8Array): number {
  const tlv = readWhole(value, TAG.BIT_STRING);
  const content = contentBytes(value, tlv);
  if (content.length === 0) throw new DerError('empty BIT STRING');
  const unused = content[0]!;
  const octets = content.length - 1;
  if (unused > 7 || (octets === 0 && unused !== 0)) throw new DerError('invalid padding bits in BIT STRING');
  if (octets === 0) return Number.NaN;
  if (octets > MAX_KEY_USAGE_OCTETS) throw new DerError(`key usage BIT STRING longer than ${MAX_KEY_USAGE_OCTETS} octets`);
  // X.690 § 11.2.1: the unused bits of the last octet are zero in DER (Go's encoding/asn1 checks it too).
  if ((content[octets]! & ((1 << unused) - 1)) !== 0) throw new DerError('invalid padding bits in BIT STRING');
  let flags = 0;
  for (let n = 0; n < octets * 8 - unused; n++) {
    if ((content[1 + (n >> 3)]! & (0x80 >> (n & 7))) !== 0) flags += 2 ** n;
  }
  return flags;
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (§ 4.2.1.12). Empty is accepted, as Go does. */
export function decodeExtKeyUsage(value: Uint8Array): string[] {
  const seq = readWhole(value, TAG.SEQUENCE);
  return childrenOf(value, seq, MAX_EKU_PURPOSES).map((oid) => {
    if (oid.id !== TAG.OID) throw new DerError('KeyPurposeId is not an OBJECT IDENTIFIER');
    return decodeOid(contentBytes(value, oid));
  });
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
 * (§ 4.2.1.9). An explicitly encoded cA FALSE is not DER (X.690 § 11.5) but is accepted, as before and as Go
 * does: certificates in the field carry it.
 */
export function decodeBasicConstraints(value: Uint8Array): { ca: boolean; pathLen: number | null } {
  const seq = readWhole(value, TAG.SEQUENCE);
  const fields = childrenOf(value, seq, 2);
  let i = 0;
  let ca = false;
  if (fields[i]?.id === TAG.BOOLEAN) ca = decodeBoolean(value, fields[i++]!);
  let pathLen: number | null = null;
  if (fields[i]?.id === TAG.INTEGER) {
    pathLen = decodeSmallInteger(value, fields[i++]!);
    if (pathLen < 0 || pathLen > MAX_PATH_LEN) throw new DerError('pathLenConstraint out of range');
  }
  if (i !== fields.length) throw new DerError('malformed BasicConstraints');
  return { ca, pathLen };
}

/** SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (§ 4.2.1.2). A view into `value`, not a copy. */
export function decodeSubjectKeyIdentifier(value: Uint8Array): Uint8Array {
  return contentBytes(value, readWhole(value, TAG.OCTET_STRING));
}

/**
 * Checks that every TLV nested in a constructed element is well formed (lengths consistent, DER headers), without
 * decoding what the types are: the non-URI GeneralNames of an AIA entry are skipped, but the schema library used to
 * parse them, so malformed nesting inside them still makes the extension malformed. Iterative and bounded.
 */
function wellFormed(buf: Uint8Array, tlv: Tlv): void {
  const stack = [tlv];
  let seen = 0;
  while (stack.length > 0) {
    const t = stack.pop()!;
    if ((t.id & 0x20) === 0) continue;
    for (const child of childrenOf(buf, t, MAX_NAME_ELEMENTS)) {
      if (++seen > MAX_NAME_ELEMENTS) throw new DerError('GeneralName too complex');
      stack.push(child);
    }
  }
}

/** GeneralName alternatives (§ 4.2.1.6) by identifier octet: [0] [3] [4] [5] are constructed, the rest primitive. */
const GENERAL_NAME_IDS = new Set([0xa0, 0x81, 0x82, 0xa3, 0xa4, 0xa5, 0x86, 0x87, 0x88]);
const URI = 0x86; // uniformResourceIdentifier [6] IMPLICIT IA5String

export interface AccessDescription {
  readonly method: string;
  /** The location when it is a URI; other GeneralName forms are skipped by every caller, so they come back null. */
  readonly uri: string | null;
}

/**
 * AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription, AccessDescription ::= SEQUENCE
 * { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName } (§ 4.2.2.1). URIs are read as latin1, like the
 * CRL distribution point URIs (extensions.ts), so any octet maps to one character and never fails.
 */
export function decodeAuthorityInfoAccess(value: Uint8Array): AccessDescription[] {
  const seq = readWhole(value, TAG.SEQUENCE);
  return childrenOf(value, seq, MAX_ACCESS_DESCRIPTIONS).map((ad: Tlv) => {
    if (ad.id !== TAG.SEQUENCE) throw new DerError('AccessDescription is not a SEQUENCE');
    const parts = childrenOf(value, ad, 2);
    const [method, location] = parts;
    if (parts.length !== 2 || method!.id !== TAG.OID || !GENERAL_NAME_IDS.has(location!.id)) throw new DerError('malformed AccessDescription');
    if (location!.id !== URI) {
      wellFormed(value, location!);
      if (location!.id === 0xa0) {
        // otherName [0] IMPLICIT SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY } (§ 4.2.1.6)
        const [typeId, inner, extra] = childrenOf(value, location!, 3);
        if (typeId?.id !== TAG.OID || inner?.id !== 0xa0 || extra || childrenOf(value, inner, 2).length !== 1) throw new DerError('malformed otherName');
      } else if (location!.id === 0xa4) {
        // directoryName [4] EXPLICIT Name, and Name ::= CHOICE { rdnSequence SEQUENCE OF … } (§ 4.1.2.4)
        const inner = childrenOf(value, location!, 2);
        if (inner.length !== 1 || inner[0]!.id !== TAG.SEQUENCE) throw new DerError('malformed directoryName');
      }
      return { method: decodeOid(contentBytes(value, method!)), uri: null };
    }
    const uri = Buffer.from(contentBytes(value, location!)).toString('latin1');
    return { method: decodeOid(contentBytes(value, method!)), uri };
  });
}
