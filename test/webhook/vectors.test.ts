/**
 * Issue 6: every AdmissionReview sample from connaisseur and kubewarden (test/vectors/README.md §9) through the
 * real HTTP listener, asserting the exact `allowed`, status message and patch. Pinning, verify and
 * verifyCachedDigests are off here (no registry is contacted: the endpoints are a closed port, and the samples'
 * digests name images in registries these tests cannot reach); pinning-e2e.test.ts runs the kubewarden samples
 * with pinning on against a real registry, cached-images-e2e.test.ts the digest rule.
 */
import t from 'tap';
import type { Test } from 'tap';
import { readdirSync } from 'node:fs';
import { asReview, CONNAISSEUR, KUBEWARDEN, patchOf, startTestWebhook, vector, type AdmissionResponse } from './helpers.ts';
import { closedUrl } from '../harness/ports.ts';

// The registries are down: a port we just released refuses connections (a guessed "closed" port like 9 may not).
const CLOSED = await closedUrl();
const REGISTRIES = ['docker.io', 'my.reg', 'registry.k8s.io', 'ghcr.io'].map((host) => ({ host, endpoint: CLOSED }));
const MIRRORED = 'docker.io, my.reg, registry.k8s.io, ghcr.io';
/** The unsafe opt-out: digests a node may run from its store are not verified (see the file comment). */
const NO_DIGEST_CHECK = { verifyCachedDigests: false };

const unpinned = (who: string, image: string, policy: string, defaulted: boolean) =>
  `${who} image "${image}": ${defaulted ? `imagePullPolicy defaults to ${policy} for this tag` : `imagePullPolicy ${policy}`}, ` +
  `so a node may run its cached copy without asking pullgate; pin it by digest (${image}@sha256:…) or set imagePullPolicy: Always`;

type Expected =
  | { readonly http: 400; readonly text: string }
  | { readonly apiVersion: string; readonly uid: string; readonly allowed: true }
  | { readonly apiVersion: string; readonly uid: string; readonly allowed: false; readonly message: string };

const V1 = 'admission.k8s.io/v1';
const V1B = 'admission.k8s.io/v1beta1';
const POD_UID = '0c3331b6-1812-11ea-b3fc-02897404852e';
const DPL_UID = '3a3a7b38-5512-4a85-94bb-3562269e0a6a';
const JOB_UID = '4b84524b-2dc4-4e69-935d-833c86ff0c10';

