/**
 * Targets and delegations on crafted repositories: role selection (Docker default, Connaisseur's required
 * delegations, Portieris/sighup signers), RSA-PSS delegation keys, paths, escaped and unusual target names, by-digest
 * references.
 */
import t from 'tap';
import { type Delegated } from './repo.ts';
import { ecdsaKey, rsaKey, x509Key } from './craft.ts';
import { D1, D2, digestOf, GUN, newRepo, run } from './run.ts';

const EXP = '2030-01-01T00:00:00Z';
const del = (name: string, targets: Delegated['targets'], o: Partial<Delegated> = {}): Delegated =>
  ({ name, keys: [ecdsaKey()], threshold: 1, paths: [''], targets, version: 1, expires: EXP, ...o });

t.test('Docker default: targets/releases, then targets', async (t) => {
  const repo = newRepo();
  repo.targets = { v1: D1, only: D2 };
  repo.delegations = [del('targets/releases', { v1: D2 })];
  t.match(await run(repo), { ok: true, digest: digestOf(D2), decidedBy: [{ role: 'targets/releases' }] }, 'releases wins');
  t.match(await run(repo, { reference: { tag: 'only' } }), { ok: true, digest: digestOf(D2), decidedBy: [{ role: 'targets' }] }, 'falls back to targets');
  t.match(await run(repo, { reference: { tag: 'nope' } }), { ok: false, code: 'tag_not_signed', message: /targets\/releases or targets/ });

  const unpublished = newRepo();
  unpublished.delegations = [del('targets/releases', { v1: D2 })];
  unpublished.tweak.snapshotMeta = (m) => { delete m['targets/releases']; };
  t.match(await run(unpublished), { ok: true, digest: digestOf(D1), decidedBy: [{ role: 'targets' }] }, 'a delegation missing from the snapshot is skipped');

  const broken = newRepo();
  broken.delegations = [del('targets/releases', { v1: D2 })];
  broken.delegations[0]!.signers = [[broken.delegations[0]!.keys[0]!, { corrupt: true }]];
  t.match(await run(broken), { ok: false, code: 'signature_invalid', message: /targets\/releases/ }, 'a bad releases role is not silently skipped');
});

t.test('RSA-PSS and x509 delegation keys, delegation thresholds', async (t) => {
  const repo = newRepo();
  repo.delegations = [del('targets/releases', { v1: D2 }, { keys: [rsaKey()] })];
  t.match(await run(repo), { ok: true, digest: digestOf(D2), decidedBy: [{ role: 'targets/releases' }] }, 'rsapss, 2048-bit key');
  repo.delegations = [del('targets/releases', { v1: D2 }, { keys: [await x509Key('releases', { rsa: true })] })];
  repo.delegations[0]!.signers = [[repo.delegations[0]!.keys[0]!, { method: 'RSAPSS' }]];
  t.match(await run(repo), { ok: true, digest: digestOf(D2) }, 'rsa-x509 key, RSASSA-PSS as the notary 0.3 fixture');
  const k1 = ecdsaKey();
  const k2 = ecdsaKey();
  repo.delegations = [del('targets/releases', { v1: D2 }, { keys: [k1, k2], threshold: 2, signers: [k1, [k1, { der: true }]] })];
  t.match(await run(repo), { ok: false, code: 'threshold_not_met', message: /targets\/releases: 1 of 2/ }, 'one key signing twice (raw and DER)');
  repo.delegations[0]!.signers = [k1, k2];
  t.match(await run(repo), { ok: true });
});

t.test('Connaisseur: required delegations', async (t) => {
  const repo = newRepo();
  repo.delegations = [del('targets/a', { v1: D1 }), del('targets/b', { v1: D1 }), del('targets/c', { v1: D2 })];
  const dels = (...roles: string[]) => ({ policy: { roles: { kind: 'delegations' as const, roles } } });
  t.match(await run(repo, dels('a', 'targets/b')), { ok: true, digest: digestOf(D1), decidedBy: [{ role: 'targets/a' }, { role: 'targets/b' }] });
  t.match(await run(repo, dels('a', 'c')), { ok: false, code: 'digest_conflict' });
  t.match(await run(repo, dels('a', 'zzz')), { ok: false, code: 'delegation_missing', message: /targets\/zzz/ });
  t.match(await run(repo, { ...dels('a', 'b'), reference: { digest: digestOf(D1) } }), { ok: true, tags: ['v1'] }, 'by digest: listed by every required role');
  t.match(await run(repo, { ...dels('a', 'c'), reference: { digest: digestOf(D1) } }), { ok: false, code: 'digest_not_signed', message: /targets\/c/ });
  t.match(await run(repo, dels('a/../b')), { ok: false, code: 'delegation_invalid' }, 'an invalid role name');
});

