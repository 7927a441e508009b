/**
 * Bounded, strict CBOR (RFC 8949) decoding for COSE envelopes, on top of cborg.
 *
 * Library choice. Decoding the 7.3 KB coseWithTimestamp.sig vector (envelope +
 * protected header), p50 on the 2-core dev machine: cbor-x 1.3 µs, cborg 5.4 µs,
 * cbor2 11.9 µs; this wrapper 6.5 µs. All are noise next to the signature check
 * (RSA-2048 PSS ≈ 28 µs, P-256 ≈ 72 µs), so strictness decided, not speed.
 * cbor-x keeps the last of duplicate map keys silently, decodes extension tags
 * by default (27 builds Error/RegExp objects, 28/29 shared references, records)
 * and overflows the stack on deep nesting. cborg can be made strict where COSE
 * needs it:
 * - duplicate map labels are rejected (RFC 9052 § 3: "Labels in each of the
 *   maps MUST be unique … the message MUST be rejected as malformed");
 * - maps decode to Map, so integer label 1 and text label "1" stay distinct;
 * - tags are opt-in: only tag 18 (COSE_Sign1_Tagged) and tag 1 (epoch time) are
 *   decoded, every other tag is an error;
 * - indefinite lengths are rejected (as go-cose does); integers and lengths
 *   must use the shortest form (preferred serialization, as go-cose writes);
 * - the pluggable tokenizer lets us bound nesting depth and item count
 *   (limits.ts) before any recursion, so no stack overflow on hostile input.
 * Byte strings come back with the received bytes (copied, never re-encoded), so
 * the Sig_structure is built from the protected header bytes as received.
 */
import { decode, encode, Tokenizer } from 'cborg';
import type { DecodeOptions, TagDecoder, Token } from 'cborg';
import { EnvelopeError, malformed } from './errors.ts';
import { LIMITS } from './limits.ts';

const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;

/** Wraps cborg's tokenizer and tracks open containers to enforce LIMITS. */
class BoundedTokenizer {
  readonly #inner: Tokenizer;
  readonly #what: string;
  /** Remaining child items of each open array/map/tag. */
  readonly #open: number[] = [];
  #items = 0;

  constructor(data: Uint8Array, options: DecodeOptions, what: string) {
    this.#inner = new Tokenizer(data, options);
    this.#what = what;
  }

  done(): boolean {
    return this.#inner.done();
  }

  pos(): number {
    return this.#inner.pos();
  }

  next(): Token {
    const token = this.#inner.next();
    if (++this.#items > LIMITS.maxItems) {
      throw new EnvelopeError('LIMIT_EXCEEDED', `${this.#what} has more than ${LIMITS.maxItems} CBOR items`);
    }
    const open = this.#open;
    if (open.length > 0) open[open.length - 1]! -= 1;
    const major = token.type.major;
    if (major === MAJOR_ARRAY || major === MAJOR_MAP || major === MAJOR_TAG) {
      const count = Number(token.value);
      const children = major === MAJOR_TAG ? 1 : major === MAJOR_MAP ? count * 2 : count;
      if (!(children <= LIMITS.maxItems)) {
        throw new EnvelopeError('LIMIT_EXCEEDED', `${this.#what} declares a container of ${count} items`);
      }
      if (children > 0) {
        open.push(children);
        if (open.length > LIMITS.maxDepth) {
          throw new EnvelopeError('LIMIT_EXCEEDED', `${this.#what} nests deeper than ${LIMITS.maxDepth}`);
        }
      }
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
    return token;
  }
}

/** A decoded tag with its content, for the tags a caller opts into. */
export class CborTag {
  readonly tag: number;
  readonly value: unknown;
  constructor(tag: number, value: unknown) {
    this.tag = tag;
    this.value = value;
  }
}

const BASE_OPTIONS: DecodeOptions = {
  strict: true,
  useMaps: true,
  rejectDuplicateMapKeys: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
};

/**
 * Decodes exactly one CBOR data item (trailing bytes are an error). Tags listed
 * in `tags` decode to CborTag; any other tag is MALFORMED.
 */
export function decodeCbor(bytes: Uint8Array, what: string, tags: readonly number[]): unknown {
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tagDecoders: Record<number, TagDecoder> = {};
  for (const tag of tags) tagDecoders[tag] = (content) => new CborTag(tag, content());
  const options: DecodeOptions = { ...BASE_OPTIONS, tags: tagDecoders };
  try {
    return decode(data, { ...options, tokenizer: new BoundedTokenizer(data, options, what) }) as unknown;
  } catch (err) {
    if (err instanceof EnvelopeError) throw err;
    return malformed(`${what} is not valid CBOR: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** Deterministic CBOR encoding of [text, bstr, bstr, bstr] (RFC 9052 § 4.4 Sig_structure). */
export function encodeSigStructure(
  context: string,
  protectedBytes: Uint8Array,
  externalAad: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return encode([context, plain(protectedBytes), plain(externalAad), plain(payload)]);
}