const CONNAISSEUR_EXPECTED: Record<string, Expected> = {
  '01_deployment.json': { apiVersion: V1B, uid: DPL_UID, allowed: true }, // alice-image:test, Always
  '02_pod.json': { apiVersion: V1, uid: POD_UID, allowed: true }, // pinned by digest
  '03_replicaset.json': { apiVersion: V1B, uid: 'f8c8b687-fe68-48e2-8e2b-329567556307', allowed: true },
  '04_cronjob.json': { apiVersion: V1B, uid: '1d5c9e9a-a985-41ef-b87f-4bc6057e94a2', allowed: true }, // busybox = :latest, Always
  '05_replication_controller.json': { apiVersion: V1, uid: 'faa399ba-a51b-4790-a404-dd1aaac7421e', allowed: true },
  '06_daemonset.json': {
    apiVersion: V1, uid: '083cbdfe-ae0e-48ef-b944-8c4585c4aa90', allowed: false,
    message: `pullgate: container "fluentd-elasticsearch" image "quay.io/fluentd_elasticsearch/fluentd:v2.5.2": registry quay.io is not mirrored by pullgate on the nodes (mirrored: ${MIRRORED})`,
  },
  '07_statefulset.json': {
    apiVersion: V1, uid: '9412459c-09dc-4c90-b022-639eea4d2b2c', allowed: false,
    message: `pullgate: ${unpinned('container "nginx"', 'registry.k8s.io/nginx-slim:0.8', 'IfNotPresent', false)}`,
  },
  '08_job.json': { apiVersion: V1, uid: JOB_UID, allowed: false, message: `pullgate: ${unpinned('container "pi"', 'perl:5.34.0', 'IfNotPresent', false)}` },
  '09_dply_multi_image.json': {
    apiVersion: V1B, uid: '4784c1dc-553f-4d53-a8d3-23c4bda880b6', allowed: false,
    message: `pullgate: ${unpinned('init container "init"', 'busybox:1.32', 'IfNotPresent', false)}; ${unpinned('container "redis"', 'redis:alpine', 'IfNotPresent', false)}; ${unpinned('container "mysql"', 'mysql:8', 'IfNotPresent', false)}`,
  },
  '10_update.json': { apiVersion: V1, uid: '6418f614-b7f1-4c57-94bf-14fc30b2d791', allowed: true }, // UPDATE, images unchanged
  '11_role.json': { apiVersion: V1, uid: 'a13ec2e3-9c34-4fb7-9522-b191691b70e1', allowed: true }, // not a workload
  '12_err_pod.json': { apiVersion: V1, uid: POD_UID, allowed: false, message: 'pullgate: the Pod object has no spec' },
  '13_unknown_parent.json': { apiVersion: V1B, uid: POD_UID, allowed: true },
  '14_deny_me_job.json': { apiVersion: V1, uid: JOB_UID, allowed: true }, // my.reg is mirrored and the image is pinned
  '15_allow_me_job.json': { apiVersion: V1, uid: JOB_UID, allowed: true },
  '16_mismatch_uid.json': { apiVersion: V1, uid: POD_UID, allowed: true },
  '17_deny_me_pod.json': { apiVersion: V1, uid: POD_UID, allowed: true },
  '18_allow_me_pod.json': { apiVersion: V1, uid: POD_UID, allowed: true },
  '19_pod_initcontainer.json': { apiVersion: V1, uid: POD_UID, allowed: true }, // init nginx = :latest, Always
  '20_pod_ephemeralcontainer.json': { apiVersion: V1, uid: POD_UID, allowed: true },
  '21_broken_admission_request.json': { http: 400, text: 'malformed AdmissionReview: request.uid is missing\n' },
  '22_allow_me_with_index_docker_io.json': { apiVersion: V1, uid: POD_UID, allowed: true }, // test-image → docker.io/library/test-image:latest
  '23_alice_digest_dpl.json': { apiVersion: V1B, uid: DPL_UID, allowed: true },
  '24_alice_tag_digest_dpl.json': { apiVersion: V1B, uid: DPL_UID, allowed: true },
  '25_null_request.json': { http: 400, text: 'received empty admission request\n' },
  '26_broken_update_admission_request.json': { http: 400, text: 'malformed AdmissionReview: request.uid is missing\n' },
  '27_deleted_deployment.json': { apiVersion: V1B, uid: DPL_UID, allowed: true }, // CREATE: inspected (busybox, Always)
  '28_deleted_deployment_updated.json': { apiVersion: V1B, uid: DPL_UID, allowed: true }, // UPDATE of a terminating object
  '29_deleted_deployment_update_for_delete.json': { apiVersion: V1B, uid: DPL_UID, allowed: true },
};

const KW_UID = '1299d386-525b-4032-98ae-1949f69f9cfc';
const KW = 'ghcr.io/kubewarden/test-verify-image-signatures';
const kwTagDenied = (image: string): Expected => ({
  apiVersion: V1, uid: KW_UID, allowed: false,
  message: `pullgate: ${unpinned('container "test-verify-image-signatures"', image, 'IfNotPresent', true)}`,
});

const KUBEWARDEN_EXPECTED: Record<string, Expected> = {
  'pod_creation_with_digest.json': { apiVersion: V1, uid: KW_UID, allowed: true }, // nginx:v1.26@sha256:…
  'pod_creation_with_init_container.json': { apiVersion: V1, uid: KW_UID, allowed: true }, // init, nginx: :latest → Always
  'pod_creation_signed_with_certificate.json': kwTagDenied('ghcr.io/kubewarden/tests/pod-privileged:v0.2.1'),
  'pod_creation_signed_with_keyless_mode.json': kwTagDenied('ghcr.io/kubewarden/tests/pod-privileged:v0.2.1'),
};
for (const kind of ['pod', 'deployment', 'replicaset', 'statefulset', 'daemonset', 'replicationcontroller', 'job', 'cronjob']) {
  // No imagePullPolicy in these samples: a `:signed` tag defaults to IfNotPresent.
  KUBEWARDEN_EXPECTED[`${kind}_creation_signed.json`] = kwTagDenied(`${KW}:signed`);
  KUBEWARDEN_EXPECTED[`${kind}_creation_unsigned.json`] = kwTagDenied(`${KW}:unsigned`);
}

