/**
 * Issue 6 acceptance, against a real registry (Debian's distribution 2.8) with the notation e2e layouts pushed:
 * with pinning on, a signed tag is resolved, verified through the policy engine and patched to its signed
 * digest; an unsigned one is denied with the reason. The kubewarden samples (every workload kind) run through
 * `/mutate` with `ghcr.io` mapped onto the local registry, as their upstream e2e suite does against ghcr.io.
 */
import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { closedUrl } from '../harness/ports.ts';
import { getManifest, pushOciLayout, pushTestImage, putManifest } from '../harness/images.ts';
import { VECTORS, writeNotationDir } from '../e2e/pullgate-process.ts';
import { asReview, KUBEWARDEN, patchOf, startTestWebhook, vector, workloadReview, type AdmissionResponse } from './helpers.ts';

const LAYOUTS = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout');
/** The image every notation e2e layout signs (test/vectors/README.md §2.1). */
const SIGNED = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const KW_REPO = 'kubewarden/test-verify-image-signatures';

t.test('pinning against a real registry with the notation e2e layouts', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  // The signed image with its signature (referrers tag schema: distribution 2.8 has no referrers API)…
  const signed = await pushOciLayout(registry.url, 'e2e-valid-signature', join(LAYOUTS, 'e2e-valid-signature'), { rebuildReferrersTags: true });
  t.equal(signed.tags.v1, SIGNED, 'layout pushed, v1 is the signed image');
  // …the same image without any signature (the `e2e` layout), and the kubewarden repository: `:signed` is the
  // signed image and its signature, `:unsigned` an image nobody signed.
  await pushOciLayout(registry.url, 'e2e', join(LAYOUTS, 'e2e'));
  await pushOciLayout(registry.url, KW_REPO, join(LAYOUTS, 'e2e-valid-signature'), { rebuildReferrersTags: true });
  const manifest = await getManifest(registry.url, KW_REPO, SIGNED);
  await putManifest(registry.url, KW_REPO, 'signed', manifest.bytes, manifest.contentType!);
  const unsigned = await pushTestImage(registry.url, KW_REPO, 'unsigned', 'nobody signed this');

  const dir = mkdtempSync(join(tmpdir(), 'pg-wh-pin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notation = writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
  }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
  const w = await startTestWebhook({
    registries: [
      { host: registry.host, endpoint: registry.url },
      { host: 'ghcr.io', endpoint: registry.url },
      { host: 'docker.io', endpoint: await closedUrl() },
    ],
    notation: { configDir: notation },
    webhook: { pinning: true, timeoutMs: 10_000 },
  });
  t.teardown(() => w.close());

  await t.test('notation e2e layouts: signed tag pinned, unsigned denied with the reason', async (t) => {
    const signedRef = `${registry.host}/e2e-valid-signature:v1`;
    const review = workloadReview({ containers: [{ name: 'app', image: signedRef, imagePullPolicy: 'IfNotPresent' }] });
    const r = await w.review('/mutate', review);
    t.equal(r.allowed, true, `signed tag allowed: ${r.status?.message ?? ''}`);
    t.equal(r.patchType, 'JSONPatch');
    t.same(patchOf(r), [{ op: 'replace', path: '/spec/containers/0/image', value: `${signedRef}@${SIGNED}` }], 'patched to repo:tag@<signed digest>');

    const unsignedRef = `${registry.host}/e2e:v1`;
    const denied = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image: unsignedRef, imagePullPolicy: 'IfNotPresent' }] }));
    t.equal(denied.allowed, false);
    t.equal(denied.patch, undefined);
    t.equal(denied.status?.message, `pullgate: container "app" image "${unsignedRef}": ${SIGNED} is denied by the trust policy: no signature found`);
    t.notMatch(denied.status?.message, /signature verification not implemented/, 'denied because it is unsigned, not because nothing verifies');
    t.match(denied.status?.message, /signature/i, 'the reason talks about the missing signature');

    const validated = await w.review('/validate', review);
    t.equal(validated.allowed, false, '/validate never pins: the tag is denied there');
    t.equal((await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: `${signedRef}@${SIGNED}`, imagePullPolicy: 'IfNotPresent' }] }))).allowed, true, 'the pinned form passes /validate');
  });

  await t.test('every container kind and template path is patched', async (t) => {
    const image = `${registry.host}/e2e-valid-signature:v1`;
    const pod = await w.review('/mutate', workloadReview({
      initContainers: [{ name: 'init', image, imagePullPolicy: 'IfNotPresent' }],
      containers: [{ name: 'a', image, imagePullPolicy: 'Always' }, { name: 'b', image, imagePullPolicy: 'Never' }],
      ephemeralContainers: [{ name: 'dbg', image }],
    }));
    t.same(patchOf(pod), [
      { op: 'replace', path: '/spec/initContainers/0/image', value: `${image}@${SIGNED}` },
      { op: 'replace', path: '/spec/containers/1/image', value: `${image}@${SIGNED}` },
      { op: 'replace', path: '/spec/ephemeralContainers/0/image', value: `${image}@${SIGNED}` },
    ], 'Always is left alone; IfNotPresent, Never and the defaulted policy are pinned');
    const cron = await w.review('/mutate', workloadReview({ initContainers: [{ name: 'init', image }], containers: [{ name: 'a', image: `${image}@${SIGNED}` }] }, { kind: 'CronJob' }));
    t.same(patchOf(cron), [{ op: 'replace', path: '/spec/jobTemplate/spec/template/spec/initContainers/0/image', value: `${image}@${SIGNED}` }]);
    // A label edit on a workload written before pinning must not rewrite its images (a rollout, or a container
    // restart on a Pod): only what the UPDATE changes is pinned.
    const old = { containers: [{ name: 'a', image, imagePullPolicy: 'IfNotPresent' }] };
    const relabel = await w.review('/mutate', workloadReview(old, { kind: 'Deployment', operation: 'UPDATE', old }));
    t.same([relabel.allowed, relabel.patch], [true, undefined], 'UPDATE with unchanged images: no patch');
    const bump = await w.review('/mutate', workloadReview({ containers: [{ name: 'a', image: `${registry.host}/e2e-valid-signature:v1`, imagePullPolicy: 'Never' }] }, { kind: 'Deployment', operation: 'UPDATE', old }));
    t.same(patchOf(bump), [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: `${image}@${SIGNED}` }], 'a changed container is pinned');
  });

  await t.test('kubewarden samples through /mutate: signed → patched, unsigned → denied', async (t) => {
    const paths: Record<string, string> = {
      pod: '/spec/containers/0/image',
      cronjob: '/spec/jobTemplate/spec/template/spec/containers/0/image',
    };
    for (const kind of ['pod', 'deployment', 'replicaset', 'statefulset', 'daemonset', 'replicationcontroller', 'job', 'cronjob']) {
      const s = await w.review('/mutate', asReview(JSON.parse(vector(KUBEWARDEN, `${kind}_creation_signed.json`))));
      t.same(s, {
        uid: '1299d386-525b-4032-98ae-1949f69f9cfc',
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify([{ op: 'replace', path: paths[kind] ?? '/spec/template/spec/containers/0/image', value: `ghcr.io/${KW_REPO}:signed@${SIGNED}` }])).toString('base64'),
      } satisfies AdmissionResponse, `${kind} signed`);
      const u = await w.review('/mutate', asReview(JSON.parse(vector(KUBEWARDEN, `${kind}_creation_unsigned.json`))));
      t.equal(u.allowed, false, `${kind} unsigned denied`);
      t.equal(u.status?.message, `pullgate: container "test-verify-image-signatures" image "ghcr.io/${KW_REPO}:unsigned": ${unsigned.manifest.digest} is denied by the trust policy: no signature found`, `${kind} unsigned: reason`);
    }
    const missing = await w.review('/mutate', asReview(JSON.parse(vector(KUBEWARDEN, 'pod_creation_signed_with_certificate.json'))));
    t.same(missing.status?.message, 'pullgate: container "test-verify-image-signatures" image "ghcr.io/kubewarden/tests/pod-privileged:v0.2.1": cannot resolve v0.2.1: manifest unknown upstream');
    // Already pinned, so nothing to patch; but a node may hold that digest and run it without asking the gate,
    // so it is verified now (webhook.verifyCachedDigests), and docker.io is a closed port here: denied.
    const digest = await w.review('/mutate', asReview(JSON.parse(vector(KUBEWARDEN, 'pod_creation_with_digest.json'))));
    t.same({ allowed: digest.allowed, patch: digest.patch }, { allowed: false, patch: undefined }, 'already pinned: not patched, and verified');
    t.match(digest.status?.message, /^pullgate: container "nginx" image "nginx:v1\.26@sha256:89102e34[0-9a-f]+": cannot resolve sha256:89102e34[0-9a-f]+: upstream unavailable/);
  });

  await t.test('resolutions are shared and cached; a dry run makes no registry request', async (t) => {
    const image = `${registry.host}/e2e-valid-signature:v1`;
    const fetches = () => w.metric('pullgate_upstream_requests_total', { registry: registry.host, kind: 'manifest', status: '200' });
    const review = (dryRun: boolean) => workloadReview({ containers: [{ name: 'a', image, imagePullPolicy: 'IfNotPresent' }] }, { namespace: 'cache-test', dryRun });
    // Earlier subtests cached this tag: forget nothing, just count from here on a fresh tag.
    await putManifest(registry.url, 'e2e-valid-signature', 'v2', manifest.bytes, manifest.contentType!);
    const fresh = `${registry.host}/e2e-valid-signature:v2`;
    const freshReview = (dryRun: boolean) => workloadReview({ containers: [{ name: 'a', image: fresh, imagePullPolicy: 'IfNotPresent' }] }, { dryRun });
    const before = await fetches();
    const dry = await w.review('/mutate', freshReview(true));
    t.equal(dry.allowed, true, 'a dry run is answered (nothing runs from it)');
    t.equal(dry.patch, undefined, 'not pinned: that would need a lookup');
    t.match(dry.warnings, [/container "a" image ".*:v2": not checked in this dry run \(pullgate makes no registry requests for dry runs/], 'the client is told what was not checked');
    t.equal(await fetches(), before, 'the dry run made no registry request');
    const real = await w.review('/mutate', freshReview(false));
    t.same(patchOf(real), [{ op: 'replace', path: '/spec/containers/0/image', value: `${fresh}@${SIGNED}` }], 'the real request is resolved and pinned');
    const afterReal = await fetches();
    t.ok(afterReal > before, 'resolved upstream');
    const dryAgain = await w.review('/mutate', freshReview(true));
    t.same(patchOf(dryAgain), patchOf(real), 'a dry run gets what is already decided');
    t.equal(dryAgain.warnings, undefined);
    const many = await Promise.all(Array.from({ length: 5 }, () => w.review('/mutate', review(false))));
    t.ok(many.every((r) => r.allowed && r.patch !== undefined));
    await w.review('/mutate', freshReview(false));
    t.equal(await fetches(), afterReal, 'cached: no further upstream requests for either tag');
    // The pinned Pod that /mutate produced comes back to /validate by digest: decided already, no lookup.
    const pinned = await w.review('/validate', workloadReview({ containers: [{ name: 'a', image: `${fresh}@${SIGNED}`, imagePullPolicy: 'IfNotPresent' }] }));
    t.equal(pinned.allowed, true, pinned.status?.message ?? '');
    t.equal(await fetches(), afterReal, 'the digest the tag resolved to is cached too');
  });

  await t.test('a review may start at most webhook.maxResolutionsPerReview lookups', async (t) => {
    const capped = await startTestWebhook({
      registries: [{ host: registry.host, endpoint: registry.url }],
      notation: { configDir: notation },
      webhook: { pinning: true, timeoutMs: 10_000, maxResolutionsPerReview: 3 },
    });
    t.teardown(() => capped.close());
    const fetches = () => capped.metric('pullgate_upstream_requests_total', { registry: registry.host, kind: 'manifest' });
    const tags = Array.from({ length: 6 }, (_, i) => `cap${i}`);
    for (const tag of tags) await putManifest(registry.url, 'e2e-valid-signature', tag, manifest.bytes, manifest.contentType!);
    // Ten containers, six distinct images: the same image twice is one lookup.
    const containers = [...tags, tags[0]!, tags[1]!, tags[2]!, tags[0]!].map((tag, i) => ({ name: `c${i}`, image: `${registry.host}/e2e-valid-signature:${tag}`, imagePullPolicy: 'IfNotPresent' }));
    const r = await capped.review('/mutate', workloadReview({ containers }));
    t.equal(r.allowed, false, 'more distinct images than the cap: denied');
    t.match(r.status?.message, /container "c3" image ".*:cap3": not looked up: this request names more than 3 images that need a registry lookup \(webhook\.maxResolutionsPerReview\)/);
    t.notMatch(r.status?.message, /"c6"|"c7"|"c8"|"c9"/, 'repeats of looked-up images are within the cap');
    const spent = await fetches();
    t.ok(spent > 0, 'the first three were looked up');
    t.equal(await capped.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'too_many_images' }), 1, 'counted under its reason');
    // Within the cap (three images already decided cost nothing): allowed.
    const ok = await capped.review('/mutate', workloadReview({ containers: containers.slice(0, 3) }));
    t.equal(ok.allowed, true, ok.status?.message ?? '');
    t.equal(await fetches(), spent, 'decided images cost no lookup');
  });

  await t.test('webhook.verify: Always tags and digests must pass the trust policy too', async (t) => {
    const v = await startTestWebhook({
      registries: [{ host: registry.host, endpoint: registry.url }],
      notation: { configDir: notation },
      webhook: { verify: true, timeoutMs: 10_000 },
    });
    t.teardown(() => v.close());
    const ok = await v.review('/validate', workloadReview({ containers: [{ name: 'a', image: `${registry.host}/e2e-valid-signature:v1`, imagePullPolicy: 'Always' }, { name: 'b', image: `${registry.host}/e2e-valid-signature@${SIGNED}` }] }));
    t.same({ allowed: ok.allowed, message: ok.status?.message }, { allowed: true, message: undefined }, 'signed tag (Always) and the signed digest pass');
    // Signatures belong to a repository: the same digest in the `e2e` repository has none.
    const elsewhere = await v.review('/validate', workloadReview({ containers: [{ name: 'b', image: `${registry.host}/e2e@${SIGNED}` }] }));
    t.equal(elsewhere.status?.message, `pullgate: container "b" image "${registry.host}/e2e@${SIGNED}": ${SIGNED} is denied by the trust policy: no signature found`);
    const bad = await v.review('/validate', workloadReview({ containers: [{ name: 'a', image: `${registry.host}/${KW_REPO}:unsigned`, imagePullPolicy: 'Always' }] }));
    t.equal(bad.allowed, false);
    t.match(bad.status?.message, new RegExp(`^pullgate: container "a" image "${escape(registry.host)}/${escape(KW_REPO)}:unsigned": ${unsigned.manifest.digest} is denied by the trust policy: `));
    t.equal(await v.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'policy_denied' }), 2);
    t.same(await fetch(`${v.url}/readyz`).then(async (r) => [r.status, await r.text()]), [200, 'ready\n'], 'ready: the trust policy loaded');
  });

  await t.test('a trust store swapped on disk reaches the webhook without a restart', async (t) => {
    const dir2 = mkdtempSync(join(tmpdir(), 'pg-wh-reload-'));
    t.teardown(() => rmSync(dir2, { recursive: true, force: true }));
    const notation2 = writeNotationDir(dir2, {
      version: '1.0',
      trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
    }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
    const r = await startTestWebhook({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: notation2 }, webhook: { pinning: true, timeoutMs: 10_000 }, reloadIntervalMs: 100 });
    t.teardown(() => r.close());
    const review = workloadReview({ containers: [{ name: 'app', image: `${registry.host}/e2e-valid-signature:v1`, imagePullPolicy: 'IfNotPresent' }] });
    t.equal((await r.review('/mutate', review)).allowed, true, 'pinned with the e2e certificate trusted');
    const store = join(notation2, 'truststore/x509/ca/e2e');
    copyFileSync(join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/new_e2e.crt'), join(store, 'new.crt'));
    rmSync(join(store, 'e2e.crt'));
    const deadline = Date.now() + 10_000;
    while ((await r.metric('pullgate_config_reloads_total', { kind: 'policy', result: 'ok' })) < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const after = await r.review('/mutate', review);
    t.equal(after.allowed, false, 'the same tag is denied once the store no longer trusts its signer');
    t.match(after.status?.message, /denied by the trust policy: .*not trusted/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
