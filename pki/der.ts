/**
 * A minimal DER (X.690 § 8, § 10) TLV reader. It slices the exact encoded bytes that signatures and name
 * comparisons are computed over (TBSCertificate, issuer/subject Name, CMS SignedAttributes, embedded certificates):
 * a schema library that decodes into objects cannot give those back byte-for-byte. It also decodes the small
 * certificate and CRL structures (extension-values.ts, rsa-pss-params.ts, crl.ts), so that the certificate parser
 * loads no schema library (issue #16); OCSP and RFC 3161 still decode with @peculiar/asn1-schema.
 *
 * DER only: definite lengths in minimal form, single-byte tags. Everything is bounds-checked and iterative (no
 * recursion), so hostile input ends in a `DerError`, never a hang or an out-of-range read.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface Tlv {
  /** Identifier octet (class | constructed | tag number), e.g. 0x30 for SEQUENCE, 0xa0 for [0] constructed. */
  readonly id: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  IA5_STRING: 0x16,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the TLV starting at `offset`; it must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset < 0 || offset + 2 > limit || limit > buf.length) throw new DerError('truncated DER element');
  const id = buf[offset]!;
  if ((id & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  const first = buf[offset + 1]!;
  let pos = offset + 2;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // 0x80 is the BER indefinite form; more than 4 length octets would exceed any bound we accept anyway.
    if (count === 0) throw new DerError('indefinite length is not DER');
    if (count > 4) throw new DerError('DER length too large');
    if (pos + count > limit) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos + i]!;
    if (buf[pos] === 0 || length < 0x80) throw new DerError('non-minimal DER length');
    pos += count;
  }
  const end = pos + length;
  if (end > limit) throw new DerError('DER element overruns its container');
  return { id, start: offset, contentStart: pos, end };
}

/** Reads exactly one TLV that spans the whole of `buf` (no trailing bytes). */
export function readWhole(buf: Uint8Array, expectedId?: number): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new DerError('trailing data after DER element');
  if (expectedId !== undefined && tlv.id !== expectedId) throw new DerError(`unexpected DER tag 0x${tlv.id.toString(16)}`);
  return tlv;
}

/** The child TLVs of a constructed element, in order. */
export function childrenOf(buf: Uint8Array, parent: Tlv, max = 100_000): Tlv[] {
  if ((parent.id & 0x20) === 0) throw new DerError('primitive DER element has no children');
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    if (out.length >= max) throw new DerError('too many DER elements');
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The full encoding (header + content) of a TLV, without copying. */
export function encodedBytes(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

/** The content octets of a TLV, without copying. */
export function contentBytes(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.contentStart, tlv.end);
}

/**
 * A DER BOOLEAN (X.690 § 11.1: one content octet, FALSE = 0x00, TRUE = 0xFF — BER's other non-zero octets are
 * refused, as Go's encoding/asn1 does).
 */
export function decodeBoolean(buf: Uint8Array, tlv: Tlv): boolean {
  if (tlv.id !== TAG.BOOLEAN || tlv.end - tlv.contentStart !== 1) throw new DerError('malformed BOOLEAN');
  const b = buf[tlv.contentStart];
  if (b !== 0x00 && b !== 0xff) throw new DerError('BOOLEAN is not DER (0x00 or 0xff)');
  return b === 0xff;
}

/**
 * A small INTEGER or ENUMERATED (`id` names which) as a number: minimal two's complement (X.690 § 8.3.2, which
 * § 8.4 applies to ENUMERATED too) and within ±2^53, else a `DerError`. For counts, lengths and codes; serial
 * numbers and CRL numbers are arbitrary-size and go through bigint instead.
 */
export function decodeSmallInteger(buf: Uint8Array, tlv: Tlv, id: number = TAG.INTEGER): number {
  if (tlv.id !== id) throw new DerError(`unexpected DER tag 0x${tlv.id.toString(16)}`);
  const len = tlv.end - tlv.contentStart;
  if (len === 0) throw new DerError('empty INTEGER');
  if (len > 7) throw new DerError('INTEGER too large');
  const first = buf[tlv.contentStart]!;
  const second = buf[tlv.contentStart + 1];
  if (len > 1 && ((first === 0x00 && second! < 0x80) || (first === 0xff && second! >= 0x80))) throw new DerError('non-minimal INTEGER');
  let v = (first & 0x80) !== 0 ? first - 256 : first;
  for (let i = 1; i < len; i++) v = v * 256 + buf[tlv.contentStart + i]!;
  if (!Number.isSafeInteger(v)) throw new DerError('INTEGER too large');
  return v;
}

/** Dotted-decimal form of an OBJECT IDENTIFIER's content octets (X.690 § 8.19). */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0 || content.length > 128) throw new DerError('bad OID length');
  const arcs: (number | bigint)[] = [];
  let value = 0;
  let big: bigint | null = null; // arcs above 2^53 (UUID-based OIDs) continue in bigint
  for (let i = 0; i < content.length; i++) {
    const b = content[i]!;
    if (value === 0 && big === null && b === 0x80) throw new DerError('non-minimal OID arc');
    if (big !== null) big = (big << 7n) | BigInt(b & 0x7f);
    else if (value > 2 ** 45) big = (BigInt(value) << 7n) | BigInt(b & 0x7f);
    else value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(big ?? value);
      value = 0;
      big = null;
    } else if (i === content.length - 1) {
      throw new DerError('truncated OID arc');
    }
  }
  const head = arcs[0]!;
  if (typeof head === 'bigint') return ['2', head - 80n, ...arcs.slice(1)].join('.');
  const first = head < 40 ? 0 : head < 80 ? 1 : 2;
  return [first, head - first * 40, ...arcs.slice(1)].join('.');
}

/** A DER header for `length` content octets under identifier `id`. */
export function encodeHeader(id: number, length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(id, length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Uint8Array.of(id, 0x80 | bytes.length, ...bytes);
}

/**
 * UTCTime (YYMMDDHHMMSSZ, RFC 5280 § 4.1.2.5.1: years 50–99 are 19xx) or GeneralizedTime
 * (YYYYMMDDHHMMSS[.fff…]Z, § 4.1.2.5.2) to a Date (sub-millisecond digits are truncated).
 */
export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const text = Buffer.from(contentBytes(buf, tlv)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (tlv.id === 0x17) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    year = m ? Number(m[1]) + (Number(m[1]) >= 50 ? 1900 : 2000) : 0;
  } else if (tlv.id === 0x18) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
    year = m ? Number(m[1]) : 0;
  } else {
    throw new DerError('expected UTCTime or GeneralizedTime');
  }
  if (!m) throw new DerError(`malformed time "${text.slice(0, 32)}"`);
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s, ms));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new DerError(`invalid time "${text}"`);
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** An AlgorithmIdentifier (RFC 5280 § 4.1.1.2): OID and the DER of its parameters (null when absent). */
export function decodeAlgorithm(buf: Uint8Array, tlv: Tlv): { oid: string; params: Uint8Array | null } {
  if (tlv.id !== TAG.SEQUENCE) throw new DerError('AlgorithmIdentifier is not a SEQUENCE');
  const parts = childrenOf(buf, tlv, 3);
  if (parts.length < 1 || parts.length > 2 || parts[0]!.id !== TAG.OID) throw new DerError('malformed AlgorithmIdentifier');
  return { oid: decodeOid(contentBytes(buf, parts[0]!)), params: parts[1] ? encodedBytes(buf, parts[1]) : null };
}

/** An exact-size ArrayBuffer copy of `bytes` (also correct for pooled Node Buffers, whose `.buffer` is shared). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}
