/**
 * Version state (rollback / freeze), root rotation through `<version>.root.json`, and caching hints, on crafted
 * repositories. The state object is the caller's; "reload" here is a new prepared policy with the same state.
 */
import t from 'tap';
import { NotaryV1VersionState } from '../../../verifiers/notaryv1/index.ts';
import { ecdsaKey } from './craft.ts';
import { D1, D2, digestOf, newRepo, NOW, run } from './run.ts';

t.test('rollback of each role is caught with state, and only with state', async (t) => {
  for (const role of ['timestamp', 'snapshot', 'targets', 'root'] as const) {
    const repo = newRepo();
    const old = repo.publish(); // every role at version 1
    repo.versions[role] = 2;
    repo.versions.timestamp = 2;
    const state = new NotaryV1VersionState();
    t.match(await run(repo, { state }), { ok: true, versions: { [role]: 2 } }, `${role} v2 seen`);
    t.match(await run(repo, { files: old }), { ok: true }, `${role}: without state the old, unexpired set passes`);
    t.match(await run(repo, { files: old, state }), { ok: false, code: 'rollback', message: /version 1 is older than version 2/ }, `${role}: served v1 after v2`);
  }
});

t.test('freeze: the same version re-issued with different content', async (t) => {
  const repo = newRepo();
  const state = new NotaryV1VersionState();
  t.match(await run(repo, { state }), { ok: true });
  repo.targets = { v1: D2 }; // same targets version 1, different content
  t.match(await run(repo, { state }), { ok: false, code: 'rollback', message: /timestamp version 1 differs from the version 1 seen before/ }, 'the timestamp, first in the chain, changed with it');
  t.match(await run(repo), { ok: true, digest: digestOf(D2) }, 'a stateless verifier cannot tell');
});

t.test('delegation rollback, and state kept across a reload', async (t) => {
  const repo = newRepo();
  const dk = ecdsaKey();
  repo.delegations = [{ name: 'targets/releases', keys: [dk], threshold: 1, paths: [''], targets: { v1: D1 }, version: 3, expires: '2030-01-01T00:00:00Z' }];
  const state = new NotaryV1VersionState();
  t.match(await run(repo, { state }), { ok: true, versions: { 'targets/releases': 3 } });
  repo.delegations[0]!.version = 2;
  repo.versions.snapshot = 2;
  repo.versions.timestamp = 2;
  // run() prepares a new policy each call: the state object is what survives
  t.match(await run(repo, { state }), { ok: false, code: 'rollback', message: /targets\/releases version 2 is older than version 3/ });
});

t.test('a failed chain commits nothing; a verified chain with an unsigned tag does', async (t) => {
  const repo = newRepo();
  repo.versions.targets = 5;
  const state = new NotaryV1VersionState();
  t.match(await run(repo, { state, pins: [ecdsaKey().spkiPem] }), { ok: false, code: 'root_untrusted' });
  t.equal(state.peek(repo.gun), undefined, 'untrusted data left no trace');
  t.match(await run(repo, { state, reference: { tag: 'v9' } }), { ok: false, code: 'tag_not_signed' });
  t.equal(state.peek(repo.gun)?.roles.get('targets')?.version, 5, 'authentic versions recorded');
});

t.test('the state is bounded', async (t) => {
  const state = new NotaryV1VersionState({ maxGuns: 2 });
  for (const gun of ['a/x', 'b/x', 'c/x']) state.commit(gun, new Map([['timestamp', { version: 1, contentHash: 'h' }]]));
  t.equal(state.size, 2);
  t.equal(state.peek('a/x'), undefined, 'least recently used forgotten');
});

t.test('root rotation is followed through <version>.root.json', async (t) => {
  const a = ecdsaKey();
  const b = ecdsaKey();
  const c = ecdsaKey();
  const repo = newRepo(a);
  repo.history.set('1.root', repo.rootBytes());
  // v2: rotated to b, signed by the old and the new key (notary `key rotate root`)
  repo.rootKeys = [b];
  repo.versions.root = 2;
  repo.history.set('2.root', repo.rootBytes([a, b]));
  // v3: rotated to c, signed by b and c only
  repo.rootKeys = [c];
  repo.versions.root = 3;
  repo.signers.root = [b, c];
  const pinA = [a.spkiPem];
  const state = new NotaryV1VersionState();
  const published = repo.publish(); // one set: re-publishing re-signs, and ECDSA signatures differ every time
  const first = await run(repo, { pins: pinA, state, files: published });
  t.match(first, { ok: true, versions: { root: 3 } }, 'pinned to the first root key, current root signed by neither');
  t.same(first.asked.filter((n) => n.endsWith('.root')), ['1.root', '2.root']);
  const again = await run(repo, { pins: pinA, state, files: published });
  t.match(again, { ok: true });
  t.same(again.asked.filter((n) => n.endsWith('.root')), [], 'the remembered root shortens the walk');

  const files = repo.publish();
  files.delete('2.root');
  t.match(await run(repo, { pins: pinA, files }), { ok: false, code: 'root_untrusted', message: /2\.root\.json is missing/ });
  t.match(await run(repo, { pins: [c.spkiPem] }), { ok: true }, 'pinned to the current key: no walk');

  // a successor not signed by the previous root's keys breaks the chain
  const forged = newRepo(a);
  forged.history.set('1.root', forged.rootBytes());
  forged.rootKeys = [b];
  forged.versions.root = 2;
  t.match(await run(forged, { pins: pinA }), { ok: false, code: 'threshold_not_met', message: /root v2 \(by root v1 keys\)/ });

  // … and so does a forged step in the middle of the chain, even when the current root follows from it
  const middle = newRepo(a);
  middle.history.set('1.root', middle.rootBytes());
  middle.rootKeys = [b];
  middle.versions.root = 2;
  middle.history.set('2.root', middle.rootBytes([b])); // not signed by a
  middle.versions.root = 3;
  t.match(await run(middle, { pins: pinA }), { ok: false, code: 'threshold_not_met', message: /root v2 \(by root v1 keys\)/ });

  const long = newRepo(a);
  long.versions.root = 40;
  t.match(await run(long, { pins: [ecdsaKey().spkiPem] }), { ok: false, code: 'root_untrusted', message: /exceeds the bound/ });
});

t.test('caching hints: each role, max-age and expiry', async (t) => {
  const repo = newRepo();
  repo.expires.timestamp = '2026-06-01T00:02:00Z';
  const o = await run(repo, { maxAgeSeconds: 300 });
  t.match(o, { ok: true });
  if (!o.ok) return;
  t.same(o.cache.roles.map((r) => r.role), ['root', 'timestamp', 'snapshot', 'targets']);
  t.equal(o.cache.validUntil.toISOString(), '2026-06-01T00:02:00.000Z', 'the timestamp expires before max-age runs out');
  const later = await run(newRepo(), { maxAgeSeconds: 300 });
  t.equal(later.ok && later.cache.validUntil.getTime(), NOW.getTime() + 300_000, 'max-age');
});
