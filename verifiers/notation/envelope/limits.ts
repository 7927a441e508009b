/**
 * Input bounds. Every parser in this folder checks these before doing work
 * proportional to attacker-controlled counts, so hostile envelopes fail fast
 * with EnvelopeError('LIMIT_EXCEEDED') instead of exhausting memory or stack.
 *
 * For comparison, notation-core-go's CBOR decoder (fxamacker/cbor defaults)
 * allows 32 nesting levels and 131072 array elements / map pairs.
 */
export const LIMITS = {
  /** Whole envelope, either encoding. Real Notation envelopes are 2–15 KiB. */
  maxEnvelopeBytes: 32 * 1024 * 1024,
  /** Nesting of JSON arrays/objects or CBOR arrays/maps/tags. Notation uses ≤ 4. */
  maxDepth: 16,
  /** JSON: arrays + objects + members/elements; CBOR: data items, per document. */
  maxItems: 100_000,
  /** Certificates in x5c / x5chain. */
  maxChainLength: 32,
  /** Entries in `crit`. */
  maxCritical: 64,
  /** Annotations in the payload descriptor. */
  maxAnnotations: 1024,
} as const;
