/**
 * OCI content digests (image-spec descriptor.md § "Digests"): `algorithm ":" encoded`. pullgate computes and
 * compares only the registered algorithms sha256 and sha512; any other algorithm is refused rather than
 * trusted, because a digest we cannot recompute is a digest we cannot check bytes against.
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  readonly hex: string;
  /** `sha256:<hex>`, the canonical text form. */
  readonly text: string;
}

const ENCODED: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** The general grammar, used to tell "not a digest" (a tag) from "a malformed digest". */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function looksLikeDigest(text: string): boolean {
  return text.includes(':');
}

export type DigestParse = { readonly ok: true; readonly digest: Digest } | { readonly ok: false; readonly reason: string };

export function parseDigest(text: string): DigestParse {
  if (text.length > 7 + 1 + 128 || !DIGEST_GRAMMAR.test(text)) return { ok: false, reason: `malformed digest "${clip(text)}"` };
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return { ok: false, reason: `unsupported digest algorithm "${algorithm}"` };
  if (!ENCODED[algorithm].test(hex)) return { ok: false, reason: `malformed ${algorithm} digest "${clip(text)}"` };
  return { ok: true, digest: { algorithm, hex, text } };
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const hex = createHash(algorithm).update(bytes).digest('hex');
  return { algorithm, hex, text: `${algorithm}:${hex}` };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
