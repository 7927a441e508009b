/**
 * Metrics that `serve` and `webhook` both expose, defined once so the two processes publish the same names,
 * labels and help texts (dashboards and alerts in daemonset/monitoring rely on that).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export function upstreamRequestsCounter(registry: Registry): Counter<'registry' | 'kind' | 'status'> {
  return new Counter({
    name: 'pullgate_upstream_requests_total',
    help: 'Requests sent upstream, by registry, kind and HTTP status (or "error").',
    labelNames: ['registry', 'kind', 'status'],
    registers: [registry],
  });
}

export interface ReloadMetrics {
  readonly reloads: Counter<'kind' | 'result'>;
  readonly reloadHealthy: Gauge<'kind'>;
}

export function reloadMetrics(registry: Registry): ReloadMetrics {
  return {
    reloads: new Counter({
      name: 'pullgate_config_reloads_total',
      help: 'Hot reloads of the config file (kind=config) or the Notation trust policy and stores (kind=policy), by result.',
      labelNames: ['kind', 'result'],
      registers: [registry],
    }),
    reloadHealthy: new Gauge({
      name: 'pullgate_config_last_reload_success',
      help: '1 when the last reload of this kind succeeded; 0 while a broken file is on disk and the last good one is in use.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
