/**
 * The base chain on repositories crafted and signed in the test: expiry of every role, hash and length checks,
 * signature methods and encodings, thresholds over distinct keys, trust-root pinning and notary's certificate rule.
 */
import t from 'tap';
import { ecdsaKey, ed25519Key, envelope, fileMeta, keyJson, rsaKey, x509Key } from './craft.ts';
import { D1, digestOf, GUN, newRepo, NOW, run } from './run.ts';

t.test('a well-formed repository verifies and resolves the tag', async (t) => {
  const repo = newRepo();
  t.match(await run(repo), { ok: true, digest: digestOf(D1), length: D1.length, tags: ['v1'], decidedBy: [{ role: 'targets' }] });
});

t.test('expiry of each role', async (t) => {
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'] as const) {
    const repo = newRepo();
    repo.expires[role] = '2026-05-31T23:59:59.999999Z';
    t.match(await run(repo), { ok: false, code: 'expired', message: new RegExp(`^notary v1: ${role} expired at 2026-05-31T23:59:59.999Z`) }, role);
    t.match(await run(repo, { now: new Date('2026-05-31T00:00:00Z') }), { ok: true }, `${role}: valid the day before`);
  }
  const repo = newRepo();
  repo.delegations = [{ name: 'targets/releases', keys: [ecdsaKey()], threshold: 1, paths: [''], targets: { v1: D1 }, version: 1, expires: '2026-01-01T00:00:00Z' }];
  t.match(await run(repo), { ok: false, code: 'expired', message: /targets\/releases expired/ }, 'delegation');
  t.match(await run(repo, { now: new Date('2025-12-01T00:00:00Z') }), { ok: true, decidedBy: [{ role: 'targets/releases' }] });
});

t.test('hashes and lengths listed by timestamp and snapshot', async (t) => {
  // snapshot bytes served pretty-printed: its signature still verifies (canonical form), its hash does not
  const repo = newRepo();
  const files = repo.publish();
  files.set('snapshot', Buffer.from(JSON.stringify(JSON.parse(files.get('snapshot')!.toString()), null, 2)));
  t.match(await run(repo, { files }), { ok: false, code: 'length_mismatch' }, 'longer bytes');
  t.match(await run(repo, { files, policy: { metadataLengths: 'hash-only' } }), { ok: false, code: 'hash_mismatch', message: /snapshot does not match its sha256/ });

  const sha512 = newRepo();
  sha512.tweak.timestampMeta = (m) => { (m['snapshot'] as { hashes: Record<string, string> }).hashes['sha512'] = Buffer.alloc(64, 7).toString('base64'); };
  t.match(await run(sha512), { ok: false, code: 'hash_mismatch', message: /sha512/ }, 'sha256 right, sha512 wrong: every listed hash must match');

  const onlyUnknown = newRepo();
  onlyUnknown.tweak.timestampMeta = (m) => { (m['snapshot'] as { hashes: Record<string, string> }).hashes = { md5: 'AAAAAAAAAAAAAAAAAAAAAA==' }; };
  t.match(await run(onlyUnknown), { ok: false, code: 'metadata_invalid', message: /no sha256 or sha512/ });

  const targetsLength = newRepo();
  targetsLength.tweak.snapshotMeta = (m) => { (m['targets'] as { length: number }).length += 1; };
  t.match(await run(targetsLength), { ok: false, code: 'length_mismatch', message: /^notary v1: targets is/ });
  t.match(await run(targetsLength, { policy: { metadataLengths: 'hash-only' } }), { ok: true }, 'hash-only ignores the length');

  const targetsHash = newRepo();
  targetsHash.tweak.snapshotMeta = (m) => { (m['targets'] as { hashes: Record<string, string> }).hashes['sha256'] = Buffer.alloc(32).toString('base64'); };
  t.match(await run(targetsHash), { ok: false, code: 'hash_mismatch', message: /targets does not match its sha256/ });

  const listedVersion = newRepo();
  listedVersion.tweak.snapshotMeta = (m) => { (m['targets'] as { version?: number }).version = 7; };
  t.match(await run(listedVersion), { ok: false, code: 'hash_mismatch', message: /targets has version 1 but the signed metadata lists version 7/ });

  const rootMissing = newRepo();
  rootMissing.tweak.snapshotMeta = (m) => { delete m['root']; };
  t.match(await run(rootMissing), { ok: false, code: 'hash_mismatch', message: /snapshot does not list root/ });
});

