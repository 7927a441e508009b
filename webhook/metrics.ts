/**
 * The webhook's Prometheus metrics, in the style of proxy/metrics.ts. Labels are bounded: decision and reason
 * come from closed unions (AdmissionReason), registry is a configured host — never a namespace, pod or image.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics, type Gauge } from 'prom-client';
import { reloadMetrics, upstreamRequestsCounter } from '../telemetry/shared-metrics.ts';
import type { AdmissionReason } from './admission-rules.ts';

/** `patch`: allowed with a JSONPatch; `would_deny`: audit mode let a denial through; `error`: HTTP 400. */
export type AdmissionDecisionLabel = 'allow' | 'patch' | 'deny' | 'would_deny' | 'error';

export class WebhookMetrics {
  readonly registry = new Registry();
  readonly decisions: Counter<'decision' | 'reason'>;
  readonly decisionSeconds: Histogram<'decision'>;
  readonly upstreamRequests: Counter<'registry' | 'kind' | 'status'>;
  readonly tlsReloads: Counter<'result'>;
  readonly reloads: Counter<'kind' | 'result'>;
  readonly reloadHealthy: Gauge<'kind'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.decisions = new Counter({
      name: 'pullgate_admission_decisions_total',
      help: 'AdmissionReview requests answered, by decision (allow, patch, deny, would_deny, error) and reason.',
      labelNames: ['decision', 'reason'],
      registers: [this.registry],
    });
    this.decisionSeconds = new Histogram({
      name: 'pullgate_admission_duration_seconds',
      help: 'Time from a complete AdmissionReview body to the answer, resolution and verification included.',
      labelNames: ['decision'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.upstreamRequests = upstreamRequestsCounter(this.registry);
    this.tlsReloads = new Counter({
      name: 'pullgate_webhook_tls_reloads_total',
      help: 'Serving certificate reloads after a change on disk, by result (ok, failed).',
      labelNames: ['result'],
      registers: [this.registry],
    });
    ({ reloads: this.reloads, reloadHealthy: this.reloadHealthy } = reloadMetrics(this.registry));
  }

  record(decision: AdmissionDecisionLabel, reason: AdmissionReason | 'bad_request', seconds: number): void {
    this.decisions.inc({ decision, reason });
    this.decisionSeconds.observe({ decision }, seconds);
  }
}
