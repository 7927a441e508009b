/**
 * What the gate remembers about manifests it decided (DESIGN § Pull path rules), keyed by registry, repository
 * and digest — never by tag:
 * - allowed digests with their exact verified bytes, for a TTL (a warm GET by digest never goes upstream);
 * - denials, for a short TTL (kubelet's back-off retries cost nothing);
 * - the children of an allowed index (multi-arch images are signed at the index: a platform manifest listed by
 *   an index that passed is allowed as part of that index);
 * - the last digest each tag resolved to, used only while the upstream is down and within the stale window.
 * Concurrent decisions for the same digest share one verification (single flight).
 *
 * A decision is only as good as the trust policy and stores it was made under, so a store belongs to exactly one
 * policy generation (proxy/server.ts makes a new store with every new engine, and a request uses the store of the
 * generation it started in, for lookups, single flight and writes alike). A decision that is still running when
 * its generation is replaced can then only write into the old store, which no new request reads; retire() empties
 * it at once and turns its later writes into no-ops, so the bytes it held are released now (cache.maxBytes is
 * not shared out between a live and a dead store) and the store itself once its last request finishes.
 */
import { LRUCache } from 'lru-cache';
import { BudgetedCache, byCount, CacheBudget } from '../registry/cache-budget.ts';
import type { CacheConfig } from '../config/types.ts';
import type { Decision } from '../policy/decision.ts';
import { indexChildren } from './index-closure.ts';
import type { FetchedManifest } from '../registry/manifest-fetch.ts';

export interface Verified {
  readonly manifest: FetchedManifest;
  readonly decision: Decision;
  readonly at: number;
}

/** Closure entries: which allowed index lists this child, and under which media type (proxy/index-closure.ts). */
export interface ClosureEntry {
  readonly index: string;
  readonly mediaType: string;
  readonly at: number;
}

/** Denials caused by the gate's own load, not by the image: never remembered. */
const LOAD_REASONS: ReadonlySet<string> = new Set(['gate_busy', 'verification_timeout']);
const MAX_TAGS = 10_000;
/** An index with more children than this is not remembered as a closure (each child is then verified itself). */
const MAX_CHILDREN = 256;

export class VerifiedStore {
  readonly #cfg: CacheConfig;
  #allowed: BudgetedCache<string, Verified>;
  #stale: BudgetedCache<string, Verified>;
  #denied: BudgetedCache<string, Verified>;
  #closure: LRUCache<string, ClosureEntry>;
  #tags: LRUCache<string, { digest: string; at: number }>;
  readonly #inflight = new Map<string, Promise<unknown>>();
  #retired = false;

  /**
   * `budget`: the process's one byte budget (registry/cache-budget.ts), shared with the other generations still
   * alive and the revocation caches; without one, the three manifest caches share a budget of their own.
   */
  constructor(cfg: CacheConfig, budget: CacheBudget = new CacheBudget(cfg.maxBytes)) {
    this.#cfg = cfg;
    const sized = { maxSize: cfg.maxBytes, sizeCalculation: (v: Verified) => v.manifest.bytes.length + 256 };
    this.#allowed = new BudgetedCache<string, Verified>(budget, { ...sized, ttl: Math.max(1, cfg.allowTtlMs) });
    this.#stale = new BudgetedCache<string, Verified>(budget, { ...sized, ttl: Math.max(1, cfg.staleIfErrorMs) });
    // Denials keep their bytes too: audit mode serves what it would deny, without a second fetch.
    // Bounded by bytes like the others (each entry counts its manifest + 256): no preallocated entry arrays.
    this.#denied = new BudgetedCache<string, Verified>(budget, { ...sized, ttl: Math.max(1, cfg.denyTtlMs) });
    this.#closure = new LRUCache<string, ClosureEntry>({ ...byCount(MAX_CHILDREN * 256), ttl: Math.max(1, cfg.allowTtlMs) });
    this.#tags = new LRUCache<string, { digest: string; at: number }>({ ...byCount(MAX_TAGS), ttl: Math.max(1, Math.max(cfg.tagTtlMs, cfg.staleIfErrorMs)) });
  }

  allowed(key: string): Verified | undefined {
    return this.#cfg.allowTtlMs > 0 ? this.#allowed.get(key) : undefined;
  }

  denied(key: string): Verified | undefined {
    return this.#cfg.denyTtlMs > 0 ? this.#denied.get(key) : undefined;
  }

  /** The allowed index that lists this child digest, and the media type it lists it under, if any. */
  closureOf(key: string): ClosureEntry | undefined {
    return this.#cfg.allowTtlMs > 0 ? this.#closure.get(key) : undefined;
  }

  /** A digest verified within the stale window, for use only when the upstream cannot be reached. */
  stale(key: string): Verified | undefined {
    return this.#cfg.staleIfErrorMs > 0 ? this.#stale.get(key) : undefined;
  }

  /** The tag's last resolution: trusted up to tagTtlMs normally, up to staleIfErrorMs when upstream is down. */
  tag(tagKey: string, upstreamDown: boolean): string | undefined {
    const entry = this.#tags.get(tagKey);
    if (entry === undefined) return undefined;
    const limit = upstreamDown ? this.#cfg.staleIfErrorMs : this.#cfg.tagTtlMs;
    return Date.now() - entry.at < limit ? entry.digest : undefined;
  }

  rememberTag(tagKey: string, digest: string): void {
    if (this.#retired) return;
    if (this.#cfg.tagTtlMs > 0 || this.#cfg.staleIfErrorMs > 0) this.#tags.set(tagKey, { digest, at: Date.now() });
  }

  remember(key: string, manifest: FetchedManifest, decision: Decision, repoKey: string): void {
    if (this.#retired) return;
    const entry: Verified = { manifest, decision, at: Date.now() };
    if (!decision.allow) {
      // "Too busy" and "ran out of time" say nothing about the image: the next request decides afresh.
      if (this.#cfg.denyTtlMs > 0 && !LOAD_REASONS.has(decision.reason)) this.#denied.set(key, entry);
      return;
    }
    if (this.#cfg.allowTtlMs > 0) this.#allowed.set(key, entry);
    if (this.#cfg.staleIfErrorMs > 0) this.#stale.set(key, entry);
    for (const child of indexChildren(manifest, MAX_CHILDREN)) {
      this.#closure.set(`${repoKey}@${child.digest}`, { index: manifest.digest.text, mediaType: child.mediaType, at: entry.at });
    }
  }

  /** Runs `work` once per key at a time; concurrent callers get the same promise. */
  single<T>(key: string, work: () => Promise<T>): Promise<T> {
    const pending = this.#inflight.get(key);
    if (pending) return pending as Promise<T>;
    const p = work().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /**
   * Its policy generation was replaced (a reload): forget everything, and ignore what decisions still running
   * under that generation want to remember. Single flight keeps working for the requests already inside.
   */
  retire(): void {
    this.#retired = true;
    this.clear();
    // Its bytes are gone: stop counting against the shared budget.
    this.#allowed.detach();
    this.#stale.detach();
    this.#denied.detach();
  }

  clear(): void {
    this.#allowed.clear();
    this.#stale.clear();
    this.#denied.clear();
    this.#closure.clear();
    this.#tags.clear();
  }
}
