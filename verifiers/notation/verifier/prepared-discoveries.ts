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
import { PreparedLookups, type Endable } from '../../../oci/discovery/prepared-lookups.ts';
import type { Discovery } from '../discovery/discover.ts';

export interface PreparedDiscovery<B extends Endable = Endable> {
  readonly discovery: Promise<Discovery>;
  readonly budget?: B;
}

/** The store (oci/discovery/prepared-lookups.ts), keyed by subject and trust-policy statement. */
export class PreparedDiscoveries {
  readonly #lookups: PreparedLookups<Discovery, Endable | undefined>;

  constructor(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.#lookups = new PreparedLookups(opts);
  }

  /**
   * Starts `discover()` for this subject and statement unless one is pending or the store is full (then
   * `discover` is not called at all). It returns the discovery, or the discovery with its budget.
   */
  start(subject: DecisionSubject, statement: string, discover: () => Promise<Discovery> | PreparedDiscovery): void {
    this.#lookups.start(keyOf(subject, statement), () => {
      const started = discover();
      return started instanceof Promise ? { lookup: started, budget: undefined } : { lookup: started.discovery, budget: started.budget };
    });
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
    const entry = this.#lookups.claim(keyOf(subject, statement));
    if (entry === undefined) return undefined;
    return entry.budget === undefined ? { discovery: entry.lookup } : { discovery: entry.lookup, budget: entry.budget as B };
  }

  get size(): number {
    return this.#lookups.size;
  }
}

function keyOf(subject: DecisionSubject, statement: string): string {
  // The statement is part of the key, so an entry can only serve the verification it was started for (a policy
  // reload builds a new verifier, and with it an empty store).
  return `${statement}\n${subject.registry}/${subject.repository}@${subject.digest.text}`;
}
