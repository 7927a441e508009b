/**
 * Issue 12.5 acceptance, end to end: what one pull may cost the registry. The real registry (distribution 2.8,
 * no referrers API: the `sha256-<hex>` tag schema index) holds images whose "signatures" are junk, pulled by ctr
 * through `pullgate serve` with a request budget of 64 and a byte budget of 3 MiB per decision:
 * - 60 signature manifests that all name the same 1 MiB envelope, plus 3 with small envelopes of their own: the
 *   pull is denied (none verifies), the registry's access log shows each envelope digest fetched at most once
 *   (the review saw the 1 MiB one read 50 times) and the decision's requests within the budget;
 * - 8 signature manifests with 8 distinct 1 MiB envelopes: denied `budget_exceeded` once the next envelope no
 *   longer fits, and the envelopes past that point are never requested.
 */
import t from 'tap';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { MEDIA, pushBlob, pushTestImage, putManifest, sha256Digest } from '../harness/images.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';
const MiB = 1024 * 1024;

interface Subject {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** Pushes `envelopes` (junk) and one legacy-form signature manifest per entry, then the tag-schema index listing them. */
async function pushJunkSignatures(registryUrl: string, repo: string, subject: Subject, envelopes: readonly Buffer[]): Promise<string[]> {
  const emptyConfig = await pushBlob(registryUrl, repo, Buffer.from('{}'));
  const pushed = new Map<Buffer, string>();
  const descriptors: object[] = [];
  for (const [i, envelope] of envelopes.entries()) {
    if (!pushed.has(envelope)) pushed.set(envelope, await pushBlob(registryUrl, repo, envelope));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: SIGNATURE_TYPE, digest: emptyConfig, size: 2 },
      layers: [{ mediaType: 'application/jose+json', digest: pushed.get(envelope)!, size: envelope.length }],
      subject,
      annotations: { 'test.pullgate/copy': String(i) },
    }));
    const digest = await putManifest(registryUrl, repo, sha256Digest(manifest), manifest, MEDIA.manifest);
    descriptors.push({ mediaType: MEDIA.manifest, digest, size: manifest.length, artifactType: SIGNATURE_TYPE });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: descriptors }));
  await putManifest(registryUrl, repo, subject.digest.replace(':', '-'), index, MEDIA.index);
  return [...new Set(pushed.values())];
}

t.test('one pull costs the registry a bounded amount, real registry and real containerd', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const many = await pushTestImage(registry.url, 'amp/many', 'v1', 'sixty signatures, one envelope');
  const shared = Buffer.alloc(MiB, 'j');
  const small = [0, 1, 2].map((i) => Buffer.from(`{"not":"an envelope ${i}"}`));
  // The three small ones first, so they are among the 50 signatures tried.
  const manyEnvelopes = await pushJunkSignatures(registry.url, 'amp/many', { mediaType: MEDIA.manifest, digest: many.manifest.digest, size: many.manifest.size }, [...small, ...Array.from({ length: 60 }, () => shared)]);
  const big = await pushTestImage(registry.url, 'amp/big', 'v1', 'eight distinct 1 MiB envelopes');
  const bigEnvelopes = await pushJunkSignatures(registry.url, 'amp/big', { mediaType: MEDIA.manifest, digest: big.manifest.digest, size: big.manifest.size }, Array.from({ length: 8 }, (_, i) => Buffer.alloc(MiB, `${i}`)));

  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: { upstream: { decisionMaxRequests: 64, decisionMaxBytes: 3 * MiB } },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  t.equal((await gate.cli(['hosts', '--dir', containerd.certsDir])).code, 0);
  const gateRequests = async (repo: string) => (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate' && e.path.startsWith(`/v2/${repo}/`));

  await t.test('60 signatures naming one 1 MiB envelope: denied; each envelope fetched at most once; within the budget', async (t) => {
    const pull = await containerd.ctrPull(many.ref);
    t.not(pull.code, 0, 'ctr pull fails');
    t.match(pull.stderr, /denied: pullgate: .*none of the first 50 signatures verified/, `the gate's reason reaches ctr: ${pull.stderr.slice(-300)}`);
    const requests = await gateRequests('amp/many');
    for (const envelope of manyEnvelopes) {
      const gets = requests.filter((e) => e.method === 'GET' && e.path === `/v2/amp/many/blobs/${envelope}`).length;
      t.ok(gets <= 1, `envelope ${envelope.slice(0, 19)}… fetched ${gets} time(s)`);
    }
    t.equal(requests.filter((e) => e.path === `/v2/amp/many/blobs/${sha256Digest(shared)}`).length, 1, 'the shared 1 MiB envelope: once, not 50 times');
    const byManifest = new Map<string, number>();
    for (const e of requests) {
      const m = /^\/v2\/amp\/many\/manifests\/(sha256:[0-9a-f]{64})/.exec(e.path);
      if (m !== null && m[1] !== many.manifest.digest) byManifest.set(m[1]!, (byManifest.get(m[1]!) ?? 0) + 1);
    }
    t.equal(byManifest.size, 50, 'the 50 signatures tried: 50 signature manifests');
    t.ok([...byManifest.values()].every((n) => n === 1), 'each signature manifest fetched once');
    const image = requests.filter((e) => e.path.startsWith('/v2/amp/many/manifests/v1') || e.path.startsWith(`/v2/amp/many/manifests/${many.manifest.digest}`)).length;
    t.ok(requests.length - image <= 64, `the decision's own requests (${requests.length - image}) within decisionMaxRequests (64)`);
    t.ok(await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'too_many_signatures' }) >= 1, 'denied for what the signatures are, not for the budget');
  });

  await t.test('distinct 1 MiB envelopes past the byte budget: denied budget_exceeded, the rest never requested', async (t) => {
    const pull = await containerd.ctrPull(big.ref);
    t.not(pull.code, 0, 'ctr pull fails');
    t.match(pull.stderr, /denied: pullgate: .*upstream\.decisionMaxBytes/, `the budget is named in the reason: ${pull.stderr.slice(-300)}`);
    const requests = await gateRequests('amp/big');
    const fetched = bigEnvelopes.filter((d) => requests.some((e) => e.method === 'GET' && e.path === `/v2/amp/big/blobs/${d}`));
    t.ok(fetched.length <= 3, `${fetched.length} of 8 envelopes requested (a 3 MiB budget holds fewer than 3)`);
    t.ok(await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'budget_exceeded' }) >= 1, 'counted under reason="budget_exceeded"');
  });

  await t.test('no request from containerd went around the gate', async (t) => {
    const direct = (await registry.accessLog()).filter((e) => e.userAgent.startsWith('containerd/'));
    t.same(direct.map((e) => `${e.method} ${e.path}`), [], 'containerd never reached the registry directly');
  });
});
