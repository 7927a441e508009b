// What one decision may cost upstream (issue 12.5): each envelope and signature manifest digest fetched once per
// decision, a request and a byte budget whose breach is its own deny reason, the decision's deadline aborting the
// fetch under way, and a prepared discovery spending the same budget as the verification that takes it. Through
// the engine and verifier as the gate builds them; the registry is the in-memory one, counting calls.
import t from 'tap';
import type { ArtifactFetcher } from '../../../oci/discovery/fetcher.ts';
import { PreparedDiscoveries } from '../../../verifiers/notation/verifier/prepared-discoveries.ts';
import { makeSigningCert } from '../envelope/make-signed.ts';
import { MemoryRegistry, OCI_MANIFEST } from '../verifier/memory-registry.ts';
import { engineWith, notationDir, signatureManifest, targetOf } from '../verifier/fixtures.ts';

const JWS = 'application/jose+json';
const MiB = 1024 * 1024;

async function policyDir(t: Parameters<typeof notationDir>[0]) {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  return notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
}

function image(opts: { referrersApi?: boolean } = {}) {
  const registry = new MemoryRegistry(opts);
  const config = Buffer.from('{"x":1}');
  const m = registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: registry.putBlob(config), size: config.length }, layers: [] }, 'v1');
  const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  return { registry, descriptor, target: targetOf(registry, 'registry.example', 'app', 'v1') };
}

/** `n` distinct signature manifests on the image that all name the envelope `bytes` (stored once). */
function manyNaming(registry: MemoryRegistry, subject: { mediaType: string; digest: string; size: number }, bytes: Buffer, n: number, tag = 'x'): string[] {
  const envelope = { digest: registry.putBlob(bytes), size: bytes.length, mediaType: JWS };
  registry.putBlob(Buffer.from('{}'));
  return Array.from({ length: n }, (_, i) => {
    const doc = signatureManifest(envelope, subject) as { annotations: Record<string, string> };
    doc.annotations = { ...doc.annotations, 'test.pullgate/copy': `${tag}-${i}` };
    return registry.putManifest(doc).digest;
  });
}

/** A 1 MiB junk envelope, different for each `seed`. */
const junk = (seed: string, size = MiB): Buffer => Buffer.alloc(size, seed);

t.test('60 signature manifests naming one envelope: the envelope is downloaded once per decision', async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  manyNaming(registry, descriptor, junk('a'), 60);
  const d = await (await engineWith(dir, registry)).decide(target);
  t.notOk(d.allow, d.message);
  t.equal(d.reason, 'too_many_signatures', 'notation\'s bound of 50 signatures still decides');
  t.equal(d.signatures?.length, 50, 'all 50 were tried');
  t.equal(registry.calls.blob, 1, 'one envelope download, not 50');
  t.equal(registry.calls.manifest, 50, 'each signature manifest once');

  // The memo belongs to one decision: the next one reads the registry again (it may have changed).
  await (await engineWith(dir, registry)).decide(target);
  t.equal(registry.calls.blob, 2, 'a new decision downloads it again, once');
});

t.test('byte budget: distinct 1 MiB envelopes past it are never requested; denied budget_exceeded', async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  for (let i = 0; i < 8; i++) manyNaming(registry, descriptor, junk(String(i)), 1, `e${i}`);
  const d = await (await engineWith(dir, registry, { budget: { maxRequests: 128, maxBytes: 3 * MiB } })).decide(target);
  t.notOk(d.allow);
  t.equal(d.reason, 'budget_exceeded', d.message);
  t.match(d.message, /more than 3145728 bytes .*upstream\.decisionMaxBytes/);
  t.ok(registry.calls.blob <= 3, `at most 3 envelopes of 1 MiB requested (${registry.calls.blob})`);
  t.ok(d.signatures !== undefined && d.signatures.length < 8, 'the search stopped');
});

t.test('request budget: denied budget_exceeded once the decision would make more requests', async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  for (let i = 0; i < 20; i++) manyNaming(registry, descriptor, Buffer.from(`junk ${i}`), 1, `r${i}`);
  const d = await (await engineWith(dir, registry, { budget: { maxRequests: 10, maxBytes: 64 * MiB } })).decide(target);
  t.equal(d.reason, 'budget_exceeded', d.message);
  t.match(d.message, /more than 10 upstream requests .*upstream\.decisionMaxRequests/);
  const calls = registry.calls.referrers + registry.calls.manifest + registry.calls.blob;
  t.equal(calls, 10, 'exactly the budget reached the registry');
});

