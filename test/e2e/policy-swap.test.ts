/**
 * Issue 12.1 end to end: a trust-store change while a decision is in flight. A decision made under the old trust
 * store may finish after the reload, but it must never be seen by a request that started under the new one:
 * not through the verified store (fresh pulls), not through the stale window (pulls during an outage), and not
 * by joining it through single flight.
 *
 * Real registry, real `pullgate serve`, real containerd. The only extra part is a relay between the gate and the
 * registry that parks the signature lookup (referrers API / referrers tag) until the test releases it, so "the
 * decision is in flight while the store changes" is a fact, not a timing guess, and that later answers 503 for
 * the outage. The trust store's one certificate is replaced by an unrelated one (the Secret update).
 */
import t, { type Test } from 'tap';
import { renameSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry, type RegistryPeer } from '../harness/registry.ts';
import { startContainerd, type ContainerdPeer } from '../harness/containerd.ts';
import { pushOciLayout } from '../harness/images.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';
import { startSwitchableRelay } from './switchable-relay.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const LAYOUT = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature');
const SIGNED_DIGEST = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/** Waits for `check` up to `timeoutMs`; says whether it came true (the caller asserts). */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

interface Scenario {
  readonly repo: string;
  readonly cache: Record<string, number>;
}

/**
 * Starts a gate behind a relay, parks a decision for `repo:v1` on its signature lookup, swaps the trust store,
 * sends a request under the new store, then lets everything finish. Returns what the later checks need.
 */
async function swapDuringDecision(t: Test, registry: RegistryPeer, containerd: ContainerdPeer, s: Scenario) {
  await pushOciLayout(registry.url, s.repo, LAYOUT, { rebuildReferrersTags: true });
  const relay = await startSwitchableRelay(registry.url);
  t.teardown(() => relay.close());
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: relay.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'signed', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: { reloadIntervalMs: 100, cache: s.cache },
  });
  t.teardown(() => gate.stop());
  t.equal((await gate.cli(['hosts', '--dir', containerd.certsDir])).code, 0, 'containerd points at this gate');
  const manifests = (ref: string, method = 'GET') => fetch(`${gate.url}/v2/${s.repo}/manifests/${ref}?ns=${registry.host}`, { method, headers: { accept: ACCEPT } });

  // 1. A first pull starts deciding under the old store and is parked on its signature lookup.
  relay.hold((method, path) => method === 'GET' && path.startsWith(`/v2/${s.repo}/`) && (path.includes('/referrers/') || path.includes('/manifests/sha256-')));
  const old = manifests('v1', 'HEAD');
  t.ok(await eventually(() => relay.heldCount() >= 1), 'the first decision is in flight, parked on its signature lookup');

  // 2. The trust store's certificate is replaced by an unrelated one, atomically (rename), and the gate reloads.
  t.equal(await gate.metric('pullgate_config_reloads_total', { kind: 'policy', result: 'ok' }), 0, 'no reload before the swap');
  const staging = join(gate.dir, 'staging.crt');
  writeFileSync(staging, readFileSync(join(KEYS, 'new_e2e.crt')));
  renameSync(staging, join(gate.dir, 'notation/truststore/x509/ca/e2e/e2e.crt'));
  t.ok(await eventually(async () => (await gate.metric('pullgate_config_reloads_total', { kind: 'policy', result: 'ok' })) >= 1), 'the gate reloaded the trust store');
  t.equal(relay.heldCount(), 1, 'the old decision is still parked');

  // 3. A request under the new store while the old decision is in flight must decide on its own: its own
  // signature lookup reaches the relay (joining the old decision would make none).
  const fresh = manifests(SIGNED_DIGEST);
  const ownLookup = await eventually(() => relay.heldCount() >= 2);
  t.ok(ownLookup, 'a request under the new store does not join the decision made under the old one');
  relay.release();
  const oldStatus = (await old).status;
  t.comment(`the in-flight request that started under the old store answered ${oldStatus} (either is acceptable)`);
  const freshAnswer = await fresh;
  t.equal(freshAnswer.status, 403, 'the request under the new store is denied');
  t.match(await freshAnswer.text(), /certificate chain not trusted/);
  return { gate, relay, manifests };
}

/**
 * Puts the image's content into containerd's store straight from the registry, not through the gate: the node
 * already has it from an earlier pull. containerd then re-pulls it with only the resolve (DESIGN § What containerd
 * really does), so during an outage the gate's answer to that HEAD alone decides whether the node gets it.
 */
async function alreadyOnNode(t: Test, containerd: ContainerdPeer, ref: string): Promise<void> {
  const direct = await containerd.ctr(['content', 'fetch', '--plain-http', ref]);
  t.equal(direct.code, 0, 'precondition: the node has the content already', direct.code === 0 ? {} : { stderr: direct.stderr });
}

t.test('trust store replaced while a decision is in flight', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());

  await t.test('fresh pulls afterwards are denied; an outage does not bring the old allow back', async (t) => {
    const repo = 'e2e/swap-cached';
    const { gate, relay } = await swapDuringDecision(t, registry, containerd, { repo, cache: { staleIfErrorMs: 600_000 } });
    const ref = `${registry.host}/${repo}:v1`;
    const pull = await containerd.ctr(['content', 'fetch', '--hosts-dir', containerd.certsDir, ref]);
    t.not(pull.code, 0, 'containerd cannot fetch the image after the swap');
    t.match(pull.stderr, /denied: pullgate: .*certificate chain not trusted/, 'denied by the new trust store');
    t.equal(await gate.metric('pullgate_decision_cache_total', { result: 'hit' }), 0, 'nothing was served from an allow');

    await alreadyOnNode(t, containerd, ref);
    relay.setUnavailable(true);
    const during = await containerd.ctr(['content', 'fetch', '--hosts-dir', containerd.certsDir, ref]);
    t.not(during.code, 0, 'registry down: the node\'s re-pull is not answered from the old decision');
    t.match(during.stderr, /denied: pullgate: .*unavailable/i, 'denied because the registry is down');
    t.equal(await gate.metric('pullgate_decision_cache_total', { result: 'stale' }), 0, 'nothing served stale');
    await containerd.removeImage(ref);
  });

  await t.test('no allow or deny cache, stale window only: the outage still finds nothing from the old store', async (t) => {
    const repo = 'e2e/swap-stale';
    const { gate, relay, manifests } = await swapDuringDecision(t, registry, containerd, { repo, cache: { allowTtlMs: 0, denyTtlMs: 0, staleIfErrorMs: 600_000 } });
    relay.setUnavailable(true);
    const byTag = await manifests('v1');
    t.equal(byTag.status, 403, 'by tag during the outage: denied');
    t.match(await byTag.text(), /unavailable|503/i, 'because the registry is down');
    t.equal((await manifests(SIGNED_DIGEST)).status, 403, 'by digest during the outage: denied');
    const ref = `${registry.host}/${repo}:v1`;
    relay.setUnavailable(false);
    await alreadyOnNode(t, containerd, ref);
    relay.setUnavailable(true);
    const pull = await containerd.ctr(['content', 'fetch', '--hosts-dir', containerd.certsDir, ref]);
    t.not(pull.code, 0, 'the node\'s re-pull is not answered from the stale window');
    t.match(pull.stderr, /denied: pullgate: .*unavailable/i, 'denied because the registry is down');
    t.equal(await gate.metric('pullgate_decision_cache_total', { result: 'stale' }), 0, 'nothing served stale');
    await containerd.removeImage(ref);
  });
});
