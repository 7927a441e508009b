/**
 * The sets captured from a live notary-server (test/vectors/notary-live, its README): every signed tag resolves to the
 * digest and length the manifest records, under the role it was signed in, pinned by the first root key (so the
 * rotated sets walk `<v>.root.json`) or by notary's certificate rule; removed targets, rollback to an earlier stage,
 * a clock past the timestamp's expiry and tampered bytes are denied. Served bytes are used unchanged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { NotaryV1VersionState, prepareNotaryV1Policy, type NotaryV1PolicyConfig, type Reference, type RoleSelection, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';
import { dirSource, type DirSourceOptions } from './dir-source.ts';

const L = new URL('../../vectors/notary-live/', import.meta.url).pathname;
type Manifest = {
  gun: string; stage: string; sequence: number; capturedAt: string; timestampExpires: string;
  versions: Record<string, number>;
  targets: { tag: string; role: string; digest: string; length: number }[];
  removedTargets: string[];
  rootKeysByVersion: Record<string, { publicKeyPem: string }[]>;
  delegations: { role: string; keys: { publicKeyPem: string }[] }[];
};
const sets = readdirSync(L, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => JSON.parse(readFileSync(`${L}${d.name}/manifest.json`, 'utf8')) as Manifest)
  .sort((a, b) => a.sequence - b.sequence);
const firstRootPem = sets[0]!.rootKeysByVersion['1']![0]!.publicKeyPem;
const clockOf = (m: Manifest) => new Date(Date.parse(m.capturedAt) + 3600_000);

async function verify(m: Manifest, reference: Reference, o: { policy?: Partial<NotaryV1PolicyConfig>; state?: NotaryV1VersionState; now?: Date; source?: DirSourceOptions } = {}) {
  const policy = prepareNotaryV1Policy({ trust: { publicKeys: [firstRootPem] }, ...o.policy });
  return verifyNotaryV1({ gun: m.gun, reference, policy, source: dirSource(`${L}${m.stage}`, o.source), now: o.now ?? clockOf(m), ...(o.state ? { state: o.state } : {}) });
}

t.test('there are seven captured stages', async (t) => {
  t.same(sets.map((s) => s.stage), ['signed-targets', 'delegation-x509', 'delegation-bare', 'delegation-rsa', 'removed-target', 'rotated-root', 'server-snapshot']);
});

for (const m of sets) {
  t.test(`${m.stage}: every signed tag resolves to its digest`, async (t) => {
    for (const target of m.targets) {
      if (!/^[\w][\w.-]{0,127}$/.test(target.tag)) {
        // not a Docker tag (`v1<rc>&co`): never looked up by name; see the escaped-name test for its signature
        t.match(await verify(m, { tag: target.tag }), { ok: false, code: 'tag_not_signed', message: /invalid tag/ }, `${target.tag} is not a tag`);
        continue;
      }
      const roles: RoleSelection = target.role === 'targets' || target.role === 'targets/releases' ? { kind: 'default' } : { kind: 'delegations', roles: [target.role] };
      const o = await verify(m, { tag: target.tag }, { policy: { roles } });
      t.match(o, { ok: true, digest: target.digest, length: target.length, decidedBy: [{ role: target.role }] }, `${target.tag} → ${target.role}`);
      const cert = await verify(m, { tag: target.tag }, { policy: { trust: { certificateRule: true }, roles } });
      t.match(cert, { ok: true, digest: target.digest }, `${target.tag}: notary's certificate rule`);
      t.match(await verify(m, { digest: target.digest }, { policy: { roles } }), { ok: true }, `${target.tag}: by digest`);
      if (o.ok) t.same(o.versions, Object.fromEntries(Object.entries(m.versions).filter(([r]) => r in o.versions)), 'versions as captured');
    }
    for (const tag of m.removedTargets) t.match(await verify(m, { tag }), { ok: false, code: 'tag_not_signed' }, `removed ${tag}`);
  });
}

const stage = (name: string) => sets.find((s) => s.stage === name)!;

t.test('escaped target name: served as \\u003c…, signed as canonical', async (t) => {
  const m = stage('signed-targets');
  t.ok(readFileSync(`${L}signed-targets/targets.json`, 'utf8').includes('v1\\u003crc\\u003e\\u0026co'), 'the server escapes < > &');
  const v1 = m.targets.find((x) => x.tag === 'v1')!;
  // the name is not a Docker tag, so look it up as the digest it signs: both names are listed under it
  t.match(await verify(m, { digest: v1.digest }), { ok: true, tags: ['v1', 'v1<rc>&co'] });
});

t.test('rotation: pinned to the first root key, the rotated sets walk <v>.root.json', async (t) => {
  for (const name of ['rotated-root', 'server-snapshot']) {
    const m = stage(name);
    const dir = dirSource(`${L}${name}`);
    const o = await verifyNotaryV1({ gun: m.gun, reference: { tag: 'v2' }, policy: prepareNotaryV1Policy({ trust: { publicKeys: [firstRootPem] } }), source: dir, now: clockOf(m) });
    t.match(o, { ok: true, versions: { root: m.versions['root'] } }, name);
    // root v2 is cross-signed by the old and the new key, so the old pin accepts it directly; v3 is signed by the new
    // key only, so the old pin reaches it through 1.root → 2.root
    t.equal(dir.asked.includes('1.root'), name === 'server-snapshot', `${name}: ${name === 'server-snapshot' ? 'walked from 1.root' : 'no walk needed'}`);
    const current = m.rootKeysByVersion[String(m.versions['root'])]![0]!.publicKeyPem;
    t.match(await verify(m, { tag: 'v2' }, { policy: { trust: { publicKeys: [current] } } }), { ok: true }, `${name}: pinned to the current root key`);
  }
  t.match(await verify(stage('server-snapshot'), { tag: 'v2' }, { source: { overrides: { '2.root': 'notFound' } } }), { ok: false, code: 'root_untrusted' }, 'chain broken');
});

t.test('rollback: an earlier, unexpired stage after a later one', async (t) => {
  const state = new NotaryV1VersionState();
  t.match(await verify(stage('removed-target'), { tag: 'v2' }, { state }), { ok: true });
  const older = stage('delegation-rsa');
  t.match(await verify(older, { tag: 'v1' }), { ok: true }, 'without state, the older set still signs the removed tag');
  t.match(await verify(older, { tag: 'v1' }, { state, now: clockOf(stage('removed-target')) }), { ok: false, code: 'rollback', message: /older than version/ });
});

t.test('expiry and tampering', async (t) => {
  const m = stage('delegation-rsa');
  const after = new Date(Date.parse(m.timestampExpires) + 1000);
  t.match(await verify(m, { tag: 'v4' }, { now: after, policy: { roles: { kind: 'delegations', roles: ['targets/ops'] } } }), { ok: false, code: 'expired', message: /timestamp expired/ });
  const targets = readFileSync(`${L}delegation-rsa/targets.json`, 'utf8');
  const tampered = Buffer.from(targets.replace(/"length":401/, '"length":402'));
  t.match(await verify(m, { tag: 'v1' }, { source: { overrides: { targets: tampered } } }), { ok: false, code: 'hash_mismatch', message: /targets/ });
  const ops = readFileSync(`${L}delegation-rsa/targets/ops.json`);
  const flipped = Buffer.from(ops);
  flipped.writeUInt8(flipped.readUInt8(flipped.length - 10) ^ 1, flipped.length - 10);
  t.match(await verify(m, { tag: 'v4' }, { policy: { roles: { kind: 'delegations', roles: ['targets/ops'] } }, source: { overrides: { 'targets/ops': flipped } } }), { ok: false });
  const opsKey = m.delegations.find((d) => d.role === 'targets/ops')!.keys[0]!.publicKeyPem;
  t.match(await verify(m, { tag: 'v4' }, { policy: { roles: { kind: 'signers', signers: [{ role: 'targets/ops', publicKey: opsKey }] } } }), { ok: true }, 'signer: the RSA ops key');
  t.match(await verify(m, { tag: 'v4' }, { policy: { roles: { kind: 'signers', signers: [{ role: 'targets/qa', publicKey: opsKey }] } } }), { ok: false, code: 'signer_untrusted' }, 'the ops key is not a qa key');
});
