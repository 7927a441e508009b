/**
 * Monitoring as rendered: the PodMonitor scrapes the port both components expose, and every alert and
 * dashboard query uses metric names the code really registers (proxy/metrics.ts, webhook/metrics.ts) — an
 * alert on a misspelt metric never fires, which is worse than no alert.
 */
import t from 'tap';
import { find, rendered, selects } from './rendered.ts';
import { ProxyMetrics } from '../../proxy/metrics.ts';
import { WebhookMetrics } from '../../webhook/metrics.ts';

const monitoring = rendered('daemonset/monitoring');
const base = rendered('daemonset');

/** Names registered in the code, plus Prometheus' own `up` and prom-client's default process metrics. */
const REGISTERED = new Set(['up']);
for (const registry of [new ProxyMetrics().registry, new WebhookMetrics().registry]) {
  for (const metric of registry.getMetricsAsArray()) REGISTERED.add(metric.name);
}
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;
const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'absent', 'histogram_quantile', 'le', 'or', 'and', 'on', 'without', 'humanize', 'offset']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, labels or strings. */
function metricNames(expr: string): string[] {
  const stripped = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '[]').replace(/by \([^)]*\)/g, '');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w));
}

function knownMetric(name: string): boolean {
  return REGISTERED.has(name) || (HISTOGRAM_SUFFIX.test(name) && REGISTERED.has(name.replace(HISTOGRAM_SUFFIX, '')));
}

t.test('the registered names are the ones DESIGN.md promises', async (t) => {
  for (const name of ['pullgate_pull_decisions_total', 'pullgate_upstream_requests_total', 'pullgate_decision_cache_total', 'pullgate_blob_bytes_total']) {
    t.ok(REGISTERED.has(name), name);
  }
  t.same(metricNames('sum by (registry) (rate(x_total{a="b"}[5m])) / up > 0.1'), ['x_total', 'up']);
});

t.test('PodMonitor scrapes the node gate\'s admin port and the webhook\'s HTTPS port', async (t) => {
  const podMonitor = find(monitoring, 'PodMonitor', 'pullgate');
  const endpoints = podMonitor.spec.podMetricsEndpoints as { port: string; path: string; scheme?: string; tlsConfig?: { serverName: string; ca: { secret: { name: string } } } }[];
  for (const [kind, name, port, scheme] of [['DaemonSet', 'pullgate', 'admin', 'http'], ['Deployment', 'pullgate-webhook', 'https', 'https']] as const) {
    const template = find(base, kind, name).spec.template;
    t.ok(selects(podMonitor.spec.selector, template.metadata.labels), `${kind} pods selected`);
    const endpoint = endpoints.find((e) => e.port === port);
    t.match(endpoint, { path: '/metrics' }, `${kind}: an endpoint on port "${port}"`);
    t.equal(endpoint?.scheme ?? 'http', scheme);
    const containerPort = template.spec.containers[0].ports.find((p: { name: string }) => p.name === port);
    t.ok(containerPort, `${kind} exposes port "${port}"`);
    const annotations = template.metadata.annotations;
    t.equal(annotations['prometheus.io/port'], String(containerPort.containerPort), `${kind}: scrape annotations for plain Prometheus`);
    t.equal(annotations['prometheus.io/scheme'] ?? 'http', scheme);
  }
  // The webhook's certificate is verified, not skipped: same Secret, same name as the apiserver uses.
  const tls = endpoints.find((e) => e.port === 'https')!.tlsConfig!;
  const cert = find(base, 'Certificate', 'pullgate-webhook');
  t.equal(tls.ca.secret.name, cert.spec.secretName);
  t.ok(cert.spec.dnsNames.includes(tls.serverName));
});

t.test('alerts: gate down, denials spike, upstream errors — on real metric names', async (t) => {
  const rules = find(monitoring, 'PrometheusRule', 'pullgate').spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as { alert: string; expr: string; labels: { severity: string } }[];
  const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
  t.match(byName.PullgateGateDown, { expr: /\bup\{[^}]*container="pullgate"/, labels: { severity: 'critical' } });
  t.match(byName.PullgateDenialsSpike, { expr: /pullgate_pull_decisions_total\{decision="deny"\}/ });
  t.match(byName.PullgateUpstreamErrors, { expr: /pullgate_upstream_requests_total\{status=~"5\.\.\|429\|error"\}/ });
  t.match(byName.PullgateWebhookDown, { expr: /container="webhook"/, labels: { severity: 'critical' } });
  const containers = new Set([find(base, 'DaemonSet', 'pullgate'), find(base, 'Deployment', 'pullgate-webhook')].map((o) => o.spec.template.spec.containers[0].name));
  for (const r of rules) {
    for (const name of metricNames(r.expr)) t.ok(knownMetric(name), `${r.alert}: ${name} is registered`);
    for (const m of r.expr.matchAll(/container="([^"]+)"/g)) t.ok(containers.has(m[1]!), `${r.alert}: container "${m[1]}" exists`);
    t.equal(r.expr.split('(').length, r.expr.split(')').length, `${r.alert}: balanced parentheses`);
  }
});

t.test('Grafana dashboard: valid JSON, shipped as a sidecar ConfigMap, real metric names', async (t) => {
  const cm = find(monitoring, 'ConfigMap', 'pullgate-dashboard');
  t.equal(cm.metadata.labels?.grafana_dashboard, '1');
  const dashboard = JSON.parse(cm.data['pullgate-dashboard.json']) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
  t.equal(dashboard.uid, 'pullgate');
  t.ok(dashboard.panels.length >= 8);
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const names = metricNames(target.expr.replace(/\$__rate_interval|\$registry/g, ''));
      t.ok(names.length > 0 && names.every(knownMetric), `${panel.title}: ${names.join(', ')}`);
    }
  }
});
