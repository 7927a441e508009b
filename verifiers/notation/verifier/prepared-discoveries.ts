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
 *
 * A discovery may come with the upstream budget it spends (oci/discovery/decision-budget.ts): the verification
 * that claims it goes on spending the same budget under the same deadline and signal, so starting early buys no
 * extra requests or bytes. An entry nobody claims (the manifest fetch failed) has its budget ended when it
 * expires or is crowded out, which stops whatever it still has in flight.
 */
import type { DecisionSubject } from '../../../policy/decision.ts';
import type { Discovery } from '../discovery/discover.ts';

/** Something that holds upstream work open until it is ended (a DecisionBudget). */
export interface Endable {
  end(): void;
}

export interface PreparedDiscovery<B extends Endable = Endable> {
  readonly discovery: Promise<Discovery>;
  readonly budget?: B;
}

interface Entry extends PreparedDiscovery {
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

  /**
   * Starts `discover()` for this subject and statement unless one is pending or the store is full (then
   * `discover` is not called at all). It returns the discovery, or the discovery with its budget.
   */
  start(subject: DecisionSubject, statement: string, discover: () => Promise<Discovery> | PreparedDiscovery): void {
    const key = keyOf(subject, statement);
    const now = this.#now();
    this.#prune(now);
    if (this.#entries.has(key) || this.#entries.size >= this.#maxEntries) return;
    const started = discover();
    const entry: Entry = started instanceof Promise ? { discovery: started, expires: now + this.#ttlMs } : { ...started, expires: now + this.#ttlMs };
    // discoverSignatures reports failures as values; should one still reject, an entry nobody takes must not
    // become an unhandled rejection (which ends the process). Whoever takes it still sees the rejection.
    entry.discovery.catch(() => {});
    this.#entries.set(key, entry);
  }

  /** The pending discovery for this subject and statement, removed from the store; undefined when none. */
  take(subject: DecisionSubject, statement: string): Promise<Discovery> | undefined {
    return this.claim(subject, statement)?.discovery;
  }

  /**
   * The pending discovery and its budget, removed from the store; undefined when none (an expired one has its
   * budget ended). The caller now owns the budget and must end it.
   */
  claim<B extends Endable = Endable>(subject: DecisionSubject, statement: string): PreparedDiscovery<B> | undefined {
    const key = keyOf(subject, statement);
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#entries.delete(key);
    const now = this.#now();
    this.#prune(now);
    if (entry === undefined) return undefined;
    if (entry.expires > now) return entry as PreparedDiscovery<B>;
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

function keyOf(subject: DecisionSubject, statement: string): string {
  // The statement is part of the key, so an entry can only serve the verification it was started for (a policy
  // reload builds a new verifier, and with it an empty store).
  return `${statement}\n${subject.registry}/${subject.repository}@${subject.digest.text}`;
}
