/**
 * The Sigstore public-good trusted root (Fulcio CAs, Rekor and CT log keys), shipped as the default trust of a
 * cosign requirement that names no `trustedRoot`. Provenance: `trust/public-good.trusted_root.json` is byte for
 * byte the `trusted_root.json` target of the `https://tuf-repo-cdn.sigstore.dev` seed in `@sigstore/tuf` 4.0.2
 * (`seeds.json`, 6,787 B, sha256 6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66).
 *
 * Imported as a JSON module (not read from a path) so the single-file bundle carries it too. It is only a
 * default: a newer root (Sigstore rotates log keys, e.g. the 2025 Rekor shard) is put in the node's config and
 * named by `trustedRoot:`, which needs no pullgate release (README "cosign").
 */
import publicGood from './trust/public-good.trusted_root.json' with { type: 'json' };

export const PUBLIC_GOOD_SOURCE = '(shipped Sigstore public-good trusted_root.json)';
export const PUBLIC_GOOD_TRUSTED_ROOT: unknown = publicGood;
