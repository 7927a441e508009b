/**
 * The verified store in the pull path, against the real registry: warm digests never go upstream, tags are
 * re-resolved every time (no drift), denials are remembered briefly, concurrent requests share one decision,
 * audit mode serves and counts, and an outage is survived only within the stale window.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type RegistryPeer } from '../harness/registry.ts';
import { pushTestImage, putManifest, MEDIA } from '../harness/images.ts';
import { writeNotationDir } from '../e2e/pullgate-process.ts';
import { startTestGate, metricValue } from './gate.ts';

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

function notationDir(t: { teardown(fn: () => void): void }, skipRepo: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pg-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [
      { name: 'open', registryScopes: [skipRepo], signatureVerification: { level: 'skip' } },
      { name: 'locked', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:none'], trustedIdentities: ['*'] },
    ],
  });
}

/** pullgate's manifest requests the registry saw, as "METHOD path". */
async function upstreamManifestCalls(registry: RegistryPeer): Promise<string[]> {
  return (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate' && e.path.includes('/manifests/')).map((e) => `${e.method} ${e.path}`);
}

t.test('warm digests, tag re-resolution, negative cache, single flight, audit', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const a = await pushTestImage(registry.url, 'test/app', 'v1', 'content A');
  const b = await pushTestImage(registry.url, 'test/app', 'other', 'content B');
  const locked = await pushTestImage(registry.url, 'test/locked', 'v1', 'locked');
  const gate = await startTestGate({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: notationDir(t, `${registry.host}/test/app`) } });
  t.teardown(() => gate.close());
  const get = (repo: string, ref: string, method = 'GET') =>
    fetch(`${gate.url}/v2/${repo}/manifests/${ref}?ns=${registry.host}`, { method, headers: { accept: ACCEPT } });

  const first = await get('test/app', a.manifest.digest);
  t.equal(first.status, 200);
  t.same(Buffer.from(await first.arrayBuffer()), a.manifest.bytes, 'exactly the stored bytes');
  const calls = (await upstreamManifestCalls(registry)).length;
  for (let i = 0; i < 10; i++) t.equal((await get('test/app', a.manifest.digest)).status, 200);
  t.equal((await upstreamManifestCalls(registry)).length, calls, 'warm GET by digest: served from the verified store, no upstream request');
  t.ok((await metricValue(gate.adminUrl, 'pullgate_decision_cache_total', { result: 'hit' })) >= 10);

  // Tag drift: every resolve asks the upstream, so moving the tag moves what is served.
  const head1 = await get('test/app', 'v1', 'HEAD');
  t.equal(head1.headers.get('docker-content-digest'), a.manifest.digest);
  t.equal(head1.headers.get('content-length'), String(a.manifest.bytes.length), 'HEAD carries the real length');
  await putManifest(registry.url, 'test/app', 'v1', b.manifest.bytes, MEDIA.manifest);
  const head2 = await get('test/app', 'v1', 'HEAD');
  t.equal(head2.headers.get('docker-content-digest'), b.manifest.digest, 'the moved tag resolves to the new digest at once');
  const beforeHeads = (await upstreamManifestCalls(registry)).filter((c) => c.startsWith('HEAD')).length;
  await get('test/app', 'v1', 'HEAD');
  t.equal((await upstreamManifestCalls(registry)).filter((c) => c.startsWith('HEAD')).length, beforeHeads + 1, 'one upstream HEAD per resolve');

  // Negative cache: a denied digest retried 20 times is fetched and decided once.
  const denyBefore = (await upstreamManifestCalls(registry)).filter((c) => c.startsWith('GET') && c.includes(locked.manifest.digest)).length;
  for (let i = 0; i < 20; i++) {
    const r = await get('test/locked', 'v1');
    t.equal(r.status, 403);
  }
  const lockedGets = (await upstreamManifestCalls(registry)).filter((c) => c.startsWith('GET') && c.includes(locked.manifest.digest)).length;
  t.equal(lockedGets - denyBefore, 1, 'one upstream GET for 20 denied pulls');
  t.equal(await metricValue(gate.adminUrl, 'pullgate_decision_cache_total', { result: 'negative_hit' }), 19);

  // Single flight: 50 concurrent requests for a digest nobody asked for yet (a `skip` scope: one manifest fetch;
  // one verification under a verifying statement is proved in test/e2e/single-flight.test.ts).
  const fresh = await pushTestImage(registry.url, 'test/app', 'fresh', 'content C');
  const results = await Promise.all(Array.from({ length: 50 }, () => get('test/app', fresh.manifest.digest)));
  t.ok(results.every((r) => r.status === 200));
  const freshGets = (await upstreamManifestCalls(registry)).filter((c) => c.startsWith('GET') && c.includes(fresh.manifest.digest));
  t.equal(freshGets.length, 1, '50 concurrent requests, one upstream fetch and one decision');
});

t.test('audit mode serves what it would deny and counts it', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const locked = await pushTestImage(registry.url, 'test/locked', 'v1', 'locked');
  const gate = await startTestGate({ mode: 'audit', registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: notationDir(t, `${registry.host}/test/app`) } });
  t.teardown(() => gate.close());
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${gate.url}/v2/test/locked/manifests/v1?ns=${registry.host}`, { headers: { accept: ACCEPT } });
    t.equal(r.status, 200, 'served in audit mode (fresh, then from the denial memory)');
    t.same(Buffer.from(await r.arrayBuffer()), locked.manifest.bytes);
  }
  t.equal(await metricValue(gate.adminUrl, 'pullgate_pull_decisions_total', { decision: 'would_deny' }), 2);
  t.ok(gate.logs.some((l) => l.decision === 'would_deny' && l.ref === `${registry.host}/test/locked:v1`), 'logged');
});

t.test('upstream outage: fail closed, except within the stale window', async (t) => {
  for (const staleIfErrorMs of [0, 60_000]) {
    const registry = await startRegistry();
    const app = await pushTestImage(registry.url, 'test/app', 'v1', 'content A');
    const gate = await startTestGate({
      registries: [{ host: registry.host, endpoint: registry.url }],
      notation: { configDir: notationDir(t, `${registry.host}/test/app`) },
      cache: { allowTtlMs: 0, staleIfErrorMs },
      upstream: { connectTimeoutMs: 500, headersTimeoutMs: 500 },
    });
    const get = (ref: string) => fetch(`${gate.url}/v2/test/app/manifests/${ref}?ns=${registry.host}`, { headers: { accept: ACCEPT } });
    t.equal((await get('v1')).status, 200, 'verified while the registry is up');
    await registry.stop();
    const byTag = await get('v1');
    const byDigest = await get(app.manifest.digest);
    if (staleIfErrorMs === 0) {
      t.equal(byTag.status, 403, 'no stale window: the tag is denied');
      t.match(await byTag.text(), /upstream unavailable/);
      t.equal(byDigest.status, 403, 'and so is the digest');
    } else {
      t.equal(byTag.status, 200, 'stale window: the tag resolves to what was verified');
      t.equal(byTag.headers.get('docker-content-digest'), app.manifest.digest);
      t.equal(byDigest.status, 200, 'and the digest is served');
      t.equal(await metricValue(gate.adminUrl, 'pullgate_decision_cache_total', { result: 'stale' }), 2, 'counted as stale');
      t.ok(gate.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('served stale')), 'and logged as such');
    }
    await gate.close();
  }
});
