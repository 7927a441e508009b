/**
 * pullgate's Prometheus metrics (names from DESIGN.md § Observability). Labels are bounded: registry is a
 * configured host or `unconfigured`, reasons come from closed unions — never a repository, tag or digest.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics, type Gauge } from 'prom-client';
import { reloadMetrics, upstreamRequestsCounter } from './shared-metrics.ts';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'registry' | 'decision' | 'reason'>;
  readonly decisionSeconds: Histogram<'decision'>;
  readonly upstreamRequests: Counter<'registry' | 'kind' | 'status'>;
  readonly decisionCache: Counter<'result'>;
  readonly blobBytes: Counter<'registry'>;
  readonly reloads: Counter<'kind' | 'result'>;
  readonly reloadHealthy: Gauge<'kind'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.decisions = new Counter({
      name: 'pullgate_pull_decisions_total',
      help: 'Manifest requests decided, by registry, decision (allow, deny, would_deny) and reason.',
      labelNames: ['registry', 'decision', 'reason'],
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
  }
}
