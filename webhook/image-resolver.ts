/**
 * "Resolve a tag (or digest) and decide on it", for pinning and `webhook.verify`: the same steps the node gate
 * takes on a resolve — fetch the manifest upstream with the registry's UpstreamClient (bytes capped, hashed,
 * checked against the claimed digest in registry/manifest-fetch.ts), then `PolicyEngine.decide` on exactly those
 * bytes. The digest a pin names is therefore the digest whose signatures were verified. Under an image policy
 * rule whose system signs tags (Notary v1), the tag resolves to the digest its trust data signs
 * (PolicyEngine.resolveTag), so `/mutate` pins to the signed digest, whatever the registry's tag says now.
 *
 * Concurrent admissions of the same image (a Deployment scaled to 50 replicas admits 50 Pods) share one
 * resolution; a finished one is reused for `cacheTtlMs`. Upstream failures are not kept, so the next request
 * asks again. Each resolution is bounded by its own timeout, independent of which request started it.
 *
 * Both the shared resolutions and the finished ones belong to one policy generation (the engine they were
 * decided with), as in the gate (proxy/verified-store.ts): a new engine (useEngine, on a reload) gets a new,
 * empty generation; a resolution reads its generation once, when it starts, and decides, shares and remembers
 * only there. One still running under the old engine can neither answer a review that arrives afterwards nor
 * leave its verdict where the new policy would find it.
 */
import { LRUCache } from 'lru-cache';
import { byCount } from '../registry/cache-budget.ts';
import type { Decision, ImageTarget } from '../policy/decision.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { Digest } from '../oci/digest.ts';
import { fetchManifest, type FetchFailureReason } from '../registry/manifest-fetch.ts';
import type { UpstreamClient } from '../registry/client.ts';
import type { ImageReference } from './image-reference.ts';

export type Resolution =
  /** The engine allowed this digest. */
  | { readonly outcome: 'allowed'; readonly digest: string; readonly decision: Decision }
  /** The engine denied the manifest (digest), or the tag itself before any fetch (digest undefined: Notary v1). */
  | { readonly outcome: 'denied'; readonly digest: string | undefined; readonly decision: Decision }
  /** Nothing to decide on: the manifest could not be fetched (or the engine failed). */
  | { readonly outcome: 'unresolved'; readonly reason: FetchFailureReason | 'unsupported_digest' | 'engine_error' | 'timeout'; readonly message: string };

export interface ResolverOptions {
  /** One client per mirrored registry host. */
  readonly clients: ReadonlyMap<string, UpstreamClient>;
  /** The policy engine to start with; useEngine() replaces it. */
  readonly engine: PolicyEngine;
  readonly manifestMaxBytes: number;
  readonly cacheTtlMs: number;
  /** Bound on one resolution (fetch + decide). */
  readonly timeoutMs: number;
  readonly onEngineError?: (err: unknown, ref: string) => void;
}

/** One policy generation: an engine and what was resolved (and is being resolved) under it alone. */
interface Generation {
  readonly engine: PolicyEngine;
  readonly inflight: Map<string, Promise<Resolution>>;
  readonly done: LRUCache<string, Resolution> | undefined;
  retired: boolean;
}

export class ImageResolver {
  readonly #opts: ResolverOptions;
  #generation: Generation;

  constructor(opts: ResolverOptions) {
    this.#opts = opts;
    this.#generation = this.#newGeneration(opts.engine);
  }

