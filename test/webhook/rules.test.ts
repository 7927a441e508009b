/**
 * The webhook rules for every workload kind, container kind and rule, asserting exact verdicts and messages:
 * mirrored registry, cache-served tags must be pinned, cache-served digests must verify (here against a closed
 * port: fail closed), invalid references, exemptions, what is not inspected, audit mode. Pinning, verify and
 * the digest rule against a real registry are in pinning-e2e.test.ts and cached-images-e2e.test.ts; image
 * volumes in image-volumes.test.ts.
 */
import t from 'tap';
import { buildConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';
import { Exemptions } from '../../webhook/exemptions.ts';
import { startTestWebhook, workloadReview, type ContainerSpec } from './helpers.ts';
import { closedUrl } from '../harness/ports.ts';

// The registries are down: a port we just released refuses connections (a guessed "closed" port like 9 may not).
const CLOSED = await closedUrl();
const REGISTRIES = [{ host: 'docker.io', endpoint: CLOSED }, { host: '127.0.0.1:5000', endpoint: CLOSED }];
const D = 'sha256:89102e348749bb17a6a651a4b2a17420e1a66d2a44a675b981973d49a5af3a5e';
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];
const FIELDS = [
  ['containers', 'container'],
  ['initContainers', 'init container'],
  ['ephemeralContainers', 'ephemeral container'],
] as const;
// Always: a companion container that every rule lets through without asking a registry.
const MAIN: ContainerSpec = { name: 'main', image: `nginx@${D}`, imagePullPolicy: 'Always' };

const unpinned = (who: string, image: string, policy: string, defaulted = false) =>
  `${who} image "${image}": ${defaulted ? `imagePullPolicy defaults to ${policy} for this tag` : `imagePullPolicy ${policy}`}, ` +
  `so a node may run its cached copy without asking pullgate; pin it by digest (${image}@sha256:…) or set imagePullPolicy: Always`;

t.test('every workload kind × container kind × rule', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  for (const kind of KINDS) {
    for (const [field, who] of FIELDS) {
      const spec = (c: ContainerSpec) => (field === 'containers' ? { containers: [c] } : { containers: [MAIN], [field]: [c] });
      const label = `${kind} ${field}`;

      const tagged = await w.review('/validate', workloadReview(spec({ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }), { kind }));
      t.equal(tagged.allowed, false, `${label}: tag + IfNotPresent denied`);
      t.equal(tagged.status?.message, `pullgate: ${unpinned(`${who} "app"`, 'nginx:1.25', 'IfNotPresent')}`, `${label}: message names container and image`);

      const never = await w.review('/validate', workloadReview(spec({ name: 'app', image: '127.0.0.1:5000/team/app:v2', imagePullPolicy: 'Never' }), { kind }));
      t.equal(never.status?.message, `pullgate: ${unpinned(`${who} "app"`, '127.0.0.1:5000/team/app:v2', 'Never')}`, `${label}: tag + Never denied`);

      const defaulted = await w.review('/validate', workloadReview(spec({ name: 'app', image: 'nginx:1.25' }), { kind }));
      t.equal(defaulted.status?.message, `pullgate: ${unpinned(`${who} "app"`, 'nginx:1.25', 'IfNotPresent', true)}`, `${label}: defaulted policy`);

      for (const image of [`nginx@${D}`, `nginx:1.25@${D}`, `docker.io/library/nginx:1.25@${D}`]) {
        // Pinned by digest, but a node may hold that digest and run it without asking the gate: it must verify
        // now, and the registry is a closed port here, so it is denied (fail closed).
        const pinned = await w.review('/validate', workloadReview(spec({ name: 'app', image, imagePullPolicy: 'IfNotPresent' }), { kind }));
        t.match(pinned.status?.message, new RegExp(`^pullgate: ${who} "app" image "${escape(image)}": cannot resolve ${D}: upstream unavailable \\(`), `${label}: ${image} pinned by digest, IfNotPresent: verified now`);
        const always = await w.review('/validate', workloadReview(spec({ name: 'app', image, imagePullPolicy: 'Always' }), { kind }));
        t.same([always.allowed, always.status], [true, undefined], `${label}: ${image} Always: the gate decides on every start`);
      }
      for (const c of [{ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'Always' }, { name: 'app', image: 'nginx' }, { name: 'app', image: 'nginx:latest' }]) {
        const always = await w.review('/validate', workloadReview(spec(c), { kind }));
        t.equal(always.allowed, true, `${label}: ${c.image} ${c.imagePullPolicy ?? '(default Always)'} resolves through the gate on every start`);
        t.equal(always.status, undefined);
      }

      const unmirrored = await w.review('/validate', workloadReview(spec({ name: 'app', image: `quay.io/org/app@${D}`, imagePullPolicy: 'Always' }), { kind }));
      t.equal(unmirrored.status?.message, `pullgate: ${who} "app" image "quay.io/org/app@${D}": registry quay.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000)`, `${label}: unmirrored registry`);

      const invalid = await w.review('/validate', workloadReview(spec({ name: 'app', image: 'Nginx:1', imagePullPolicy: 'Always' }), { kind }));
      t.equal(invalid.status?.message, `pullgate: ${who} "app" image "Nginx:1": invalid image reference: invalid reference format: repository name (library/Nginx) must be lowercase`, `${label}: invalid reference`);
    }
  }
});

