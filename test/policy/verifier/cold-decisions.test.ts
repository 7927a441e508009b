/**
 * The cap on cold decisions (issue 12.5): at most `concurrent` verifications go upstream at once; the next ones
 * wait in a bounded FIFO queue for at most `waitMs`, then are denied `gate_busy`; a full queue denies at once.
 * The limiter on its own, then through the verifier with a registry whose signature lookups hang until released.
 */
import t from 'tap';
import type { ArtifactFetcher, ReferrersPage } from '../../../oci/discovery/fetcher.ts';
import { ColdDecisions, type ColdDecisionLimits } from '../../../oci/discovery/cold-decisions.ts';
import { makeSigningCert } from '../envelope/make-signed.ts';
import { MemoryRegistry, OCI_MANIFEST } from './memory-registry.ts';
import { engineWith, notationDir, signatureManifest, targetOf } from './fixtures.ts';

const GiB = 1024 * 1024 * 1024;
const limits = (concurrent: number, queue: number, waitMs: number, maxBytes = GiB): ColdDecisionLimits => ({ concurrent, queue, waitMs, maxBytes });

t.test('the limiter: slots, a FIFO queue with a bound, a wait with a deadline, reconfiguration', async (t) => {
  const cold = new ColdDecisions(limits(2, 2, 60_000));
  t.ok(cold.tryAcquire() && cold.tryAcquire(), 'two slots');
  t.notOk(cold.tryAcquire(), 'no third');
  t.ok(cold.saturated);
  const order: string[] = [];
  const first = cold.wait().then((ok) => (order.push(`first ${ok}`), ok));
  const second = cold.wait().then((ok) => (order.push(`second ${ok}`), ok));
  t.equal(cold.queued, 2);
  t.equal(await cold.wait(), false, 'the queue is full: denied at once');
  cold.release();
  t.equal(await first, true, 'a release hands the slot to the longest waiter');
  t.same(order, ['first true']);
  t.equal(cold.active, 2, 'the slot moved, it was not freed');
  cold.configure(limits(3, 2, 60_000));
  t.equal(await second, true, 'more room from a reload wakes the next waiter');
  t.equal(cold.active, 3);

  const short = new ColdDecisions(limits(1, 4, 30));
  t.ok(short.tryAcquire());
  t.equal(await short.wait(), false, 'no slot within waitMs: false');
  t.equal(short.queued, 0, 'and it left the queue');
  short.release();
  t.equal(short.active, 0);
  t.equal(await new ColdDecisions(limits(1, 0, 1000)).wait(), true, 'a free slot needs no queue');
});

t.test('through the verifier: past the cap decisions queue, then are denied gate_busy; none is allowed', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const registry = new MemoryRegistry();
  const images = ['a', 'b', 'c', 'd'].map((name) => {
    const config = Buffer.from(`{"name":"${name}"}`);
    registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: registry.putBlob(config), size: config.length }, layers: [] }, name);
    return targetOf(registry, 'registry.example', 'app', name);
  });
  // Signature lookups of image "a" hang until released: it holds the only slot meanwhile.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let lookups = 0;
  const fetcher: ArtifactFetcher = {
    async referrers(repo, subject, type, next): Promise<ReferrersPage> {
      lookups++;
      if (subject === images[0]!.digest.text) await held;
      return registry.referrers(repo, subject, type, next);
    },
    manifest: (repo, ref, accept, max) => registry.manifest(repo, ref, accept, max),
    blob: (repo, digest, max) => registry.blob(repo, digest, max),
  };
  const cold = new ColdDecisions(limits(1, 1, 200));
  const engine = await engineWith(dir, registry, { fetcherFor: () => fetcher, coldDecisions: cold });

  const a = engine.decide(images[0]!);
  const b = engine.decide(images[1]!);
  const c = await engine.decide(images[2]!);
  t.match(c, { allow: false, reason: 'gate_busy' }, 'the queue (1) is full: denied at once');
  t.match(c.message, /too many images are being verified at once \(1\)/);
  t.match(await b, { allow: false, reason: 'gate_busy' }, 'no slot within 200 ms: denied');
  t.equal(lookups, 1, 'neither denied decision reached the registry');
  t.equal(cold.active, 1);

  engine.prepare({ registry: 'registry.example', repository: 'app', digest: images[3]!.digest });
  t.equal(lookups, 1, 'no early discovery while the cap is reached');

  release();
  t.match(await a, { allow: false, reason: 'no_signature' }, 'the decision holding the slot finishes normally');
  t.equal(cold.active, 0, 'and gives its slot back');
  t.match(await engine.decide(images[3]!), { allow: false, reason: 'no_signature' }, 'room again: decided normally');
});

