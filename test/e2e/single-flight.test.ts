/**
 * Single flight, proved (README: "Concurrent requests for one digest share one verification"): 50 concurrent
 * first pulls of a signed image under a strict statement, through a fresh `pullgate serve` (its referrers memo
 * cold), against the real registry, cost exactly one verification.
 *
 * Why a relay: with the registry answering at full speed, a late pull can find the first verification already
 * finished and be served from the verified store — "one verification" would then prove the cache, not single
 * flight. So the gate's upstream is a relay to the real registry that holds every manifest GET back until all
 * 50 pulls have resolved their tag (the gate counts each HEAD answer in pullgate_upstream_requests_total, and
 * what follows an answer up to joining the verification runs without further I/O). No verification can finish
 * before every pull has asked for it. Every answer is still the registry's; the evidence is its access log:
 * one manifest fetch, one referrers probe, one referrers-tag fetch, one signature manifest, one envelope blob.
 */
import t from 'tap';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry } from '../harness/registry.ts';
import { startHoldingRelay } from '../harness/holding-relay.ts';
import { getManifest, pushTestImage, MEDIA } from '../harness/images.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';
import { e2eSigner, signInRegistry } from './sign-and-push.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
const PULLS = 50;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test(`${PULLS} concurrent first pulls of a signed image: exactly one verification`, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const image = await pushTestImage(registry.url, 'own/fresh', 'v1', 'single flight');
  const digest = image.manifest.digest;
  const signature = await signInRegistry(registry.url, 'own/fresh', { mediaType: MEDIA.manifest, digest, size: image.manifest.size }, e2eSigner());
  const envelope = (JSON.parse((await getManifest(registry.url, 'own/fresh', signature)).bytes.toString()) as { layers: { digest: string }[] }).layers[0]!.digest;

  const relay = await startHoldingRelay(registry.url, (method, path) => method === 'GET' && path.startsWith('/v2/own/fresh/manifests/'));
  t.teardown(() => relay.close());
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: relay.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
  });
  t.teardown(() => gate.stop());
  const logStart = (await registry.accessLog()).length;

  // What containerd sends for a pull by tag (REAL-PEERS §3): HEAD to resolve, then GET by digest.
  const pull = async () => {
    const head = await fetch(`${gate.url}/v2/own/fresh/manifests/v1?ns=${registry.host}`, { method: 'HEAD', headers: { accept: ACCEPT } });
    const resolved = head.headers.get('docker-content-digest');
    const get = await fetch(`${gate.url}/v2/own/fresh/manifests/${resolved}?ns=${registry.host}`, { headers: { accept: ACCEPT } });
    await get.arrayBuffer();
    return { head: head.status, resolved, get: get.status };
  };
  const pulls = Promise.all(Array.from({ length: PULLS }, pull));
  const tagAnswers = () => gate.metric('pullgate_upstream_requests_total', { registry: registry.host, kind: 'manifest', status: '200' });
  await until(`all ${PULLS} tag resolves answered inside the gate, the verification held`, async () => (await tagAnswers()) === PULLS && relay.heldCount() > 0);
  t.equal(await tagAnswers(), PULLS, `${PULLS} pulls are in the gate, none has been decided`);
  relay.release();
  const results = await pulls;
  t.same(results.filter((r) => r.head !== 200 || r.resolved !== digest || r.get !== 200), [], `all ${PULLS} pulls allowed, under the signed digest`);

  const line = (e: { method: string; path: string }) => `${e.method} ${e.path}`;
  const upstream = (await registry.accessLog()).slice(logStart).filter((e) => e.userAgent === 'pullgate').map(line);
  const count = (pattern: RegExp) => upstream.filter((l) => pattern.test(l)).length;
  const hex = digest.slice('sha256:'.length);
  t.equal(count(/^HEAD \/v2\/own\/fresh\/manifests\/v1$/), PULLS, 'each pull resolved its tag upstream (tags are never cached)');
  t.equal(count(new RegExp(`^GET /v2/own/fresh/manifests/${digest}$`)), 1, 'one manifest fetch');
  t.equal(count(new RegExp(`^GET /v2/own/fresh/referrers/${digest}\\?`)), 1, 'one referrers API probe: the memo was cold, and asked once');
  t.equal(count(new RegExp(`^GET /v2/own/fresh/manifests/sha256-${hex}$`)), 1, 'one referrers-tag fetch');
  t.equal(count(new RegExp(`^GET /v2/own/fresh/manifests/${signature}$`)), 1, 'one signature manifest fetch');
  t.equal(count(new RegExp(`^GET /v2/own/fresh/blobs/${envelope}$`)), 1, 'one envelope blob fetch: one verification');
  t.equal(upstream.length, PULLS + 5, `nothing else went upstream: ${JSON.stringify(upstream.filter((l) => !l.startsWith('HEAD')))}`);

  // Every HEAD was decided by that one verification (cache "miss", shared), none from the store after it.
  const ref = `${registry.host}/own/fresh:v1`;
  const heads = () => gate.logLines().filter((l) => l.ref === ref && l.method === 'HEAD' && l.decision !== undefined);
  await until('the decision log lines', async () => heads().length === PULLS);
  t.same([...new Set(heads().map((l) => `${String(l.decision)} ${String(l.reason)} ${String(l.cache)}`))], ['allow verified miss'], 'all HEADs share the one fresh verification');
  t.equal(await gate.metric('pullgate_decision_cache_total', { result: 'hit' }), PULLS, 'the GETs by digest that followed came from the verified store');
});
