/**
 * Signature discoveries started ahead of their verification (PolicyEngine.prepare): the gate knows a digest one
 * round trip before it has the manifest's bytes, and listing the digest's signatures needs only the digest, so
 * the two fetches overlap. Each entry is taken once, by the verification of the same registry, repository,
 * digest and statement; entries nobody takes (the manifest fetch failed) expire. Bounded: past `maxEntries`
 * pending discoveries, a new one is not started and verification discovers as it always did.
 *
 * Nothing here decides: a discovery is a list of candidate signature manifests, and each is still fetched and
 * checked against the exact bytes being served. A prepared list is at most `ttlMs` older than one fetched
 * during verification would be.
 */
import type { DecisionSubject } from '../engine.ts';
import type { Discovery } from '../discovery/discover.ts';

interface Entry {
  readonly discovery: Promise<Discovery>;
  readonly expires: number;
}

export class PreparedDiscoveries {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? 10_000;
    this.#maxEntries = opts.maxEntries ?? 256;
    this.#now = opts.now ?? Date.now;
  }

  /** Starts `discover()` for this subject and statement unless one is pending or the store is full. */
  start(subject: DecisionSubject, statement: string, discover: () => Promise<Discovery>): void {
    const key = keyOf(subject, statement);
    const now = this.#now();
    this.#prune(now);
    if (this.#entries.has(key) || this.#entries.size >= this.#maxEntries) return;
    const discovery = discover();
    // discoverSignatures reports failures as values; should one still reject, an entry nobody takes must not
    // become an unhandled rejection (which ends the process). Whoever takes it still sees the rejection.
    discovery.catch(() => {});
    this.#entries.set(key, { discovery, expires: now + this.#ttlMs });
  }

  /** The pending discovery for this subject and statement, removed from the store; undefined when none. */
  take(subject: DecisionSubject, statement: string): Promise<Discovery> | undefined {
    const key = keyOf(subject, statement);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    return entry.expires > this.#now() ? entry.discovery : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(key);
  }
}

function keyOf(subject: DecisionSubject, statement: string): string {
  // The statement is part of the key, so an entry can only serve the verification it was started for (a policy
  // reload builds a new verifier, and with it an empty store).
  return `${statement}\n${subject.registry}/${subject.repository}@${subject.digest.text}`;
}
