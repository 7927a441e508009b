/**
 * Issue 12, item 3: image volumes (`volumes[].image`, KEP-4639) get every rule container images get, in a Pod
 * and in every workload kind's pod template, with messages naming the volume; and an image-bearing field the
 * webhook does not understand denies the object instead of being ignored. No registry is contacted here (the
 * endpoints are a closed port); pinning patches for volumes are in cached-images-e2e.test.ts.
 */
import t from 'tap';
import { startTestWebhook, workloadReview, type ContainerSpec, type PodOptions } from './helpers.ts';
import { closedUrl } from '../harness/ports.ts';

// The registries are down: a port we just released refuses connections (a guessed "closed" port like 9 may not).
const CLOSED = await closedUrl();
const REGISTRIES = [{ host: 'docker.io', endpoint: CLOSED }, { host: '127.0.0.1:5000', endpoint: CLOSED }];
const D = 'sha256:89102e348749bb17a6a651a4b2a17420e1a66d2a44a675b981973d49a5af3a5e';
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];
const PATH: Record<string, string> = {
  Pod: 'spec',
  CronJob: 'spec.jobTemplate.spec.template.spec',
};
const MAIN: ContainerSpec = { name: 'main', image: 'nginx:1.25', imagePullPolicy: 'Always' };

type Volume = Record<string, unknown>;
const imageVolume = (name: string, image: Record<string, unknown>): Volume => ({ name, image });
/** A review whose pod spec has MAIN, the given volumes, and any extra pod spec fields. */
const withVolumes = (volumes: Volume[], opts: PodOptions & { extra?: Record<string, unknown>; oldVolumes?: Volume[] } = {}) =>
  workloadReview({ containers: [MAIN], volumes, ...opts.extra }, { ...opts, ...(opts.oldVolumes ? { old: { containers: [MAIN], volumes: opts.oldVolumes } } : {}) });

const unpinned = (volume: string, image: string, policy: string, defaulted = false) =>
  `volume "${volume}" image "${image}": ${defaulted ? `pullPolicy defaults to ${policy} for this tag` : `pullPolicy ${policy}`}, ` +
  `so a node may run its cached copy without asking pullgate; pin it by digest (${image}@sha256:…) or set pullPolicy: Always`;

t.test('image volumes: every rule, in every workload kind', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  for (const kind of KINDS) {
    const at = PATH[kind] ?? 'spec.template.spec';
    const message = async (volumes: Volume[]) => (await w.review('/validate', withVolumes(volumes, { kind }))).status?.message;

    t.equal(await message([imageVolume('data', { reference: 'nginx:1.25', pullPolicy: 'IfNotPresent' })]), `pullgate: ${unpinned('data', 'nginx:1.25', 'IfNotPresent')}`, `${kind}: tag + IfNotPresent denied, naming the volume`);
    t.equal(await message([imageVolume('data', { reference: '127.0.0.1:5000/team/models:v2', pullPolicy: 'Never' })]), `pullgate: ${unpinned('data', '127.0.0.1:5000/team/models:v2', 'Never')}`, `${kind}: tag + Never denied`);
    t.equal(await message([imageVolume('data', { reference: 'nginx:1.25' })]), `pullgate: ${unpinned('data', 'nginx:1.25', 'IfNotPresent', true)}`, `${kind}: defaulted policy of a tag`);
    t.equal(await message([imageVolume('data', { reference: `quay.io/org/models@${D}`, pullPolicy: 'Always' })]),
      `pullgate: volume "data" image "quay.io/org/models@${D}": registry quay.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000)`, `${kind}: unmirrored registry`);
    t.equal(await message([imageVolume('data', { reference: 'Models:1', pullPolicy: 'Always' })]),
      'pullgate: volume "data" image "Models:1": invalid image reference: invalid reference format: repository name (library/Models) must be lowercase', `${kind}: invalid reference`);
    t.equal(await message([imageVolume('data', { pullPolicy: 'Always' })]), 'pullgate: volume "data" has no image reference', `${kind}: no reference`);
    t.equal(await message([imageVolume('data', { reference: `nginx@sha384:${'a'.repeat(96)}`, pullPolicy: 'Always' })]), `pullgate: volume "data" image "nginx@sha384:${'a'.repeat(96)}": pullgate verifies sha256 and sha512 digests only`, `${kind}: sha384`);
    t.equal(await message([{ name: 'data', image: 'nginx:1.25' }]), `pullgate: ${at}.volumes[0].image of the ${kind} object is not an object`, `${kind}: malformed image source`);
    t.equal(await message([imageVolume('data', { reference: 'nginx:1.25', pullPolicy: 'Always', platform: 'linux/arm64' })]),
      `pullgate: ${at}.volumes[0].image.platform: pullgate does not understand this image-bearing field and cannot vouch for what it pulls (denied rather than ignored)`, `${kind}: unknown key under a volume's image`);

    for (const image of [{ reference: 'nginx:1.25', pullPolicy: 'Always' }, { reference: 'nginx' }, { reference: 'nginx:latest' }]) {
      const r = await w.review('/validate', withVolumes([{ name: 'cfg', configMap: { name: 'x' } }, imageVolume('data', image)], { kind }));
      t.same([r.allowed, r.status], [true, undefined], `${kind}: ${image.reference} ${image.pullPolicy ?? '(default Always)'} goes through the gate on every start`);
    }
    // Several violations: containers first, then volumes, each named.
    const both = await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: 'quay.io/x:1', imagePullPolicy: 'Always' }], volumes: [imageVolume('a', { reference: 'nginx:2' }), imageVolume('b', { reference: 'ghcr.io/y:1', pullPolicy: 'Always' })] }, { kind }));
    t.equal(both.status?.message, 'pullgate: container "app" image "quay.io/x:1": registry quay.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000); ' +
      `${unpinned('a', 'nginx:2', 'IfNotPresent', true)}; volume "b" image "ghcr.io/y:1": registry ghcr.io is not mirrored by pullgate on the nodes (mirrored: docker.io, 127.0.0.1:5000)`, `${kind}: every violation, in order`);
  }
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'unknown_image_field' }), KINDS.length);
});