t.test('the bytes all cold decisions hold are bounded too: past the pool, gate_busy; a decision gives back what it held', async (t) => {
  const MiB = 1024 * 1024;
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const registry = new MemoryRegistry();
  registry.putBlob(Buffer.from('{}'));
  const images = ['a', 'b'].map((name) => {
    const config = Buffer.from(`{"name":"${name}"}`);
    const m = registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: registry.putBlob(config), size: config.length }, layers: [] }, name);
    // Two junk signatures of 2 MiB each per image.
    for (const i of [0, 1]) {
      const envelope = Buffer.alloc(2 * MiB, `${name}${i}`);
      registry.putManifest(signatureManifest({ digest: registry.putBlob(envelope), size: envelope.length, mediaType: 'application/jose+json' }, { mediaType: m.mediaType, digest: m.digest, size: m.size }));
    }
    return targetOf(registry, 'registry.example', 'app', name);
  });
  // Image "a" stops after its first envelope, holding it, until released.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let aEnvelopes = 0;
  let reached!: () => void;
  const holding = new Promise<void>((resolve) => (reached = resolve));
  const fetcher: ArtifactFetcher = {
    referrers: (repo, subject, type, next) => registry.referrers(repo, subject, type, next),
    async manifest(repo, ref, accept, max) {
      return registry.manifest(repo, ref, accept, max);
    },
    async blob(repo, digest, max) {
      const b = await registry.blob(repo, digest, max);
      if (b[0] === 'a'.charCodeAt(0) && aEnvelopes++ === 1) {
        reached();
        await held;
      }
      return b;
    },
  };
  const cold = new ColdDecisions(limits(4, 0, 0, 5 * MiB));
  const engine = await engineWith(dir, registry, { fetcherFor: () => fetcher, coldDecisions: cold });
  const a = engine.decide(images[0]!);
  await holding;
  t.ok(cold.bytesHeld >= 4 * MiB, `decision a holds its two envelopes (${cold.bytesHeld} bytes)`);
  const b = await engine.decide(images[1]!);
  t.match(b, { allow: false, reason: 'gate_busy' }, b.message);
  t.match(b.message, /upstream\.coldDecisionMaxBytes/);
  release();
  t.match(await a, { allow: false, reason: 'signature_invalid' }, 'decision a finishes on its own terms');
  t.equal(cold.bytesHeld, 0, 'and gives back every byte it held');
  t.match(await engine.decide(images[1]!), { allow: false, reason: 'signature_invalid' }, 'b, again: room now');
  t.equal(cold.bytesHeld, 0);
});

t.test('discoveries started early count against the cap: a flood of digests that never get decided starts few', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const registry = new MemoryRegistry();
  const engine = await engineWith(dir, registry, { coldDecisions: new ColdDecisions(limits(3, 0, 0)) });
  for (let i = 0; i < 20; i++) {
    const hex = i.toString(16).padStart(64, '0');
    engine.prepare({ registry: 'registry.example', repository: 'app', digest: { algorithm: 'sha256', hex, text: `sha256:${hex}` } });
  }
  t.equal(registry.calls.referrers, 3, '3 of 20 early discoveries started (the cap), not 20');
});
