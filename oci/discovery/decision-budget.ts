/**
 * One decision's upstream spending, as an ArtifactFetcher that wraps the registry's own. A hostile or broken
 * registry decides how many signatures an image has and how big each claims to be; without a bound one pull
 * costs whatever the registry wants (an outside review saw 60 referrers turn into 53 manifest GETs and 50 reads
 * of the same 1 MiB envelope). Here, per decision:
 * - every request counts against `maxRequests`, every byte read against `maxBytes`; a call that would go past
 *   either fails with `BUDGET_EXCEEDED` before it is sent (a decision denied for it says so);
 * - a blob, or a manifest by digest, is fetched once: content addressing makes the second answer the same as
 *   the first, so signature manifests that all name one envelope cost one download;
 * - every call carries the decision's AbortSignal, and the decision's deadline aborts it: a decision that timed
 *   out stops its downloads instead of finishing them unseen (and `expired` tells the verifier).
 * Byte accounting reserves a call's cap before it is sent and gives back what was not read, so concurrent calls
 * (a prepared discovery next to the verification that takes it) cannot both spend the same remainder. The same
 * reservations are taken from a process-wide pool when one is given (`SharedBytes`, the cold-decision cap):
 * envelopes are Buffers outside the V8 heap limit, so the bytes held by all decisions at once need their own
 * bound; a decision that finds the pool empty fails `BUSY`, and ending a decision gives all it held back.
 */
import { parseDigest } from '../digest.ts';
import { FetchError, type ArtifactFetcher, type DecisionBudgetLimits, type ManifestLookup, type ReferrersPage } from './fetcher.ts';

/**
 * Requests: notation's own bound (50 signatures tried, each a manifest and an envelope) plus 10 referrers pages
 * and the tag schema fits in 128, so the budget never cuts a search notation would finish; it is the backstop.
 * Bytes: real envelopes are kilobytes; 64 MiB still lets 50 signatures of 1 MiB through, but not 50 of 32 MiB.
 */
export const DEFAULT_DECISION_BUDGET: DecisionBudgetLimits = Object.freeze({ maxRequests: 128, maxBytes: 64 * 1024 * 1024 });

/** Why a decision that ended normally stops what it may still have in flight (one object: no stack per decision). */
const ENDED = new FetchError('ABORTED', 'the decision has ended');

/** A referrers page is read by the registry's fetcher up to this size (registry/artifact-fetcher.ts). */
const REFERRERS_PAGE_CAP = 4 * 1024 * 1024;

/** A process-wide pool of bytes that decisions reserve from while they hold downloaded content. */
export interface SharedBytes {
  /** Takes `n` bytes from the pool; false (nothing taken) when fewer are left. */
  reserveBytes(n: number): boolean;
  releaseBytes(n: number): void;
}

interface Memo<T> {
  /** The largest `maxBytes` the fetch was made with: a later call allowing more may try again after TOO_LARGE. */
  readonly cap: number;
  readonly value: Promise<T>;
}

export class DecisionBudget implements ArtifactFetcher {
  /** The registry's fetcher (per-registry state such as "no referrers API" is keyed by it, not by a budget). */
  readonly inner: ArtifactFetcher;
  readonly #limits: DecisionBudgetLimits;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #timeoutMs: number;
  readonly #shared: SharedBytes | undefined;
  #requests = 0;
  #bytes = 0;
  /** What this decision holds of the shared pool (given back at the end). */
  #sharedHeld = 0;
  readonly #manifests = new Map<string, Memo<ManifestLookup>>();
  readonly #blobs = new Map<string, Memo<Buffer>>();
  #expire!: () => void;
  /** Resolves when the deadline passes (not when the decision ends normally). */
  readonly expired: Promise<void>;