t.test('signature methods and encodings', async (t) => {
  const der = newRepo();
  der.signers.targets = [[der.targetsKeys[0]!, { der: true }]];
  der.signers.timestamp = [[der.timestampKeys[0]!, { der: true, method: 'ECDSA' }]];
  t.match(await run(der), { ok: true }, 'DER-encoded ECDSA; method compared case-insensitively');

  const corrupt = newRepo();
  corrupt.signers.targets = [[corrupt.targetsKeys[0]!, { corrupt: true }]];
  t.match(await run(corrupt), { ok: false, code: 'signature_invalid', message: /^notary v1: targets:/ });

  const derCorrupt = newRepo();
  derCorrupt.signers.snapshot = [[derCorrupt.snapshotKeys[0]!, { der: true, corrupt: true }]];
  t.match(await run(derCorrupt), { ok: false, code: 'signature_invalid', message: /snapshot/ });

  const wrongMethod = newRepo();
  wrongMethod.signers.targets = [[wrongMethod.targetsKeys[0]!, { method: 'rsapss' }]];
  t.match(await run(wrongMethod), { ok: false, code: 'signature_invalid' }, 'ecdsa signature labelled rsapss');

  const ed = newRepo();
  ed.timestampKeys = [ed25519Key()];
  ed.snapshotKeys = [ed25519Key()];
  t.match(await run(ed), { ok: true }, 'ed25519 timestamp and snapshot keys (notary-server with a local signer)');

  const rsa = newRepo(rsaKey());
  rsa.targetsKeys = [rsaKey()];
  rsa.signers.targets = [[rsa.targetsKeys[0]!, { method: 'rsapkcs1v15' }]];
  t.match(await run(rsa), { ok: true }, 'rsa root (pss) and rsapkcs1v15 targets');

  const weak = newRepo();
  weak.targetsKeys = [rsaKey(1024)];
  t.match(await run(weak), { ok: false, code: 'unsupported_key', message: /1024 bits/ });

  const alien = newRepo();
  alien.signers.targets = [[ecdsaKey(), {}]];
  t.match(await run(alien), { ok: false, code: 'threshold_not_met', message: /targets: 0 of 1/ }, 'a signature by a key outside the role does not count');

  const unsigned = newRepo();
  unsigned.signers.targets = [];
  t.match(await run(unsigned), { ok: false, code: 'threshold_not_met', message: /no signatures/ });
});

t.test('thresholds count distinct keys', async (t) => {
  const k1 = ecdsaKey();
  const k2 = ecdsaKey();
  const two = newRepo();
  two.targetsKeys = [k1, k2];
  const withThreshold = (repo: typeof two, threshold: number) => {
    const base = repo.rootDoc.bind(repo);
    repo.rootDoc = () => { const d = base() as { roles: { targets: { threshold: number } } }; d.roles.targets.threshold = threshold; return d as never; };
  };
  withThreshold(two, 2);
  t.match(await run(two), { ok: true }, 'two distinct keys, threshold 2');
  two.signers.targets = [k1, k1];
  t.match(await run(two), { ok: false, code: 'threshold_not_met', message: /1 of 2/ }, 'the same key signing twice counts once');

  const dup = newRepo();
  dup.targetsKeys = [k1, k1];
  withThreshold(dup, 2);
  dup.signers.targets = [k1, k1];
  t.match(await run(dup), { ok: false, code: 'threshold_not_met' }, 'a key ID listed twice in the role counts once');
});