  #newGeneration(engine: PolicyEngine): Generation {
    // lru-cache treats ttl 0 as "never expires", so 0 means no cache at all rather than a cache forever.
    const done = this.#opts.cacheTtlMs > 0 ? new LRUCache<string, Resolution>({ ...byCount(2048), ttl: this.#opts.cacheTtlMs }) : undefined;
    return { engine, inflight: new Map(), done, retired: false };
  }

  /**
   * The trust policy or stores changed: what passed before may not pass now. Later resolutions start from an
   * empty generation; the old one's cache is dropped now, and resolutions still running in it remember nothing.
   */
  useEngine(engine: PolicyEngine): void {
    const old = this.#generation;
    if (engine === old.engine) return;
    this.#generation = this.#newGeneration(engine);
    old.retired = true;
    old.done?.clear();
  }

  /** What a resolution of `ref` already settled in this generation (cache only: no request, no trace). */
  peek(ref: ImageReference): Resolution | undefined {
    return this.#generation.done?.get(keyOf(ref));
  }

  /**
   * Resolves `ref` (by digest when it has one, else by tag; a bare name is `latest`) and decides on it.
   * `remember: false` (dry-run requests) reads the cache but leaves no trace in it.
   */
  resolve(ref: ImageReference, remember: boolean): Promise<Resolution> {
    const gen = this.#generation;
    const reference = ref.digest?.text ?? ref.tag ?? 'latest';
    const key = keyOf(ref);
    const done = gen.done?.get(key);
    if (done !== undefined) return Promise.resolve(done);
    const running = gen.inflight.get(key);
    if (running !== undefined) return running;
    const started = this.#run(gen.engine, ref, reference)
      .catch((err: unknown): Resolution => {
        // Nothing may leave a rejected promise in #inflight: every later admission of the image would fail.
        this.#opts.onEngineError?.(err, ref.pullRef);
        return { outcome: 'unresolved', reason: 'engine_error', message: `internal error while resolving (${(err as Error).message})` };
      })
      .then((r) => {
        gen.inflight.delete(key);
        if (remember && !gen.retired && isLasting(r)) {
          gen.done?.set(key, r);
          // The decision is about the digest's bytes: a later review naming that digest (a pinned Pod after
          // /mutate, a controller's copy) finds it without a second lookup.
          if (ref.digest === undefined && r.outcome !== 'unresolved' && r.digest !== undefined) gen.done?.set(`${ref.name}@${r.digest}`, r);
        }
        return r;
      });
    gen.inflight.set(key, started);
    return started;
  }

  async #run(engine: PolicyEngine, ref: ImageReference, reference: string): Promise<Resolution> {
    const client = this.#opts.clients.get(ref.domain);
    if (client === undefined) return { outcome: 'unresolved', reason: 'upstream_unavailable', message: `registry ${ref.domain} is not configured` };
    const signal = AbortSignal.timeout(this.#opts.timeoutMs);
    const d = ref.digest;
    const byTag = d === undefined ? await engine.resolveTag({ registry: ref.domain, repository: ref.path, tag: reference }) : undefined;
    if (byTag?.kind === 'denied') return { outcome: 'denied', digest: undefined, decision: byTag.decision };
    const manifestRef = byTag?.kind === 'signed'
      ? { kind: 'digest' as const, digest: byTag.digest }
      : d === undefined
        ? { kind: 'tag' as const, tag: reference }
        : d.algorithm === 'sha384'
        ? undefined
        : { kind: 'digest' as const, digest: { algorithm: d.algorithm, hex: d.hex, text: d.text } satisfies Digest };
    if (manifestRef === undefined) return { outcome: 'unresolved', reason: 'unsupported_digest', message: 'pullgate verifies sha256 and sha512 digests only' };
    // A pinned digest is known before its manifest is: its signature lookup can run alongside the fetch, as in
    // the gate (PolicyEngine.prepare). A tag is only resolved by the fetch itself.
    if (manifestRef.kind === 'digest') engine.prepare({ registry: ref.domain, repository: ref.path, digest: manifestRef.digest });
    const fetched = await fetchManifest(client, ref.path, manifestRef, undefined, this.#opts.manifestMaxBytes, signal);
    if (!fetched.ok) {
      if (signal.aborted) return { outcome: 'unresolved', reason: 'timeout', message: `resolving took longer than ${this.#opts.timeoutMs} ms` };
      return { outcome: 'unresolved', reason: fetched.reason, message: fetched.message };
    }
    const m = fetched.manifest;
    const target: ImageTarget = {
      registry: ref.domain,
      repository: ref.path,
      reference,
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.bytes.length,
      bytes: m.bytes,
    };
    let decision: Decision;
    try {
      decision = await engine.decide(target);
    } catch (err) {
      // A verifier bug is a deny with a reason, never an allow (same stance as proxy/manifests.ts).
      this.#opts.onEngineError?.(err, ref.pullRef);
      return { outcome: 'unresolved', reason: 'engine_error', message: 'internal error during verification' };
    }
    return { outcome: decision.allow ? 'allowed' : 'denied', digest: m.digest.text, decision };
  }
}

/**
 * Decisions worth reusing: an allow, or a deny about the image itself. A deny because the registry or the
 * verifier had a bad moment is asked again next time (strings, so the verifier may grow its reason list).
 */
const TRANSIENT_REASONS: ReadonlySet<string> = new Set([
  'upstream_unavailable', 'upstream_rate_limited', 'upstream_denied', 'upstream_invalid',
  'verification_timeout', 'verification_error', 'revocation_inconclusive', 'no_trust_policy', 'gate_busy',
  'fetch_failed', // Notary v1: the trust server could not be reached
]);

function isLasting(r: Resolution): boolean {
  if (r.outcome === 'unresolved') return false;
  return r.outcome === 'allowed' || !TRANSIENT_REASONS.has(r.decision.reason);
}

/** One cache and single-flight key per image: `name@digest` or `name:tag`. */
function keyOf(ref: ImageReference): string {
  return `${ref.name}${ref.digest ? '@' : ':'}${ref.digest?.text ?? ref.tag ?? 'latest'}`;
}
