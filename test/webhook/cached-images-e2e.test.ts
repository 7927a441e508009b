/**
 * Issue 12, items 3 and 4, against a real registry (Debian's distribution 2.8) with the notation e2e layouts:
 *  - a digest a node may run from its image store (IfNotPresent, Never, or the default for a digest) is
 *    verified at admission by default — with pinning and verify both off — so an unsigned one is denied and a
 *    signed one allowed, for containers and image volumes alike;
 *  - with pinning on, an image volume's tag is pinned at `…/volumes/i/image/reference` in every workload kind.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { closedUrl } from '../harness/ports.ts';
import { pushOciLayout, pushTestImage } from '../harness/images.ts';
import { VECTORS, writeNotationDir } from '../e2e/pullgate-process.ts';
import { patchOf, startTestWebhook, workloadReview, SPEC_PATH, type ContainerSpec } from './helpers.ts';

const LAYOUTS = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout');
/** The image every notation e2e layout signs (test/vectors/README.md §2.1). */
const SIGNED = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'];

t.test('cache-served digests and image volumes against a real registry', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  // The signed image with its signature; the same image without one (the `e2e` layout: signatures belong to
  // a repository); and an image nobody signed.
  await pushOciLayout(registry.url, 'e2e-valid-signature', join(LAYOUTS, 'e2e-valid-signature'), { rebuildReferrersTags: true });
  await pushOciLayout(registry.url, 'e2e', join(LAYOUTS, 'e2e'));
  const unsigned = await pushTestImage(registry.url, 'team/unsigned', 'v1', 'nobody signed this');
  const signedDigest = `${registry.host}/e2e-valid-signature@${SIGNED}`;
  const unsignedDigest = unsigned.digestRef;

  const dir = mkdtempSync(join(tmpdir(), 'pg-wh-cached-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notation = writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
  }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
  const registries = [{ host: registry.host, endpoint: registry.url }];

  await t.test('default config (pinning and verify off): an unsigned digest from the store is denied, a signed one allowed', async (t) => {
    const w = await startTestWebhook({ registries, notation: { configDir: notation }, webhook: { timeoutMs: 10_000 } });
    t.teardown(() => w.close());
    const verdict = async (c: Omit<ContainerSpec, 'name'>, kind = 'Pod') => {
      const r = await w.review('/validate', workloadReview({ containers: [{ name: 'app', ...c }] }, { kind }));
      return { allowed: r.allowed, message: r.status?.message };
    };
    const deniedUnsigned = (who: string) => `pullgate: ${who} image "${unsignedDigest}": ${unsigned.manifest.digest} is denied by the trust policy: no signature found`;

    t.same(await verdict({ image: unsignedDigest, imagePullPolicy: 'IfNotPresent' }), { allowed: false, message: deniedUnsigned('container "app"') }, 'unsigned digest, IfNotPresent: denied');
    t.same(await verdict({ image: unsignedDigest, imagePullPolicy: 'Never' }), { allowed: false, message: deniedUnsigned('container "app"') }, 'unsigned digest, Never: denied');
    t.same(await verdict({ image: unsignedDigest }), { allowed: false, message: deniedUnsigned('container "app"') }, 'unsigned digest, defaulted policy (IfNotPresent for a digest): denied');
    t.same(await verdict({ image: unsignedDigest, imagePullPolicy: 'IfNotPresent' }, 'Deployment'), { allowed: false, message: deniedUnsigned('container "app"') }, 'in a pod template too');
    t.same(await verdict({ image: unsignedDigest, imagePullPolicy: 'Always' }), { allowed: true, message: undefined }, 'Always: the gate decides on every start, nothing to do here');
    t.same(await verdict({ image: signedDigest, imagePullPolicy: 'IfNotPresent' }), { allowed: true, message: undefined }, 'signed digest, IfNotPresent: allowed');
    t.same(await verdict({ image: `${registry.host}/e2e-valid-signature:v1@${SIGNED}`, imagePullPolicy: 'Never' }), { allowed: true, message: undefined }, 'signed tag@digest, Never: allowed');
    t.same(await verdict({ image: `${registry.host}/e2e@${SIGNED}`, imagePullPolicy: 'IfNotPresent' }),
      { allowed: false, message: `pullgate: container "app" image "${registry.host}/e2e@${SIGNED}": ${SIGNED} is denied by the trust policy: no signature found` }, 'the signed digest in a repository with no signature: denied');

    // Image volumes: the same rule, named by volume, in a Pod and a template.
    for (const kind of ['Pod', 'CronJob']) {
      const r = await w.review('/validate', workloadReview({
        containers: [{ name: 'app', image: signedDigest, imagePullPolicy: 'IfNotPresent' }],
        volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'models', image: { reference: unsignedDigest, pullPolicy: 'IfNotPresent' } }, { name: 'ok', image: { reference: signedDigest } }],
      }, { kind }));
      t.same({ allowed: r.allowed, message: r.status?.message }, { allowed: false, message: deniedUnsigned('volume "models"') }, `${kind}: unsigned digest in an image volume denied, signed ones allowed`);
    }

    // The cost: one decision per digest and repository, then the resolver's cache (webhook.cacheTtlMs).
    const fetches = () => w.metric('pullgate_upstream_requests_total', { registry: registry.host, kind: 'manifest', status: '200' });
    const before = await fetches();
    const again = await Promise.all(Array.from({ length: 5 }, () => verdict({ image: signedDigest, imagePullPolicy: 'IfNotPresent' })));
    t.ok(again.every((v) => v.allowed), 'signed digest allowed again');
    t.equal(await fetches(), before, 'answered from the cache: no registry request');
  });

  await t.test('the registry unreachable: denied (fail closed)', async (t) => {
    const w = await startTestWebhook({ registries: [{ host: registry.host, endpoint: await closedUrl() }], notation: { configDir: notation }, webhook: { timeoutMs: 10_000 } });
    t.teardown(() => w.close());
    const r = await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: signedDigest, imagePullPolicy: 'IfNotPresent' }] }));
    t.equal(r.allowed, false);
    t.match(r.status?.message, new RegExp(`^pullgate: container "app" image "${escape(signedDigest)}": cannot resolve ${SIGNED}: upstream unavailable`));
  });

  await t.test('webhook.verifyCachedDigests: false is the documented unsafe opt-out', async (t) => {
    const w = await startTestWebhook({ registries, notation: { configDir: notation }, webhook: { verifyCachedDigests: false, timeoutMs: 10_000 } });
    t.teardown(() => w.close());
    const r = await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: unsignedDigest, imagePullPolicy: 'IfNotPresent' }] }));
    t.same([r.allowed, r.status], [true, undefined], 'the unsigned digest passes unverified');
  });

  await t.test('pinning: image volumes are pinned at …/volumes/i/image/reference in every kind; unsigned denied', async (t) => {
    const w = await startTestWebhook({ registries, notation: { configDir: notation }, webhook: { pinning: true, timeoutMs: 10_000 } });
    t.teardown(() => w.close());
    const tag = `${registry.host}/e2e-valid-signature:v1`;
    for (const kind of KINDS) {
      const base = `/${SPEC_PATH[kind]!.join('/')}`;
      const r = await w.review('/mutate', workloadReview({
        containers: [{ name: 'app', image: tag, imagePullPolicy: 'IfNotPresent' }],
        volumes: [{ name: 'cfg', configMap: { name: 'x' } }, { name: 'models', image: { reference: tag, pullPolicy: 'IfNotPresent' } }, { name: 'latest', image: { reference: tag, pullPolicy: 'Always' } }],
      }, { kind }));
      t.equal(r.allowed, true, `${kind}: allowed (${r.status?.message ?? ''})`);
      t.same(patchOf(r), [
        { op: 'replace', path: `${base}/containers/0/image`, value: `${tag}@${SIGNED}` },
        { op: 'replace', path: `${base}/volumes/1/image/reference`, value: `${tag}@${SIGNED}` },
      ], `${kind}: the container and the IfNotPresent volume pinned, the Always volume left alone`);
    }
    const bad = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image: signedDigest }], volumes: [{ name: 'models', image: { reference: unsigned.ref } }] }, { kind: 'StatefulSet' }));
    t.equal(bad.allowed, false);
    t.equal(bad.status?.message, `pullgate: volume "models" image "${unsigned.ref}": ${unsigned.manifest.digest} is denied by the trust policy: no signature found`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