t.test('Portieris / sighup signers', async (t) => {
  const signer = ecdsaKey();
  const other = ecdsaKey();
  const repo = newRepo();
  repo.delegations = [del('targets/releases', { v1: D1 }, { keys: [signer, other], signers: [signer] })];
  const signers = (...s: { role: string; publicKey: string }[]) => ({ policy: { roles: { kind: 'signers' as const, signers: s } } });
  t.match(await run(repo, signers({ role: 'releases', publicKey: signer.spkiPem })), { ok: true, digest: digestOf(D1) });
  t.match(await run(repo, signers({ role: 'targets/releases', publicKey: ecdsaKey().spkiPem })), { ok: false, code: 'signer_untrusted', message: /not a key of targets\/releases/ });
  t.match(await run(repo, signers({ role: 'targets/releases', publicKey: other.spkiPem })), { ok: false, code: 'signer_untrusted', message: /did not sign/ }, 'a key of the role that did not sign');
  t.match(await run(repo, signers({ role: 'targets', publicKey: repo.targetsKeys[0]!.spkiPem }, { role: 'targets/releases', publicKey: signer.spkiPem })), { ok: true }, 'two roles agreeing');
});

t.test('delegation paths and nesting', async (t) => {
  const repo = newRepo();
  repo.targets = {};
  repo.delegations = [del('targets/releases', { v1: D1, 'prod-1': D2 }, { paths: ['prod-'] })];
  t.match(await run(repo), { ok: false, code: 'tag_not_signed' }, 'v1 is outside the delegation paths');
  t.match(await run(repo, { reference: { tag: 'prod-1' } }), { ok: true, digest: digestOf(D2) });
  t.match(await run(repo, { reference: { digest: digestOf(D1) } }), { ok: false, code: 'digest_not_signed' }, 'by digest: outside paths does not count');

  // targets/releases/team is declared by targets/releases (itself limited to prod-): loaded through its parent, and
  // its declared paths ['prod-x', ''] are restricted to those within the parent's: only prod-x survives
  const nested = newRepo();
  const team = ecdsaKey();
  const parentKey = ecdsaKey();
  nested.delegations = [del('targets/releases/team', { 'prod-x1': D2, 'prod-2': D1, dev: D1 }, { keys: [team] })];
  const { envelope, fileMeta, keyJson } = await import('./craft.ts');
  const childBytes = nested.publish().get('targets/releases/team')!;
  const parentDoc = { _type: 'Targets', delegations: { keys: { [team.id]: keyJson(team) }, roles: [{ keyids: [team.id], name: 'targets/releases/team', paths: ['prod-x', ''], threshold: 1 }] }, expires: EXP, targets: {}, version: 1 };
  nested.delegations = [del('targets/releases', {}, { keys: [parentKey], paths: ['prod-'] })];
  nested.transform = (name, bytes) => (name === 'targets/releases' ? envelope(parentDoc, [parentKey]) : bytes);
  nested.tweak.snapshotMeta = (m) => { m['targets/releases/team'] = fileMeta(childBytes); };
  const published = nested.publish();
  published.set('targets/releases/team', childBytes);
  const sel = { policy: { roles: { kind: 'delegations' as const, roles: ['targets/releases/team'] } } };
  t.match(await run(nested, { ...sel, files: published, reference: { tag: 'prod-x1' } }), { ok: true, digest: digestOf(D2) });
  t.match(await run(nested, { ...sel, files: published, reference: { tag: 'dev' } }), { ok: false, code: 'tag_not_signed' }, "the child's '' is outside the parent's prod-");
  t.match(await run(nested, { ...sel, files: published, reference: { tag: 'prod-2' } }), { ok: false, code: 'tag_not_signed' }, 'within the parent, outside the child');
});

t.test('target names: escaped, constructor, __proto__', async (t) => {
  const repo = newRepo();
  repo.targets = { v1: D1, constructor: D2, ['__proto__']: D1, 'a<b>&c': D2 }; // computed key: an own property
  t.match(await run(repo, { reference: { tag: 'constructor' } }), { ok: true, digest: digestOf(D2) }, 'constructor is an ordinary tag');
  t.match(await run(repo, { reference: { tag: '__proto__' } }), { ok: true, digest: digestOf(D1) });
  t.match(await run(repo, { reference: { tag: 'toString' } }), { ok: false, code: 'tag_not_signed' }, 'inherited names are not tags');
  // served with the name written as an escape; the signature covers the decoded (canonical) name
  repo.transform = (name, bytes) => (name === 'targets' ? Buffer.from(bytes.toString().replace('"v1":', '"\\u0076\\u0031":')) : bytes);
  const escaped = await run(repo);
  t.match(escaped, { ok: true, digest: digestOf(D1) }, '"\\u0076\\u0031" is v1');
});

t.test('references', async (t) => {
  const repo = newRepo();
  repo.targets = { v1: D1, also: D1 };
  t.match(await run(repo, { reference: { digest: digestOf(D1) } }), { ok: true, tags: ['v1', 'also'], length: D1.length });
  t.match(await run(repo, { reference: { digest: digestOf(D2) } }), { ok: false, code: 'digest_not_signed' });
  t.match(await run(repo, { reference: { tag: 'v1', digest: digestOf(D2) } }), { ok: false, code: 'digest_mismatch' });
  t.match(await run(repo, { reference: { tag: 'v1', digest: digestOf(D1) } }), { ok: true });
  t.match(await run(repo, { reference: { digest: 'sha512:' + 'a'.repeat(128) } }), { ok: false, code: 'digest_not_signed', message: /sha256 digests only/ });
  t.match(await run(repo, { reference: { tag: '-bad' } }), { ok: false, code: 'tag_not_signed', message: /invalid tag/ });
  t.equal(GUN, repo.gun);
});
