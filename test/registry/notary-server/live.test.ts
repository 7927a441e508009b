/**
 * NotaryServerClient against the real notary-server + notary-signer (Debian's notary 0.7.0, REAL-PEERS § 7), with a
 * GUN signed by the real `notary` client: the bytes are exactly what a plain GET returns, 404 is notFound, the
 * verifier passes end to end over the client, the private CA is what makes TLS work, and (through a counting relay in
 * front of the server) the cache and the single flight save requests for as long as max-age allows and no longer.
 */
import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { NotaryServerClient, NotaryServerError } from '../../../registry/notary-server.ts';
import { prepareNotaryV1Policy, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';
import { startNotary } from '../../harness/notary.ts';
import { waitFor } from '../../harness/wait.ts';
import { startCountingRelay } from './relay.ts';

const GUN = '127.0.0.1:5000/team/app';
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const V1 = { hex: hex('manifest v1'), size: 1234 };
const V2 = { hex: hex('manifest v2'), size: 567 };

const notary = await startNotary();
t.teardown(() => notary.stop());
const signer = notary.client(GUN);
await signer.init();
await signer.addHash('v1', V1.size, V1.hex);
const releases = await signer.makeDelegationKey('releases', { form: 'x509' });
await signer.addDelegation('targets/releases', releases);
await signer.importKey(releases.privateKeyFile, 'targets/releases');
await signer.addHash('v2', V2.size, V2.hex, { role: 'targets/releases' });

const direct = (limits?: ConstructorParameters<typeof NotaryServerClient>[0]['limits']) => {
  const c = new NotaryServerClient({ url: new URL(notary.url), caFile: notary.caFile, ...(limits ? { limits } : {}) });
  t.teardown(() => c.close());
  return c;
};
const bytesOf = (r: Awaited<ReturnType<NotaryServerClient['fetchRole']>>): Buffer => {
  if (!('bytes' in r)) throw new Error('expected bytes, got notFound');
  return Buffer.from(r.bytes);
};

t.test('every role of a signed GUN, byte for byte what a plain GET returns, with the server max-age', async (t) => {
  const client = direct();
  for (const name of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', '1.root']) {
    const plain = await notary.trustFile(GUN, name);
    t.equal(plain.status, 200, `${name}: served`);
    const got = await client.fetchRole(GUN, name);
    t.ok(bytesOf(got).equals(plain.body), `${name}: same ${plain.body.length} bytes`);
    // notary-server: max-age=300 for current metadata, 30 days for a consistent (versioned) file
    t.equal('maxAgeSeconds' in got ? got.maxAgeSeconds : undefined, name === '1.root' ? 2592000 : 300, `${name}: max-age`);
  }
  t.equal(JSON.parse(bytesOf(await client.fetchRole(GUN, 'targets/releases')).toString()).signed.targets.v2.length, V2.size, 'the delegation signs v2');
});

t.test('unknown GUN, role and root version are notFound', async (t) => {
  const client = direct();
  t.same(await client.fetchRole('127.0.0.1:5000/nobody/here', 'root'), { notFound: true });
  t.same(await client.fetchRole(GUN, 'targets/nobody'), { notFound: true });
  t.same(await client.fetchRole(GUN, '9.root'), { notFound: true });
});

t.test('the verifier passes end to end over the client (a tag in targets, a tag in a delegation)', async (t) => {
  const client = direct();
  const root = JSON.parse(bytesOf(await client.fetchRole(GUN, 'root')).toString()) as { signed: { keys: Record<string, { keyval: { public: string } }>; roles: { root: { keyids: string[] } } } };
  const rootCert = new X509Certificate(Buffer.from(root.signed.keys[root.signed.roles.root.keyids[0]!]!.keyval.public, 'base64'));
  const pinned = rootCert.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  for (const trust of [{ certificateRule: true }, { publicKeys: [pinned] }]) {
    const policy = prepareNotaryV1Policy({ trust });
    const v1 = await verifyNotaryV1({ gun: GUN, reference: { tag: 'v1' }, policy, source: client, now: new Date() });
    t.match(v1, { ok: true, digest: `sha256:${V1.hex}`, length: V1.size, decidedBy: [{ role: 'targets' }] }, `v1 (${Object.keys(trust)[0]})`);
    const v2 = await verifyNotaryV1({ gun: GUN, reference: { tag: 'v2' }, policy, source: client, now: new Date() });
    t.match(v2, { ok: true, digest: `sha256:${V2.hex}`, length: V2.size, decidedBy: [{ role: 'targets/releases' }] }, `v2 (${Object.keys(trust)[0]})`);
    t.match(await verifyNotaryV1({ gun: GUN, reference: { tag: 'v3' }, policy, source: client, now: new Date() }), { ok: false, code: 'tag_not_signed' });
  }
});

t.test('TLS: the private CA file is what makes the server trusted', async (t) => {
  const client = new NotaryServerClient({ url: new URL(notary.url) });
  t.teardown(() => client.close());
  await t.rejects(client.fetchRole(GUN, 'root'), { code: 'unavailable', message: /certificate/ }, 'public roots only: refused');
  t.ok(bytesOf(await direct().fetchRole(GUN, 'root')).length > 0, 'with caFile: served');
});

t.test('cache and single flight, counted at a relay in front of the server', async (t) => {
  const relay = await startCountingRelay(notary.url, notary.caPem);
  t.teardown(() => relay.close());
  const viaRelay = (limits?: ConstructorParameters<typeof NotaryServerClient>[0]['limits']) => {
    const c = new NotaryServerClient({ url: new URL(relay.origin), ...(limits ? { limits } : {}) });
    t.teardown(() => c.close());
    return c;
  };

  t.test('within max-age the second fetch makes no request', async (t) => {
    const client = viaRelay();
    const first = bytesOf(await client.fetchRole(GUN, 'targets'));
    const second = await client.fetchRole(GUN, 'targets');
    t.equal(relay.count('targets'), 1, 'one request');
    t.ok(bytesOf(second).equals(first), 'same bytes from the cache');
    t.ok('maxAgeSeconds' in second && second.maxAgeSeconds! <= 300 && second.maxAgeSeconds! >= 0, 'remaining max-age');
  });

  t.test('10 concurrent fetches of one file make one request', async (t) => {
    const client = viaRelay();
    const all = await Promise.all(Array.from({ length: 10 }, () => client.fetchRole(GUN, 'snapshot')));
    t.equal(relay.count('snapshot'), 1);
    for (const r of all) t.ok(bytesOf(r).equals(bytesOf(all[0]!)));
  });

  t.test('after max-age it fetches again', async (t) => {
    relay.cacheControl.set('timestamp', 'public, max-age=1');
    t.teardown(() => relay.cacheControl.delete('timestamp'));
    const client = viaRelay();
    const before = relay.count('timestamp');
    await client.fetchRole(GUN, 'timestamp');
    t.ok(await waitFor(async () => { await client.fetchRole(GUN, 'timestamp'); return relay.count('timestamp') === before + 2; }, 10_000), 'refetched once max-age=1 passed');
  });

  t.test('no longer than maxCacheAgeSeconds, whatever the max-age', async (t) => {
    const client = viaRelay({ maxCacheAgeSeconds: 1 });
    const before = relay.count('targets/releases');
    const first = await client.fetchRole(GUN, 'targets/releases');
    t.equal('maxAgeSeconds' in first && first.maxAgeSeconds, 300, 'the server max-age is still reported');
    t.ok(await waitFor(async () => { await client.fetchRole(GUN, 'targets/releases'); return relay.count('targets/releases') === before + 2; }, 10_000), 'refetched after the 1 s cap');
  });

  t.test('no-store, no max-age and 404 are not kept; <version>.root is kept without max-age', async (t) => {
    relay.cacheControl.set('root', 'no-store, max-age=300');
    relay.cacheControl.set('1.root', undefined);
    t.teardown(() => { relay.cacheControl.delete('root'); relay.cacheControl.delete('1.root'); });
    const client = viaRelay();
    const counts = { root: relay.count('root'), v1: relay.count('1.root') };
    for (let i = 0; i < 2; i++) {
      await client.fetchRole(GUN, 'root');
      t.same(await client.fetchRole(GUN, '1.root').then((r) => 'maxAgeSeconds' in r), false, '1.root: no max-age reported');
      t.same(await client.fetchRole('127.0.0.1:5000/nobody/here', 'root'), { notFound: true });
    }
    t.equal(relay.count('root') - counts.root, 4, 'root (no-store) and the 404 asked each time');
    t.equal(relay.count('1.root') - counts.v1, 1, '1.root asked once');
    relay.cacheControl.set('snapshot', undefined);
    const other = viaRelay();
    const snap = relay.count('snapshot');
    await other.fetchRole(GUN, 'snapshot');
    await other.fetchRole(GUN, 'snapshot');
    t.equal(relay.count('snapshot') - snap, 2, 'snapshot without Cache-Control asked each time');
    relay.cacheControl.delete('snapshot');
  });
});

t.test('a rejected fetch is a NotaryServerError', async (t) => {
  await t.rejects(direct().fetchRole(GUN, '../root'), NotaryServerError);
});