t.test('webhook.verifyCachedDigests: false (the unsafe opt-out) lets cache-served digests through unverified', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES, webhook: { verifyCachedDigests: false } });
  t.teardown(() => w.close());
  for (const policy of ['IfNotPresent', 'Never', undefined]) {
    const r = await w.review('/validate', workloadReview({ containers: [{ name: 'a', image: `nginx@${D}`, ...(policy ? { imagePullPolicy: policy } : {}) }], volumes: [{ name: 'v', image: { reference: `nginx@${D}` } }] }));
    t.same([r.allowed, r.status], [true, undefined], `digest, ${policy ?? 'defaulted'} policy`);
  }
  t.equal((await w.review('/validate', workloadReview({ containers: [{ name: 'a', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }] }))).allowed, false, 'unpinned tags are still denied');
  t.equal(await w.metric('pullgate_upstream_requests_total', { registry: 'docker.io', kind: 'manifest', status: 'error' }), 0, 'no registry asked');
});

t.test('more rule details', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  const deny = async (containers: ContainerSpec[]) => (await w.review('/validate', workloadReview({ containers }))).status?.message;

  t.equal(await deny([{ name: 'a' }]), 'pullgate: container "a" has no image');
  t.equal(await deny([{ name: 'a', image: '' }]), 'pullgate: container "a" has no image');
  t.equal(await deny([{ name: 'a', image: 'nginx:1 ', imagePullPolicy: 'Always' }]), 'pullgate: container "a" image "nginx:1 ": invalid image reference: invalid reference format');
  t.equal(await deny([{ name: 'a', image: 'Docker.IO/library/nginx', imagePullPolicy: 'Always' }]),
    'pullgate: container "a" image "Docker.IO/library/nginx": registry Docker.IO is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000); write the host as docker.io (containerd matches it exactly)');
  t.equal(await deny([{ name: 'a', image: 'registry-1.docker.io/library/nginx', imagePullPolicy: 'Always' }]),
    'pullgate: container "a" image "registry-1.docker.io/library/nginx": registry registry-1.docker.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000)');
  t.equal(await deny([{ name: 'a', image: `nginx@sha384:${'a'.repeat(96)}` }]), `pullgate: container "a" image "nginx@sha384:${'a'.repeat(96)}": pullgate verifies sha256 and sha512 digests only`);
  t.equal(await deny([{ name: 'a', image: 'nginx:1', imagePullPolicy: 'Sometimes' }]), `pullgate: ${unpinned('container "a"', 'nginx:1', 'Sometimes')}`, 'an unknown policy is treated as cached');
  t.equal(await deny([{ name: 'a', image: 'nginx', imagePullPolicy: 'IfNotPresent' }]), `pullgate: ${unpinned('container "a"', 'nginx', 'IfNotPresent')}`, 'explicit IfNotPresent on latest');
  t.equal(await deny([{ name: 'a', image: 'quay.io/x:1', imagePullPolicy: 'Always' }, { name: 'b', image: 'nginx:2', imagePullPolicy: 'IfNotPresent' }, { name: 'c', image: 'nginx:3', imagePullPolicy: 'Always' }]),
    `pullgate: container "a" image "quay.io/x:1": registry quay.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000); ${unpinned('container "b"', 'nginx:2', 'IfNotPresent')}`, 'every violation, in order');
  t.equal(await deny([{ name: 'a', image: `x${'/y'.repeat(1200)}` }]), `pullgate: container "a" image "x${'/y'.repeat(149)}/…": invalid image reference: reference is longer than 2048 characters`, 'long images are clipped in messages');

  const malformed = await w.review('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'm1', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, operation: 'CREATE', object: { spec: { template: { spec: { containers: 'nginx' } } } } } });
  t.same(malformed, { uid: 'm1', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'pullgate: spec.template.spec.containers of the Deployment object is not a list' } });
  const noTemplate = await w.review('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'm2', kind: { group: 'batch', version: 'v1', kind: 'CronJob' }, resource: { group: 'batch', version: 'v1', resource: 'cronjobs' }, operation: 'CREATE', object: { spec: { jobTemplate: {} } } } });
  t.equal(noTemplate.status?.message, 'pullgate: the CronJob object has no spec.jobTemplate.spec');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'malformed_object' }), 2);
});