t.test('key IDs', async (t) => {
  const repo = newRepo();
  const base = repo.rootDoc.bind(repo);
  repo.rootDoc = () => {
    const d = base() as { keys: Record<string, unknown> };
    const [id, k] = Object.entries(d.keys).find(([i]) => i === repo.targetsKeys[0]!.id)!;
    delete d.keys[id];
    d.keys['0'.repeat(64)] = k;
    (d as unknown as { roles: { targets: { keyids: string[] } } }).roles.targets.keyids = ['0'.repeat(64)];
    return d as never;
  };
  repo.signers.targets = [[repo.targetsKeys[0]!, { keyid: '0'.repeat(64) }]];
  t.match(await run(repo), { ok: false, code: 'signature_invalid', message: /listed as 0+ has ID/ }, 'a key listed under an ID that is not its own');
});

t.test('trust root: pinned key and certificate rule', async (t) => {
  const repo = newRepo();
  t.match(await run(repo, { pins: [ecdsaKey().spkiPem] }), { ok: false, code: 'root_untrusted', message: /not signed by the pinned/ }, 'wrong pinned key');
  t.match(await run(repo, { pins: [repo.rootKeys[0]!.spkiPem, ecdsaKey().spkiPem] }), { ok: false, code: 'root_untrusted' }, 'every pinned key must have signed');

  const cert = await x509Key(GUN);
  const x = newRepo(cert);
  t.match(await run(x), { ok: true }, 'x509 root key pinned by its public key');
  t.match(await run(x, { pins: [], policy: { trust: { certificateRule: true } } }), { ok: true }, 'certificate rule: CN = GUN, valid');
  const other = newRepo(await x509Key('127.0.0.1:5000/team/other'));
  t.match(await run(other, { pins: [], policy: { trust: { certificateRule: true } } }), { ok: false, code: 'root_untrusted', message: /CN = GUN/ });
  const old = newRepo(await x509Key(GUN, { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') }));
  t.match(await run(old, { pins: [], policy: { trust: { certificateRule: true } } }), { ok: false, code: 'root_untrusted' }, 'expired root certificate');
  t.match(await run(old), { ok: true }, 'pinned by public key, certificate validity is not consulted (Connaisseur)');

  // the same key in its x509 and bare forms, both in the root role: one signer, not two
  const both = newRepo(cert);
  const bare = { ...cert, keytype: 'ecdsa', publicB64: Buffer.from(cert.spkiPem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64') };
  const { createHash } = await import('node:crypto');
  const { canonical } = await import('./craft.ts');
  const bareKey = { ...bare, id: createHash('sha256').update(canonical(keyJson(bare))).digest('hex') };
  both.rootKeys = [cert, bareKey];
  both.rootThreshold = 2;
  t.match(await run(both), { ok: false, code: 'threshold_not_met', message: /1 of 2/ }, 'x509 and bare forms of one key count once');
});

t.test('strict JSON', async (t) => {
  const repo = newRepo();
  const files = repo.publish();
  const ts = files.get('timestamp')!.toString();
  files.set('timestamp', Buffer.from(ts.replace('"version":1', '"version":1.0')));
  t.match(await run(repo, { files }), { ok: false, code: 'metadata_invalid', message: /only integers/ });
  files.set('timestamp', Buffer.from(ts.replace('"version":1', '"version":1,"version":1')));
  t.match(await run(repo, { files }), { ok: false, code: 'metadata_invalid', message: /duplicate key/ });
  files.set('timestamp', envelope({ _type: 'Snapshot', expires: '2030-01-01T00:00:00Z', meta: { snapshot: fileMeta(files.get('snapshot')!) }, version: 1 }, repo.timestampKeys));
  t.match(await run(repo, { files }), { ok: false, code: 'metadata_invalid', message: /_type is not Timestamp/ });
  files.set('timestamp', Buffer.alloc(70 * 1024, 0x20));
  t.match(await run(repo, { files }), { ok: false, code: 'metadata_invalid', message: /over the 65536-byte bound/ });
  t.equal(NOW.toISOString(), '2026-06-01T00:00:00.000Z');
});