function check(t: Test, name: string, got: { status: number; text: string; json: { apiVersion: string; response: AdmissionResponse } | undefined }, want: Expected): void {
  if ('http' in want) {
    t.equal(got.status, want.http, `${name}: HTTP status`);
    t.equal(got.text, want.text, `${name}: message`);
    return;
  }
  t.equal(got.status, 200, `${name}: HTTP 200`);
  t.equal(got.json?.apiVersion, want.apiVersion, `${name}: answered in the version asked`);
  const r = got.json!.response;
  t.equal(r.uid, want.uid, `${name}: echoes request.uid`);
  t.equal(r.allowed, want.allowed, `${name}: allowed`);
  t.equal(r.status?.message, want.allowed ? undefined : want.message, `${name}: status message`);
  if (!want.allowed) t.equal(r.status?.code, 403, `${name}: status code`);
  t.equal(patchOf(r), undefined, `${name}: no patch from /validate`);
}

t.test('connaisseur AdmissionReview samples', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES, webhook: NO_DIGEST_CHECK });
  t.teardown(() => w.close());
  const files = readdirSync(CONNAISSEUR).filter((f) => f.endsWith('.json')).sort();
  t.same(files, Object.keys(CONNAISSEUR_EXPECTED).sort(), 'every sample has an expectation');
  for (const f of files) check(t, f, await w.post('/validate', vector(CONNAISSEUR, f)), CONNAISSEUR_EXPECTED[f]!);
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'error', reason: 'bad_request' }), 3, 'three 400s counted');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'being_deleted' }), 2, 'UPDATEs of terminating objects let through');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'not_inspected' }), 1, 'the Role');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'unpinned_tag' }), 3);
});

t.test('kubewarden AdmissionRequest samples (wrapped in AdmissionReview v1)', async (t) => {
  const w = await startTestWebhook({ registries: REGISTRIES, webhook: NO_DIGEST_CHECK });
  t.teardown(() => w.close());
  const files = readdirSync(KUBEWARDEN).filter((f) => f.endsWith('.json')).sort();
  t.same(files, Object.keys(KUBEWARDEN_EXPECTED).sort(), 'every sample has an expectation');
  for (const f of files) check(t, f, await w.post('/validate', asReview(JSON.parse(vector(KUBEWARDEN, f)))), KUBEWARDEN_EXPECTED[f]!);
});

t.test('the same samples with exemptions and fewer mirrored registries', async (t) => {
  const w = await startTestWebhook({
    registries: [{ host: 'docker.io', endpoint: CLOSED }],
    webhook: { ...NO_DIGEST_CHECK, exemptNamespaces: ['kube-system', 'connaisseur'], exemptImages: ['securesystemsengineering/alice-image', 'my.reg/allow-me'] },
  });
  t.teardown(() => w.close());
  const answer = async (f: string) => (await w.post('/validate', vector(CONNAISSEUR, f))).json!.response;
  t.equal((await answer('06_daemonset.json')).allowed, true, 'kube-system is exempt: quay.io not looked at');
  t.equal((await answer('09_dply_multi_image.json')).allowed, true, 'namespace connaisseur is exempt');
  t.equal((await answer('24_alice_tag_digest_dpl.json')).allowed, true, 'exempt image, any tag or digest');
  t.equal((await answer('18_allow_me_pod.json')).allowed, true, 'my.reg/allow-me is exempt although my.reg is not mirrored');
  const denied = await answer('17_deny_me_pod.json');
  t.equal(denied.allowed, false);
  t.equal(denied.status?.message, 'pullgate: container "test-connaisseur" image "my.reg/deny-me@sha256:91ac9b26df583762234c1cdb2fc930364754ccc59bc752a2bfe298d2ea68f9ff": registry my.reg is not mirrored by pullgate on the nodes (mirrored: docker.io)');
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'allow', reason: 'exempt_namespace' }), 2);
});