  constructor(inner: ArtifactFetcher, limits: DecisionBudgetLimits, timeoutMs: number, shared?: SharedBytes) {
    this.inner = inner;
    this.#limits = limits;
    this.#shared = shared;
    this.#timeoutMs = timeoutMs;
    this.expired = new Promise<void>((resolve) => (this.#expire = resolve));
    // Unref'd until a verification waits on it (keepAlive): a discovery prepared for a decision that never came
    // (its manifest fetch failed) must not hold a stopping process open for the whole deadline.
    this.#timer = setTimeout(expire, timeoutMs, this);
    this.#timer.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get requests(): number {
    return this.#requests;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Someone awaits this decision: its deadline keeps the process alive until it fires or the decision ends. */
  keepAlive(): void {
    this.#timer.ref();
  }

  /** The deadline passed: abort everything in flight, refuse everything after. */
  timeOut(): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(new FetchError('ABORTED', `the decision did not finish within ${this.#timeoutMs} ms; its fetches were stopped`));
    this.#giveBack();
    this.#expire();
  }

  /** The decision is over (decided, or abandoned): stop the deadline and anything still running. Idempotent. */
  end(): void {
    clearTimeout(this.#timer);
    if (!this.#controller.signal.aborted) this.#controller.abort(ENDED);
    this.#giveBack();
  }

  #giveBack(): void {
    this.#giveShared(this.#sharedHeld);
  }

  async referrers(repository: string, subject: string, artifactType: string, next?: string): Promise<ReferrersPage> {
    const reserved = this.#begin(REFERRERS_PAGE_CAP, false);
    let page: ReferrersPage;
    try {
      page = await this.inner.referrers(repository, subject, artifactType, next, this.#controller.signal);
    } catch (err) {
      throw this.#failed(err, reserved, REFERRERS_PAGE_CAP);
    }
    const read = page.supported ? page.bytes.byteLength : 0;
    this.#settle(reserved, Math.min(read, reserved), false);
    // The registry's fetcher caps a page at its own limit, not at what this decision has left: past it, the
    // page was read (once, at most REFERRERS_PAGE_CAP) but the decision stops here.
    if (read > reserved) throw this.#overBytes();
    return page;
  }

  manifest(repository: string, reference: string, accept: readonly string[], maxBytes: number): Promise<ManifestLookup> {
    if (!parseDigest(reference).ok) return this.#manifest(repository, reference, accept, maxBytes);
    return this.#memo(this.#manifests, `${repository}@${reference}`, maxBytes, () => this.#manifest(repository, reference, accept, maxBytes), manifestSize);
  }

  blob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    return this.#memo(this.#blobs, `${repository}@${digest}`, maxBytes, () => this.#blob(repository, digest, maxBytes), blobSize);
  }

  async #manifest(repository: string, reference: string, accept: readonly string[], maxBytes: number): Promise<ManifestLookup> {
    const reserved = this.#begin(maxBytes, false);
    let found: ManifestLookup;
    try {
      found = await this.inner.manifest(repository, reference, accept, reserved, this.#controller.signal);
    } catch (err) {
      throw this.#failed(err, reserved, maxBytes);
    }
    this.#settle(reserved, found.found ? found.bytes.byteLength : 0, false);
    return found;
  }

  async #blob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    // A blob's cap is its declared size: one that does not fit what is left is not worth sending.
    const reserved = this.#begin(maxBytes, true);
    let bytes: Buffer;
    try {
      bytes = await this.inner.blob(repository, digest, reserved, this.#controller.signal);
    } catch (err) {
      throw this.#failed(err, reserved, maxBytes);
    }
    this.#settle(reserved, bytes.byteLength, true);
    return bytes;
  }

  /**
   * Counts one request and reserves its bytes: `cap`, or what is left when that is less (`whole`: the call
   * needs all of `cap`, so less is already a budget failure). Returns the bytes reserved.
   */
  #begin(cap: number, whole: boolean): number {
    const signal = this.#controller.signal;
    if (signal.aborted) throw signal.reason;
    if (this.#requests >= this.#limits.maxRequests) {
      throw new FetchError('BUDGET_EXCEEDED', `the decision needs more than ${this.#limits.maxRequests} upstream requests (upstream.decisionMaxRequests)`);
    }
    const left = this.#limits.maxBytes - this.#bytes;
    if (left <= 0 || (whole && cap > left)) throw this.#overBytes();
    const reserved = cap < left ? cap : left;
    // The shared pool gets a blob's declared size up front; a manifest's cap is only a ceiling (4 MiB for a
    // few hundred bytes), so manifests are counted in it once read (#settle).
    if (whole) this.#takeShared(reserved);
    this.#requests++;
    this.#bytes += reserved;
    return reserved;
  }

  /** Gives back what a call reserved and did not read; `whole`: as #begin. May throw BUSY (see #takeShared). */
  #settle(reserved: number, read: number, whole: boolean): void {
    this.#bytes -= reserved - read;
    if (whole) this.#giveShared(reserved - read);
    else this.#takeShared(read);
  }

  #takeShared(n: number): void {
    if (this.#shared === undefined || n === 0) return;
    if (!this.#shared.reserveBytes(n)) {
      throw new FetchError('BUSY', 'signature downloads under way hold all the bytes the gate allows at once (upstream.coldDecisionMaxBytes)');
    }
    this.#sharedHeld += n;
  }

  #giveShared(n: number): void {
    // Once ended, everything held was given back already: a late answer must not give it back twice.
    if (this.#shared === undefined || n === 0 || this.#sharedHeld < n) return;
    this.#shared.releaseBytes(n);
    this.#sharedHeld -= n;
  }

  /** A failed call keeps its whole reservation (what it read is unknown); a cap lowered by the budget says so. */
  #failed(err: unknown, reserved: number, cap: number): unknown {
    const signal = this.#controller.signal;
    if (signal.aborted) return signal.reason;
    if (err instanceof FetchError && err.code === 'TOO_LARGE' && reserved < cap) return this.#overBytes();
    return err;
  }

  #overBytes(): FetchError {
    return new FetchError('BUDGET_EXCEEDED', `the decision would read more than ${this.#limits.maxBytes} bytes from the registry (upstream.decisionMaxBytes)`);
  }

  /** Same key, same answer — failures included — unless a later call allows more bytes than a TOO_LARGE one did. */
  #memo<T>(map: Map<string, Memo<T>>, key: string, cap: number, fetch: () => Promise<T>, size: (v: T) => number): Promise<T> {
    const prior = map.get(key);
    let value: Promise<T>;
    if (prior === undefined) value = fetch();
    else if (prior.cap >= cap) value = prior.value;
    else value = prior.value.catch((err: unknown) => (err instanceof FetchError && err.code === 'TOO_LARGE' ? fetch() : Promise.reject(err)));
    if (prior === undefined || prior.cap < cap) map.set(key, { cap, value });
    if (prior === undefined) return value;
    // An answer fetched under a larger cap is held to this call's smaller one (the fetcher contract: ≤ maxBytes).
    return value.then((v) => {
      if (size(v) > cap) throw new FetchError('TOO_LARGE', `response exceeds the ${cap}-byte limit`);
      return v;
    });
  }
}

function expire(budget: DecisionBudget): void {
  budget.timeOut();
}

function manifestSize(m: ManifestLookup): number {
  return m.found ? m.bytes.byteLength : 0;
}

function blobSize(b: Buffer): number {
  return b.byteLength;
}
