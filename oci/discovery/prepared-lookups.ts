/**
 * Signature lookups started ahead of their verification (PolicyEngine.prepare): the gate knows a digest one round
 * trip before it has the manifest's bytes, and every signature layout we verify is found by the digest alone
 * (Notation's referrers discovery, cosign's `sha256-<hex>.sig` tag and referrers), so those lookups overlap the
 * manifest fetch. Used by verifiers/notation/verifier/prepared-discoveries.ts and policy/requirements/cosign.ts.
 * Each entry is taken once, by the verification it was started for (the caller's key names the requirement,
 * registry, repository and digest); a store belongs to one verifier of one policy generation, so a reload starts
 * from an empty store.
 *
 * Bounded: at most `maxEntries` pending, each at most `ttlMs` old; an entry nobody takes (the manifest fetch failed)
 * has its budget, if it has one, ended when it expires or is crowded out, which aborts what it still has in flight. The lookup
 * spends the decision budget the verification then goes on spending (same limits, same deadline, same signal), so
 * starting early buys no extra requests or bytes. Nothing here decides: the signatures found are judged against the
 * exact bytes served, by the same code as a lookup made during verification.
 */

/** Something that holds upstream work open until it is ended (a DecisionBudget). */
export interface Endable {
  end(): void;
}

/** A lookup in flight, with the upstream budget it spends when it has one of its own. */
export interface PreparedLookup<T, B extends Endable | undefined> {
  readonly lookup: Promise<T>;
  readonly budget: B;
}

type Entry<T, B extends Endable | undefined> = PreparedLookup<T, B> & { readonly expires: number };

export class PreparedLookups<T, B extends Endable | undefined> {
  readonly #entries = new Map<string, Entry<T, B>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? 10_000;
    this.#maxEntries = opts.maxEntries ?? 256;
    this.#now = opts.now ?? Date.now;
  }

  /** Starts `start()` under `key` unless one is pending or the store is full (then `start` is not called). */
  start(key: string, start: () => PreparedLookup<T, B>): void {
    const now = this.#now();
    this.#prune(now);
    if (this.#entries.has(key) || this.#entries.size >= this.#maxEntries) return;
    const started = start();
    // A lookup nobody takes must not become an unhandled rejection; whoever takes it still sees the rejection.
    started.lookup.catch(() => {});
    this.#entries.set(key, { ...started, expires: now + this.#ttlMs });
  }

  /** The pending lookup under `key`, removed from the store; undefined when none. The caller now owns its budget. */
  claim(key: string): PreparedLookup<T, B> | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#entries.delete(key);
    const now = this.#now();
    this.#prune(now);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry;
    entry.budget?.end();
    return undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) continue;
      this.#entries.delete(key);
      entry.budget?.end();
    }
  }
}