t.test("the registry's own budget (its fetcher's decisionLimits) applies over the verifier's default", async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  for (let i = 0; i < 5; i++) manyNaming(registry, descriptor, Buffer.from(`junk ${i}`), 1, `f${i}`);
  const fetcher: ArtifactFetcher = {
    decisionLimits: { maxRequests: 4, maxBytes: 64 * MiB },
    referrers: (repo, subject, type, next) => registry.referrers(repo, subject, type, next),
    manifest: (repo, ref, accept, max) => registry.manifest(repo, ref, accept, max),
    blob: (repo, digest, max) => registry.blob(repo, digest, max),
  };
  const d = await (await engineWith(dir, registry, { fetcherFor: () => fetcher })).decide(target);
  t.equal(d.reason, 'budget_exceeded', d.message);
  t.equal(registry.calls.referrers + registry.calls.manifest + registry.calls.blob, 4);
});

t.test('the decision deadline aborts the fetch under way (its AbortSignal fires)', async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  manyNaming(registry, descriptor, junk('s', 1024), 1);
  let aborted: unknown;
  let sawSignal = false;
  const fetcher: ArtifactFetcher = {
    referrers: (repo, subject, type, next) => registry.referrers(repo, subject, type, next),
    manifest: (repo, ref, accept, max) => registry.manifest(repo, ref, accept, max),
    // An envelope that never arrives: only the signal can end this call.
    blob: (_repo, _digest, _max, signal) =>
      new Promise<Buffer>((_resolve, reject) => {
        sawSignal = signal !== undefined;
        signal?.addEventListener('abort', () => {
          aborted = signal.reason;
          reject(signal.reason as Error);
        });
      }),
  };
  const d = await (await engineWith(dir, registry, { fetcherFor: () => fetcher, timeoutMs: 100 })).decide(target);
  t.match(d, { allow: false, reason: 'verification_timeout' });
  t.ok(sawSignal, 'the blob fetch was given a signal');
  const deadline = Date.now() + 5000;
  while (aborted === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.match(aborted, { code: 'ABORTED' }, 'the timeout aborted it');
});

t.test('a prepared discovery spends the budget of the verification that takes it', async (t) => {
  const dir = await policyDir(t);
  const { registry, descriptor, target } = image();
  for (let i = 0; i < 5; i++) manyNaming(registry, descriptor, Buffer.from(`junk ${i}`), 1, `p${i}`);
  const engine = await engineWith(dir, registry, { budget: { maxRequests: 3, maxBytes: 64 * MiB } });
  engine.prepare(target);
  const d = await engine.decide(target);
  t.equal(d.reason, 'budget_exceeded', d.message);
  t.equal(registry.calls.referrers, 1, 'the discovery was prepared, not repeated');
  t.equal(registry.calls.referrers + registry.calls.manifest + registry.calls.blob, 3, 'one budget for both: 3 requests in all');
});

t.test('a prepared discovery nobody takes has its budget ended when it expires', async (t) => {
  let now = 0;
  const store = new PreparedDiscoveries({ ttlMs: 100, now: () => now });
  const subject = (hex: string) => ({ registry: 'r.example', repository: 'app', digest: { algorithm: 'sha256' as const, hex: hex.repeat(64), text: `sha256:${hex.repeat(64)}` } });
  const ended: string[] = [];
  const prepared = (name: string) => () => ({ discovery: new Promise<never>(() => {}), budget: { end: () => void ended.push(name) } });
  store.start(subject('a'), 's', prepared('a'));
  store.start(subject('a'), 's', prepared('duplicate'));
  t.same(ended, [], 'a duplicate is never started, so there is nothing to end');
  now = 150;
  store.start(subject('b'), 's', prepared('b'));
  t.same(ended, ['a'], 'the expired entry was pruned and its budget ended');
  now = 300;
  t.equal(store.claim(subject('b'), 's'), undefined, 'too late to claim');
  t.same(ended, ['a', 'b']);
});