t.test('what is not inspected, and what is', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  const bad = { containers: [{ name: 'a', image: 'quay.io/x:1', imagePullPolicy: 'IfNotPresent' }] };
  const allowed = async (review: object) => {
    const r = await w.review('/validate', review);
    return r.allowed && r.status === undefined && r.patch === undefined;
  };
  t.ok(await allowed(workloadReview(bad, { operation: 'DELETE' })), 'DELETE');
  t.ok(await allowed(workloadReview(bad, { operation: 'CONNECT' })), 'CONNECT (exec, attach, port-forward)');
  t.ok(await allowed(workloadReview(bad, { subResource: 'status' })), 'pods/status');
  t.ok(await allowed(workloadReview(bad, { kind: 'Deployment', subResource: 'scale' })), 'deployments/scale');
  t.ok(await allowed(workloadReview(bad, { kind: 'Deployment', group: 'example.com', resource: 'deployments' })), 'a CRD that happens to be called Deployment');
  t.ok(await allowed(workloadReview(bad, { kind: 'ConfigMap', group: '', resource: 'configmaps' })), 'ConfigMap');
  t.ok(await allowed(workloadReview(bad, { operation: 'UPDATE', deletionTimestamp: '2024-01-01T00:00:00Z' })), 'UPDATE of a terminating Pod');
  t.notOk(await allowed(workloadReview(bad, { operation: 'UPDATE' })), 'UPDATE is inspected');
  t.notOk(await allowed(workloadReview(bad, { deletionTimestamp: '2024-01-01T00:00:00Z' })), 'CREATE is inspected even with a deletionTimestamp');
  t.notOk(await allowed(workloadReview(bad, { kind: 'Deployment', group: 'extensions' })), 'extensions/v1beta1 Deployment is inspected');

  const eph = await w.review('/validate', workloadReview({ containers: [MAIN], ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent' }] }, { operation: 'UPDATE', subResource: 'ephemeralcontainers' }));
  t.equal(eph.status?.message, `pullgate: ${unpinned('ephemeral container "debugger"', 'busybox:1.36', 'IfNotPresent')}`, 'pods/ephemeralcontainers is inspected');
  const legacy = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'l1', kind: { group: '', version: 'v1', kind: 'EphemeralContainers' }, resource: { group: '', version: 'v1', resource: 'pods' }, subResource: 'ephemeralcontainers', operation: 'UPDATE', object: { ephemeralContainers: [{ name: 'dbg', image: 'quay.io/dbg:1' }] } } };
  t.match((await w.review('/validate', legacy)).status?.message, /^pullgate: ephemeral container "dbg" image "quay\.io\/dbg:1": registry quay\.io is not mirrored/, 'the 1.16–1.22 EphemeralContainers kind too');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'not_inspected' }), 6);
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'being_deleted' }), 1);
});

