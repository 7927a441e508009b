/**
 * A process-wide cap on cold decisions — verifications that go to the registry for signatures. Each holds an
 * upstream budget (oci/discovery/decision-budget.ts), so without a cap N concurrent pulls of N different
 * unverified digests cost N budgets at once: the cap turns "bounded per decision" into "bounded per node".
 * Past the cap a decision waits in a bounded FIFO queue for at most `waitMs`; a full queue or a wait that runs
 * out is a deny (`gate_busy`), never an allow and never an unbounded wait. Warm decisions (the verified store's
 * hits) never get here, so they never wait. Shared by every policy generation of a process (a reload builds a
 * new verifier, not new room upstream); `configure` applies a reloaded config.
 *
 * It is also the pool of bytes all cold decisions together may hold (`maxBytes`): downloaded envelopes are
 * Buffers, outside the V8 heap limit, so "concurrent × per-decision budget" alone could outgrow the container's
 * memory limit. A decision that finds the pool empty is denied `gate_busy` (decision-budget.ts reserves from it).
 */
import type { SharedBytes } from './decision-budget.ts';

export interface ColdDecisionLimits {
  /** Cold decisions running at once (config `upstream.coldDecisions`). */
  readonly concurrent: number;
  /** Decisions waiting for a slot, at most (`upstream.coldDecisionQueue`); 0: none wait. */
  readonly queue: number;
  /** How long one waits before it is denied (`upstream.coldDecisionWaitMs`). */
  readonly waitMs: number;
  /** Downloaded bytes all cold decisions may hold at once (`upstream.coldDecisionMaxBytes`). */
  readonly maxBytes: number;
}

export const DEFAULT_COLD_DECISION_LIMITS: ColdDecisionLimits = Object.freeze({ concurrent: 16, queue: 256, waitMs: 10_000, maxBytes: 128 * 1024 * 1024 });

interface Waiter {
  readonly resolve: (granted: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

export class ColdDecisions implements SharedBytes {
  #limits: ColdDecisionLimits;
  #active = 0;
  #bytes = 0;
  /** Insertion-ordered: the first entry has waited longest. */
  readonly #waiting = new Set<Waiter>();

  constructor(limits: ColdDecisionLimits = DEFAULT_COLD_DECISION_LIMITS) {
    this.#limits = limits;
  }

  get limits(): ColdDecisionLimits {
    return this.#limits;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.size;
  }

  /** Bytes reserved by decisions now. */
  get bytesHeld(): number {
    return this.#bytes;
  }

  reserveBytes(n: number): boolean {
    if (this.#bytes + n > this.#limits.maxBytes) return false;
    this.#bytes += n;
    return true;
  }

  releaseBytes(n: number): void {
    this.#bytes -= n;
  }

  /** No slot free now. */
  get saturated(): boolean {
    return this.#active >= this.#limits.concurrent;
  }

  /** New limits (config reload). More room wakes waiters now; less takes effect as running decisions end. */
  configure(limits: ColdDecisionLimits): void {
    this.#limits = limits;
    this.#grant();
  }

  /** Takes a slot when one is free (no waiting, no allocation). */
  tryAcquire(): boolean {
    if (this.#active >= this.#limits.concurrent) return false;
    this.#active++;
    return true;
  }

  /** Waits for a slot: true once one is handed over; false at once when the queue is full, or after waitMs. */
  wait(): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (this.#waiting.size >= this.#limits.queue || this.#limits.waitMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = { resolve, timer: undefined };
      waiter.timer = setTimeout(giveUp, this.#limits.waitMs, this.#waiting, waiter);
      this.#waiting.add(waiter);
    });
  }

  /** Gives a slot back; the longest waiter gets it. Call exactly once per granted slot. */
  release(): void {
    this.#active--;
    this.#grant();
  }

  #grant(): void {
    for (const waiter of this.#waiting) {
      if (this.#active >= this.#limits.concurrent) return;
      this.#waiting.delete(waiter);
      clearTimeout(waiter.timer);
      this.#active++;
      waiter.resolve(true);
    }
  }
}

function giveUp(waiting: Set<Waiter>, waiter: Waiter): void {
  if (waiting.delete(waiter)) waiter.resolve(false);
}

/** The limits from config (`upstream.coldDecisions`, `coldDecisionQueue`, `coldDecisionWaitMs`, `coldDecisionMaxBytes`). */
export function coldDecisionLimits(upstream: {
  readonly coldDecisions?: number;
  readonly coldDecisionQueue?: number;
  readonly coldDecisionWaitMs?: number;
  readonly coldDecisionMaxBytes?: number;
}): ColdDecisionLimits {
  return {
    concurrent: upstream.coldDecisions ?? DEFAULT_COLD_DECISION_LIMITS.concurrent,
    queue: upstream.coldDecisionQueue ?? DEFAULT_COLD_DECISION_LIMITS.queue,
    waitMs: upstream.coldDecisionWaitMs ?? DEFAULT_COLD_DECISION_LIMITS.waitMs,
    maxBytes: upstream.coldDecisionMaxBytes ?? DEFAULT_COLD_DECISION_LIMITS.maxBytes,
  };
}