t.test('image volumes: exemptions, UPDATE, audit', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES, webhook: { exemptNamespaces: ['tools'], exemptImages: ['quay.io/models/*'] } });
  t.teardown(() => w.close());
  const bad = imageVolume('data', { reference: 'quay.io/x/models:1', pullPolicy: 'IfNotPresent' });
  t.equal((await w.review('/validate', withVolumes([bad]))).allowed, false);
  t.equal((await w.review('/validate', withVolumes([bad], { namespace: 'tools' }))).allowed, true, 'exempt namespace');
  t.equal((await w.review('/validate', withVolumes([imageVolume('data', { reference: 'quay.io/models/llm:1', pullPolicy: 'IfNotPresent' })]))).allowed, true, 'exempt image');

  for (const kind of KINDS) {
    const same = await w.review('/validate', withVolumes([bad], { kind, operation: 'UPDATE', oldVolumes: [bad] }));
    t.same([same.allowed, same.status], [true, undefined], `${kind}: an unchanged image volume is not re-judged on UPDATE`);
    const changed = await w.review('/validate', withVolumes([imageVolume('data', { reference: 'nginx:1.26', pullPolicy: 'IfNotPresent' })], { kind, operation: 'UPDATE', oldVolumes: [bad] }));
    t.equal(changed.status?.message, `pullgate: ${unpinned('data', 'nginx:1.26', 'IfNotPresent')}`, `${kind}: a changed one is`);
    const policy = await w.review('/validate', withVolumes([imageVolume('data', { reference: 'nginx:1.26', pullPolicy: 'Never' })], { kind, operation: 'UPDATE', oldVolumes: [imageVolume('data', { reference: 'nginx:1.26', pullPolicy: 'Always' })] }));
    t.equal(policy.allowed, false, `${kind}: so is a changed pull policy`);
  }
  const audit = await startTestWebhook({ registries: REGISTRIES, mode: 'audit' });
  t.teardown(() => audit.close());
  const r = await audit.review('/validate', withVolumes([imageVolume('data', { reference: 'nginx:1.25', pullPolicy: 'IfNotPresent' })]));
  t.same([r.allowed, r.warnings], [true, [`pullgate (audit mode, would deny): ${unpinned('data', 'nginx:1.25', 'IfNotPresent')}`]]);
});