t.test('UPDATE: judged on the containers it changes', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  const legacy: ContainerSpec = { name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' };
  for (const kind of KINDS) {
    const label = (what: string) => `${kind}: ${what}`;
    const same = await w.review('/validate', workloadReview({ containers: [legacy] }, { kind, operation: 'UPDATE', old: { containers: [legacy] } }));
    t.same([same.allowed, same.status], [true, undefined], label('unchanged images (a label edit on an old workload) are not re-judged'));
    const changed = await w.review('/validate', workloadReview({ containers: [{ ...legacy, image: 'nginx:1.26' }] }, { kind, operation: 'UPDATE', old: { containers: [legacy] } }));
    t.equal(changed.status?.message, `pullgate: ${unpinned('container "app"', 'nginx:1.26', 'IfNotPresent')}`, label('a changed image is'));
    const policy = await w.review('/validate', workloadReview({ containers: [legacy] }, { kind, operation: 'UPDATE', old: { containers: [{ ...legacy, imagePullPolicy: 'Always' }] } }));
    t.equal(policy.allowed, false, label('so is a changed pull policy'));
    const added = await w.review('/validate', workloadReview({ containers: [legacy], initContainers: [{ ...legacy, name: 'init' }] }, { kind, operation: 'UPDATE', old: { containers: [legacy] } }));
    t.equal(added.status?.message, `pullgate: ${unpinned('init container "init"', 'nginx:1.25', 'IfNotPresent')}`, label('an added container is; the old one is not'));
  }
  const eph = await w.review('/validate', workloadReview(
    { containers: [legacy], ephemeralContainers: [{ name: 'dbg1', image: 'busybox:1.36' }, { name: 'dbg2', image: 'busybox:1.37' }] },
    { operation: 'UPDATE', subResource: 'ephemeralcontainers', old: { containers: [legacy], ephemeralContainers: [{ name: 'dbg1', image: 'busybox:1.36' }] } },
  ));
  t.equal(eph.status?.message, `pullgate: ${unpinned('ephemeral container "dbg2"', 'busybox:1.37', 'IfNotPresent', true)}`, 'pods/ephemeralcontainers: the new debug container');
  const noOld = await w.review('/validate', workloadReview({ containers: [legacy] }, { operation: 'UPDATE' }));
  t.equal(noOld.allowed, false, 'no readable oldObject: every container is judged (fail closed)');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'unchanged' }), KINDS.length);
});

t.test('exemptions', async (t) => {
  const w = await startTestWebhook({
    registries: REGISTRIES,
    webhook: { exemptNamespaces: ['kube-system'], exemptImages: ['registry.k8s.io/pause', 'quay.io/cilium/*', 'busybox:1.36', `ghcr.io/x/y@${D}`] },
  });
  t.teardown(() => w.close());
  const verdict = async (image: string, ns = 'default') =>
    (await w.review('/validate', workloadReview({ containers: [{ name: 'a', image, imagePullPolicy: 'IfNotPresent' }] }, { namespace: ns }))).allowed;
  t.equal(await verdict('quay.io/x:1', 'kube-system'), true, 'exempt namespace');
  t.equal(await verdict('registry.k8s.io/pause:3.9'), true, 'exact repository, any tag');
  t.equal(await verdict('quay.io/cilium/cilium:v1.15'), true, 'prefix');
  t.equal(await verdict('quay.io/ciliumx/cilium:v1.15'), false, 'prefix is a string prefix of registry/repository only');
  t.equal(await verdict('busybox:1.36'), true, 'normalised pattern with tag');
  t.equal(await verdict(`busybox:1.36@${D}`), true, 'tag pattern matches the pinned form');
  t.equal(await verdict('busybox:1.37'), false, 'other tags are not exempt');
  t.equal(await verdict(`ghcr.io/x/y@${D}`), true, 'digest pattern');
  t.equal(await verdict('ghcr.io/x/y:1'), false);
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'exempt_namespace' }), 1);

  for (const bad of ['*', 'registry.k8s.io/**', 'Registry/Pause', 'nginx*']) {
    t.throws(() => Exemptions.fromConfig({ exemptNamespaces: [], exemptImages: [bad] }, '/etc/pullgate.yaml'), ConfigError, bad);
  }
  t.throws(() => Exemptions.fromConfig({ exemptNamespaces: [], exemptImages: ['ok/x', 'Bad'] }, '/etc/pullgate.yaml'), { key: 'webhook.exemptImages[1]', message: /^\/etc\/pullgate\.yaml: webhook\.exemptImages\[1\]: "Bad" is not an image reference: .*\(fix: / });
  t.throws(() => buildConfig({ webhook: { exemptNamespaces: ['Kube_System'] } }, '/etc/p.yaml'), { name: 'ConfigError', key: 'webhook.exemptNamespaces[0]' });
});

t.test('audit mode: denials become warnings; dryRun and uid echo', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES, mode: 'audit' });
  t.teardown(() => w.close());
  const review = workloadReview({ containers: [{ name: 'a', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }] }, { dryRun: true });
  const r = await w.review('/validate', review);
  t.same(r, { uid: review.request.uid, allowed: true, warnings: [`pullgate (audit mode, would deny): ${unpinned('container "a"', 'nginx:1.25', 'IfNotPresent')}`] });
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'would_deny', reason: 'unpinned_tag' }), 1);
  const line = w.logs.find((l) => l.decision === 'would_deny');
  t.match(line, { uid: review.request.uid, dryRun: true, kind: 'Pod', namespace: 'default', reason: 'unpinned_tag', level: 40 }, 'one warn log line per decision');
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
