/**
 * A minimal DER reader (X.690 § 8, definite lengths only): enough to walk a certificate's TBSCertificate for the
 * few facts node:crypto's X509Certificate does not expose (raw issuer/subject, key usage bits, the subject's
 * attribute list). Every read is bounds-checked; a malformed input throws DerError.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  /** Contents octets. */
  readonly value: Uint8Array;
  /** The whole encoding, header included. */
  readonly raw: Uint8Array;
}

export const TAG = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
});

/** Reads consecutive TLVs from a byte range. */
export class DerReader {
  readonly #bytes: Uint8Array;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#pos];
  }

  read(expectedTag?: number): Tlv {
    const b = this.#bytes;
    const start = this.#pos;
    if (start + 2 > b.length) throw new DerError('truncated header');
    const tag = b[start] as number;
    if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
    if (expectedTag !== undefined && tag !== expectedTag) {
      throw new DerError(`expected tag 0x${expectedTag.toString(16)}, got 0x${tag.toString(16)}`);
    }
    let length = b[start + 1] as number;
    let header = 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 4) throw new DerError('indefinite or oversized length');
      if (start + 2 + n > b.length) throw new DerError('truncated length');
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (b[start + 2 + i] as number);
      header += n;
    }
    const end = start + header + length;
    if (end > b.length) throw new DerError('value runs past the end');
    this.#pos = end;
    return { tag, value: b.subarray(start + header, end), raw: b.subarray(start, end) };
  }

  /** Reads the next TLV if it has `tag`, else leaves the position alone. */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.read(tag) : undefined;
  }
}

export function readOnly(bytes: Uint8Array, tag: number): Tlv {
  const r = new DerReader(bytes);
  const tlv = r.read(tag);
  if (!r.done) throw new DerError('trailing data');
  return tlv;
}

/** Dotted-decimal text of an OBJECT IDENTIFIER's contents. */
export function oidText(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: number[] = [];
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] as number;
    if (n === 0 && byte === 0x80) throw new DerError('non-minimal OID arc');
    n = n * 128 + (byte & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(n);
      n = 0;
    } else if (i === value.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