t.test('image-bearing fields the webhook does not understand are denied', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES });
  t.teardown(() => w.close());
  const unknown = (path: string) => `${path}: pullgate does not understand this image-bearing field and cannot vouch for what it pulls (denied rather than ignored)`;
  const verdict = async (extra: Record<string, unknown>, opts: PodOptions = {}) => (await w.review('/validate', withVolumes([], { ...opts, extra }))).status?.message;

  t.equal(await verdict({ volumes: [{ name: 'm', csi: { driver: 'csi-image.warm-metal.tech', volumeAttributes: { image: 'quay.io/evil/x:1' } } }] }),
    `pullgate: ${unknown('spec.volumes[0].csi.volumeAttributes.image')}`, 'an image-populating CSI driver\'s attribute');
  t.equal(await verdict({ containers: [{ ...MAIN, sidecarImage: 'quay.io/evil/x:1' }] }), `pullgate: ${unknown('spec.containers[0].sidecarImage')}`, 'an unknown container field');
  t.equal(await verdict({ initContainers: [{ name: 'i', image: `nginx@${D}`, imagePullPolicy: 'Always', ImageRef: 'x' }] }), `pullgate: ${unknown('spec.initContainers[0].ImageRef')}`, 'any case');
  t.equal(await verdict({ bootImage: { reference: 'quay.io/evil/x:1' } }), `pullgate: ${unknown('spec.bootImage')}`, 'a pod spec field from a newer Kubernetes');
  t.equal(await verdict({ volumes: [{ name: 'v', image: { reference: 'nginx', digest: D, platform: 'linux/arm64' } }] }),
    `pullgate: ${unknown('spec.volumes[0].image.digest')}; ${unknown('spec.volumes[0].image.platform')}`, 'every unknown key under a volume\'s image');
  t.equal(await verdict({ containers: [MAIN], ephemeralContainers: [{ name: 'dbg', image: 'nginx', debugImage: 'x' }] }, { operation: 'UPDATE', subResource: 'ephemeralcontainers' }),
    `pullgate: ${unknown('spec.ephemeralContainers[0].debugImage')}`, 'in pods/ephemeralcontainers too');
  t.equal(await verdict({ containers: [MAIN], image: 'quay.io/evil/x:1' }, { kind: 'Deployment' }), `pullgate: ${unknown('spec.template.spec.image')}`, 'in a pod template');

  const allowed = async (extra: Record<string, unknown>) => {
    const r = await w.review('/validate', withVolumes([], { extra }));
    return [r.allowed, r.status?.message];
  };
  t.same(await allowed({ imagePullSecrets: [{ name: 'image-pull' }] }), [true, undefined], 'imagePullSecrets names secrets');
  t.same(await allowed({ volumes: [{ name: 'ceph', rbd: { monitors: ['10.0.0.1:6789'], image: 'rbd-image', pool: 'kube' } }] }), [true, undefined], 'rbd.image is a Ceph block image');
  t.same(await allowed({ nodeSelector: { 'example.com/image-cache': 'true' } }), [true, undefined], 'label keys are not fields');
  t.same(await allowed({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'x', labelSelector: { matchLabels: { image: 'web' } } }] } } }), [true, undefined], 'matchLabels keys are labels');
  t.same(await allowed({ containers: [{ ...MAIN, resources: { limits: { 'example.com/image-gpu': '1' } }, env: [{ name: 'IMAGE', value: 'x' }] }] }), [true, undefined], 'resource names and env values');
  t.same(await allowed({ volumes: [{ name: 'e', ephemeral: { volumeClaimTemplate: { metadata: { annotations: { image: 'x' } }, spec: { accessModes: ['ReadWriteOnce'] } } } }] }), [true, undefined], 'metadata is not searched');

  // UPDATE: an unknown field the stored object already had is not judged again (label edits keep working);
  // a new or changed one is.
  const csi = { name: 'm', csi: { driver: 'd', volumeAttributes: { image: 'quay.io/x:1' } } };
  const csi2 = { name: 'm', csi: { driver: 'd', volumeAttributes: { image: 'quay.io/x:2' } } };
  const same = await w.review('/validate', withVolumes([csi], { operation: 'UPDATE', oldVolumes: [csi] }));
  t.same([same.allowed, same.status], [true, undefined], 'unchanged on UPDATE');
  const changed = await w.review('/validate', withVolumes([csi2], { operation: 'UPDATE', oldVolumes: [csi] }));
  t.equal(changed.status?.message, `pullgate: ${unknown('spec.volumes[0].csi.volumeAttributes.image')}`, 'changed on UPDATE');

  // Bounded: deep nesting cannot overflow the stack, and the message lists at most ten fields.
  // (Written as text: JSON.stringify itself recurses and cannot build it.)
  const text = JSON.stringify(withVolumes([], { extra: { deep: 'DEEP' } })).replace('"DEEP"', `${'{"a":'.repeat(20_000)}{"image":"x"}${'}'.repeat(20_000)}`);
  const deep = await w.post('/validate', text);
  t.match(deep.json?.response.status?.message, /^pullgate: spec\.deep(\.a){45}\.…(\.a){97}\.image: pullgate does not understand/, 'deeply nested, its path clipped in the message');
  const longKey = `image${'x'.repeat(100_000)}`;
  const long = await verdict({ [longKey]: 'quay.io/evil/x:1' });
  t.equal(long, `pullgate: spec.${longKey.slice(0, 95)}…${longKey.slice(-200)}: pullgate does not understand this image-bearing field and cannot vouch for what it pulls (denied rather than ignored)`, 'a long key is clipped');
  const many = await verdict({ containers: [{ ...MAIN, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`image${i}`, 'x'])) }] });
  t.equal(many?.split('; ').length, 10, 'at most ten listed');
});
