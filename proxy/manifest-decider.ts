/**
 * From a manifest request to an outcome, with the verified store in the loop (DESIGN § Pull path rules):
 * - a tag is resolved upstream on every resolve (one HEAD; tagTtlMs may allow reuse, default 0), so tag drift
 *   is impossible by construction: what is served is always the digest the tag names now;
 * - a digest is served from the verified store when it passed within allowTtlMs, denied from it when it failed
 *   within denyTtlMs, and otherwise fetched (bytes hashed to the digest) and decided — once, however many
 *   requests ask at the same time;
 * - an upstream outage fails closed, except for a digest (and the tag that named it) verified within the
 *   stale window;
 * - a cold digest's signature discovery runs while its manifest is fetched (PolicyEngine.prepare);
 * - under an image policy rule whose system signs tags (Notary v1), the tag resolves to the digest the trust data
 *   signs (PolicyEngine.resolveTag), not to what the registry's tag names now; that digest is fetched and decided
 *   like any other (the decision checks the signed length). A tag the trust data refuses is refused before the
 *   registry is asked — except in audit mode, where the registry resolves it and the decision says would_deny.
 *   No stale serving for such a tag: a trust-server outage is a denial.
 */
import type { ImageTarget } from '../policy/decision.ts';
import type { Decision } from '../policy/decision.ts';
import type { Digest } from '../oci/digest.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { ManifestReference } from '../oci/names.ts';
import { childAsListed } from './index-closure.ts';
import { fetchManifest, headManifest, MANIFEST_MEDIA_TYPES, type FetchedManifest, type FetchFailureReason } from '../registry/manifest-fetch.ts';
import type { UpstreamClient } from '../registry/client.ts';
import type { VerifiedStore } from './verified-store.ts';

export type CacheResult = 'miss' | 'hit' | 'negative_hit' | 'closure' | 'stale';

export type ManifestOutcome =
  | { readonly kind: 'decided'; readonly manifest: FetchedManifest; readonly decision: Decision; readonly cache: CacheResult }
  /** The policy refused the tag itself (its trust data), so no manifest was fetched. */
  | { readonly kind: 'refused'; readonly decision: Decision }
  | { readonly kind: 'failed'; readonly reason: FetchFailureReason; readonly message: string };

export interface DeciderDeps {
  readonly engine: PolicyEngine;
  readonly store: VerifiedStore;
  readonly manifestMaxBytes: number;
  /** Audit mode: a tag the policy refuses is still resolved by the registry, so the pull can go on (would_deny). */
  readonly resolveRefusedTags?: boolean;
}

const ALL_TYPES = MANIFEST_MEDIA_TYPES.join(', ');
const OUTAGE: ReadonlySet<FetchFailureReason> = new Set(['upstream_unavailable', 'upstream_rate_limited']);

export async function decideManifest(deps: DeciderDeps, client: UpstreamClient, repository: string, reference: ManifestReference, accept: string | undefined): Promise<ManifestOutcome> {
  const repoKey = `${client.registry.host}/${repository}`;
  if (reference.kind === 'digest') return decideDigest(deps, client, repository, repoKey, reference.digest, reference.digest.text, undefined);

  const tagKey = `${repoKey}:${reference.tag}`;
  const remembered = deps.store.tag(tagKey, false);
  if (remembered !== undefined) return decideDigestText(deps, client, repository, repoKey, remembered, reference.tag);

  const resolution = await deps.engine.resolveTag({ registry: client.registry.host, repository, tag: reference.tag });
  if (resolution.kind === 'signed') {
    const signed = await decideDigest(deps, client, repository, repoKey, resolution.digest, reference.tag, undefined);
    if (signed.kind === 'decided' && signed.decision.allow) deps.store.rememberTag(tagKey, signed.manifest.digest.text);
    return signed;
  }
  if (resolution.kind === 'denied' && deps.resolveRefusedTags !== true) return { kind: 'refused', decision: resolution.decision };

  const head = await headManifest(client, repository, reference.tag, accept);
  if (!head.ok) {
    const stale = OUTAGE.has(head.reason) ? deps.store.tag(tagKey, true) : undefined;
    if (stale !== undefined) return decideDigestText(deps, client, repository, repoKey, stale, reference.tag);
    return { kind: 'failed', reason: head.reason, message: head.message };
  }
  let outcome: ManifestOutcome;
  if (head.digest !== undefined) {
    outcome = await decideDigest(deps, client, repository, repoKey, head.digest, reference.tag, undefined);
  } else {
    // No digest header on the HEAD: resolve with a GET by tag and hash what came back.
    const fetched = await fetchManifest(client, repository, reference, accept, deps.manifestMaxBytes);
    if (!fetched.ok) return { kind: 'failed', reason: fetched.reason, message: fetched.message };
    outcome = await decideDigest(deps, client, repository, repoKey, fetched.manifest.digest, reference.tag, fetched.manifest);
  }
  if (outcome.kind === 'decided' && outcome.decision.allow) deps.store.rememberTag(tagKey, outcome.manifest.digest.text);
  return outcome;
}

