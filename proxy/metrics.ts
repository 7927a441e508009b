/**
 * pullgate's Prometheus metrics (names from DESIGN.md § Observability). Labels are bounded: registry is a
 * configured host or `unconfigured`, reasons come from closed unions — never a repository, tag or digest.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { reloadMetrics, upstreamRequestsCounter } from '../telemetry/shared-metrics.ts';

/** What the cold-decision gauges read (oci/discovery/cold-decisions.ts), at scrape time. */
export interface ColdDecisionsView {
  readonly active: number;
  readonly queued: number;
  readonly bytesHeld: number;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'registry' | 'decision' | 'reason' | 'verifier'>;
  readonly decisionSeconds: Histogram<'decision'>;
  readonly upstreamRequests: Counter<'registry' | 'kind' | 'status'>;
  readonly decisionCache: Counter<'result'>;
  readonly blobBytes: Counter<'registry'>;
  readonly reloads: Counter<'kind' | 'result'>;
  readonly reloadHealthy: Gauge<'kind'>;
  readonly coldDecisions: Gauge<'state'>;
  readonly coldDecisionBytes: Gauge;
  #cold: ColdDecisionsView | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.decisions = new Counter({
      name: 'pullgate_pull_decisions_total',
      help: 'Manifest requests decided, by registry, decision (allow, deny, would_deny), reason and the verifier that decided (notation, notaryv1, notaryv1+notation, policy; none before any verifier ran).',
      labelNames: ['registry', 'decision', 'reason', 'verifier'],
      registers: [this.registry],
    });
    this.decisionSeconds = new Histogram({
      name: 'pullgate_pull_decision_duration_seconds',
      help: 'Time from a manifest request to its decision, upstream fetch and verification included.',
      labelNames: ['decision'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.upstreamRequests = upstreamRequestsCounter(this.registry);
    this.decisionCache = new Counter({
      name: 'pullgate_decision_cache_total',
      help: 'Decision cache lookups by result.',
      labelNames: ['result'],
      registers: [this.registry],
    });
    this.blobBytes = new Counter({
      name: 'pullgate_blob_bytes_total',
      help: 'Blob bytes streamed through pullgate (relayed redirects carry none).',
      labelNames: ['registry'],
      registers: [this.registry],
    });
    ({ reloads: this.reloads, reloadHealthy: this.reloadHealthy } = reloadMetrics(this.registry));
    // Read when scraped, so the decision path pays nothing for them (issue 12.5: is the cap the bottleneck?).
    const view = (): ColdDecisionsView | undefined => this.#cold;
    this.coldDecisions = new Gauge({
      name: 'pullgate_cold_decisions',
      help: 'Decisions fetching signatures upstream: running (holding one of upstream.coldDecisions slots) and waiting for one.',
      labelNames: ['state'],
      registers: [this.registry],
      collect(this: Gauge<'state'>) {
        this.set({ state: 'running' }, view()?.active ?? 0);
        this.set({ state: 'waiting' }, view()?.queued ?? 0);
      },
    });
    this.coldDecisionBytes = new Gauge({
      name: 'pullgate_cold_decision_bytes',
      help: 'Downloaded signature bytes held by running decisions (bounded by upstream.coldDecisionMaxBytes).',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(view()?.bytesHeld ?? 0);
      },
    });
  }

  /** The process's cold-decision cap, for the gauges above. */
  watchColdDecisions(cold: ColdDecisionsView): void {
    this.#cold = cold;
  }
}
