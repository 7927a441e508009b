/**
 * The admission webhook as rendered: two replicas behind a PDB and a Service that really select them, TLS
 * from the cert-manager Certificate the configurations' CA injection names, failurePolicy Fail with a sane
 * timeout, and the exempt namespaces — plus what the pinning and audit overlays change, and nothing else.
 */
import t, { type Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { buildConfig } from '../../config/load.ts';
import { find, rendered, selects, type Target } from './rendered.ts';
import type { K8sObject } from './kustomize.ts';

const base = rendered('daemonset');
const configOf = (objects: K8sObject[]) => parseYaml(find(objects, 'ConfigMap', 'pullgate-config').data['config.yaml']) as Record<string, any>;
const config = buildConfig(configOf(base), '/etc/pullgate/config/config.yaml');
const deployment = find(base, 'Deployment', 'pullgate-webhook');
const podLabels = deployment.spec.template.metadata.labels;
const container = deployment.spec.template.spec.containers[0];
const EXEMPT = ['kube-system', 'pullgate', 'cert-manager'];
const WORKLOADS = ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];

t.test('two replicas, spread, a PDB and a Service that select them', async (t) => {
  t.equal(deployment.spec.replicas, 2);
  t.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, 'rollouts never drop below two');
  const pdb = find(base, 'PodDisruptionBudget', 'pullgate-webhook');
  t.equal(pdb.spec.minAvailable, 1);
  t.ok(selects(pdb.spec.selector, podLabels), 'PDB selects the webhook pods');
  t.notOk(selects(pdb.spec.selector, find(base, 'DaemonSet', 'pullgate').spec.template.metadata.labels), 'and not the node gate');
  const service = find(base, 'Service', 'pullgate-webhook');
  t.ok(selects({ matchLabels: service.spec.selector }, podLabels), 'Service selects the webhook pods');
  const https = service.spec.ports.find((p: { name: string }) => p.name === 'https');
  t.equal(https.port, 443);
  t.equal(container.ports.find((p: { name: string }) => p.name === https.targetPort).containerPort, config.webhook.listen.port, 'targetPort is the port the webhook listens on');
  t.equal(config.webhook.listen.host, '0.0.0.0', 'reachable through the Service');
});

t.test('hardened, no API access', async (t) => {
  const sc = { ...deployment.spec.template.spec.securityContext, ...container.securityContext };
  t.match(sc, { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  t.equal(deployment.spec.template.spec.automountServiceAccountToken, false);
  t.same(base.filter((o) => /Role|Binding/.test(o.kind)), [], 'no Role, ClusterRole or binding: neither component calls the API');
});

t.test('TLS: the Certificate\'s secret is mounted where the config reads it, and injected as caBundle', async (t) => {
  const cert = find(base, 'Certificate', 'pullgate-webhook');
  t.ok(cert.spec.dnsNames.includes('pullgate-webhook.pullgate.svc'), 'the name the apiserver dials');
  const volume = deployment.spec.template.spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === cert.spec.secretName);
  const mount = container.volumeMounts.find((m: { name: string }) => m.name === volume.name);
  t.equal(config.webhook.tlsCert, `${mount.mountPath}/tls.crt`);
  t.equal(config.webhook.tlsKey, `${mount.mountPath}/tls.key`);
  t.equal(find(base, 'ValidatingWebhookConfiguration', 'pullgate').metadata.annotations?.['cert-manager.io/inject-ca-from'], `${cert.metadata.namespace}/${cert.metadata.name}`);
});

function checkWebhook(t: Test, w: Record<string, any>, path: string, failurePolicy: string): void {
  t.equal(w.failurePolicy, failurePolicy, `${w.name}: failurePolicy ${failurePolicy}`);
  t.ok(w.timeoutSeconds >= 1 && w.timeoutSeconds <= 10, `${w.name}: timeout ${w.timeoutSeconds}s, under the apiserver's 10s default`);
  t.equal(w.sideEffects, 'None', 'dry-run safe');
  t.same(w.admissionReviewVersions, ['v1']);
  t.same(w.clientConfig.service, { name: 'pullgate-webhook', namespace: 'pullgate', path, port: 443 });
  t.same(w.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: EXEMPT }], 'exempts the namespaces the cluster and pullgate need');
  t.same(w.rules.flatMap((r: { resources: string[] }) => r.resources).sort(), [...WORKLOADS].sort(), 'pods and every workload with a pod template');
}

t.test('validating webhook: fail closed, exemptions matching the config', async (t) => {
  const validating = find(base, 'ValidatingWebhookConfiguration', 'pullgate');
  t.equal(validating.webhooks.length, 1);
  checkWebhook(t, validating.webhooks[0], '/validate', 'Fail');
  t.same(config.webhook.exemptNamespaces, EXEMPT, 'the webhook\'s own exemptions say the same');
  t.equal(find(base, 'Namespace', 'pullgate').metadata.name, 'pullgate');
  t.same(base.filter((o) => o.kind === 'MutatingWebhookConfiguration'), [], 'no mutation without the pinning overlay');
});

/** The overlay's config is the base's with exactly `changes` applied. */
function checkOverlayConfig(t: Test, target: Target, changes: (c: Record<string, any>) => void): void {
  const expected = configOf(base);
  changes(expected);
  t.same(configOf(rendered(target)), expected, `${target}: config = base config + its own keys`);
}

t.test('pinning overlay: mutating webhook on /mutate, webhook.pinning on', async (t) => {
  const pinning = rendered('daemonset/overlays/pinning');
  checkOverlayConfig(t, 'daemonset/overlays/pinning', (c) => { c.webhook.pinning = true; });
  const mutating = find(pinning, 'MutatingWebhookConfiguration', 'pullgate');
  checkWebhook(t, mutating.webhooks[0], '/mutate', 'Fail');
  t.equal(mutating.webhooks[0].reinvocationPolicy, 'IfNeeded', 'pins containers other mutators add');
  checkWebhook(t, find(pinning, 'ValidatingWebhookConfiguration', 'pullgate').webhooks[0], '/validate', 'Fail');
  t.equal(pinning.length, base.length + 1, 'adds only the mutating webhook');
});

t.test('audit overlay: mode audit, and a webhook outage does not block pod creation', async (t) => {
  const audit = rendered('daemonset/overlays/audit');
  checkOverlayConfig(t, 'daemonset/overlays/audit', (c) => { c.mode = 'audit'; });
  checkWebhook(t, find(audit, 'ValidatingWebhookConfiguration', 'pullgate').webhooks[0], '/validate', 'Ignore');
  t.equal(audit.length, base.length);
});