function decideDigestText(deps: DeciderDeps, client: UpstreamClient, repository: string, repoKey: string, digestText: string, reference: string): Promise<ManifestOutcome> {
  const [algorithm, hex] = digestText.split(':') as ['sha256' | 'sha512', string];
  return decideDigest(deps, client, repository, repoKey, { algorithm, hex, text: digestText }, reference, undefined);
}

async function decideDigest(
  deps: DeciderDeps,
  client: UpstreamClient,
  repository: string,
  repoKey: string,
  digest: Digest,
  reference: string,
  prefetched: FetchedManifest | undefined,
): Promise<ManifestOutcome> {
  const key = `${repoKey}@${digest.text}`;
  const allowed = deps.store.allowed(key);
  if (allowed) return { kind: 'decided', manifest: allowed.manifest, decision: allowed.decision, cache: 'hit' };
  // Listed by an index that passed: allowed as part of it, even if this digest alone was denied before (a
  // platform manifest fetched on its own, unsigned, before its signed index was pulled).
  const index = deps.store.closureOf(key);
  const denied = deps.store.denied(key);
  if (denied && index === undefined) return { kind: 'decided', manifest: denied.manifest, decision: denied.decision, cache: 'negative_hit' };

  return deps.store.single(key, async (): Promise<ManifestOutcome> => {
    let manifest = prefetched ?? denied?.manifest;
    if (manifest === undefined) {
      // Listing the signatures needs only the digest: start it now, alongside the manifest fetch, so a cold
      // decision costs one registry round trip fewer (engine.prepare; the signatures are still checked against
      // the bytes fetched here).
      if (index === undefined) deps.engine.prepare({ registry: client.registry.host, repository, digest });
      const fetched = await fetchManifest(client, repository, { kind: 'digest', digest }, ALL_TYPES, deps.manifestMaxBytes);
      if (!fetched.ok) {
        const stale = OUTAGE.has(fetched.reason) ? deps.store.stale(key) : undefined;
        if (stale) return { kind: 'decided', manifest: stale.manifest, decision: stale.decision, cache: 'stale' };
        return { kind: 'failed', reason: fetched.reason, message: fetched.message };
      }
      manifest = fetched.manifest;
    }
    // Served under the media type the signed index lists it with; a child whose own bytes name another type is
    // not the one the index described, and is decided on its own below.
    const listed = index === undefined ? undefined : childAsListed(manifest, index.mediaType);
    if (index !== undefined && listed !== undefined) {
      const decision: Decision = { allow: true, reason: 'listed_by_verified_index', message: `listed by verified index ${index.index}`, statement: undefined, checks: [], verifier: 'gate' };
      deps.store.remember(key, listed, decision, repoKey);
      return { kind: 'decided', manifest: listed, decision, cache: 'closure' };
    }
    const target: ImageTarget = {
      registry: client.registry.host,
      repository,
      reference,
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      size: manifest.bytes.length,
      bytes: manifest.bytes,
    };
    let decision: Decision;
    try {
      decision = await deps.engine.decide(target);
    } catch (err) {
      // A verifier bug must never become an allow.
      decision = { allow: false, reason: 'verification_error', message: `internal error during verification (${(err as Error).message})`, statement: undefined, checks: [] };
    }
    deps.store.remember(key, manifest, decision, repoKey);
    return { kind: 'decided', manifest, decision, cache: 'miss' };
  });
}
