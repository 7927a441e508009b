/**
 * Every saved Notary v1 metadata set in test/vectors (README § 7.1 notary, § 7.2 Connaisseur) gets its expected
 * verdict, with a pinned clock. Connaisseur's sets are served as its mock serves them (Go json.Marshal re-encoding,
 * go-served.ts), which is the form their snapshot/timestamp hashes cover. Where our reason differs from
 * Connaisseur's message (notary checks hashes before signatures), both the whole-chain verdict and the role-level
 * check the vector was made for are asserted.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import t from 'tap';
import { NotaryV1Error, NotaryV1VersionState, prepareNotaryV1Policy, type RoleSelection, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';
import { parseRoot, parseSigned, parseSnapshot, parseTargets } from '../../../verifiers/notaryv1/roles.ts';
import { checkAnchoredRoot, prepareRootTrust } from '../../../verifiers/notaryv1/root-trust.ts';
import { checkThreshold } from '../../../verifiers/notaryv1/signatures.ts';
import { dirSource } from './dir-source.ts';
import { goServedBytes } from './go-served.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const C = `${V}connaisseur/test/testdata/notaryv1/`;
const TD = `${C}trust_data/`;
const N = `${V}notary/fixtures/compatibility/`;
const NOW = new Date('2026-06-01T00:00:00Z');

const pemsIn = (file: string) => [...readFileSync(C + file, 'utf8').matchAll(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g)].map((m) => m[0].replace(/^\s+/gm, ''));
const NEVER_KEY = pemsIn('08_never_expire_notary.yaml')[0]!;
const SAMPLE_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtR5kwrDK22SyCu7WMF8tCjVgeORAS2PWacRcBN/VQdVK4PVk1w4pMWlz9AHQthDGl+W2k3elHkPbR+gNkK2PCA==\n-----END PUBLIC KEY-----\n';
// repo_test.go TestValidateRoot case 4/5: the second trust root of 07_root_multiple_signatures (the targets key)
const SECOND_KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEnsF6hghdCI5MUEEge8PqtSe1HB3O\n88lEztfMO+LaUBCyX1aoeB36MrkqeM4zrWe2UUSxFuL6y/+qiPQQQ/n7Ww==\n-----END PUBLIC KEY-----\n';
const A154 = 'sha256:a154797b8300165956ee1f16d98f3a1426301c1168f0462c73ce9bc03361cabf';
const C799 = 'sha256:799c0fa8aa4c9fbff5a99aef1b4b5c3abb9c2f34134345005982fad3489893c7';
const LICENSE = 'sha256:9395bac6fccb26bcb55efb083d1b4b0fe72a1c25f959f056c016120b3bb56a62';
const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type Case = { image: string; tag?: string; digest?: string; key?: string; roles?: RoleSelection; lengths?: 'exact' | 'hash-only'; now?: Date; overrides?: Record<string, Uint8Array | 'notFound'> };

async function connaisseur(c: Case) {
  const policy = prepareNotaryV1Policy({ trust: { publicKeys: [c.key ?? NEVER_KEY] }, metadataLengths: c.lengths ?? 'hash-only', ...(c.roles ? { roles: c.roles } : {}) });
  return verifyNotaryV1({
    gun: `docker.io/library/${c.image}`, reference: { ...(c.tag ? { tag: c.tag } : {}), ...(c.digest ? { digest: c.digest } : {}) },
    policy, source: dirSource(TD + c.image, { goServed: true, ...(c.overrides ? { overrides: c.overrides } : {}) }), now: c.now ?? NOW,
  });
}
const dels = (...roles: string[]): RoleSelection => ({ kind: 'delegations', roles });
const file = (name: string) => readFileSync(TD + name);

t.test('connaisseur: valid sets resolve the tag to the signed digest', async (t) => {
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign' }), { ok: true, digest: A154, decidedBy: [{ role: 'targets' }] });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'v1' }), { ok: true, digest: C799 });
  t.match(await connaisseur({ image: 'edge-case-image', tag: 'sign' }), { ok: true, digest: A154 }, 'delegations declared but unpublished are skipped');
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'sign', roles: dels('targets/del1') }), { ok: true, digest: A154, decidedBy: [{ role: 'targets/del1' }] });
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', digest: A154, roles: dels('del1') }), { ok: true, digest: A154, tags: ['sign'] }, 'by digest');
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'sign', digest: A154, roles: dels('del1') }), { ok: true, digest: A154 }, 'tag@digest agreeing');
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'sign' }), { ok: true, digest: A154, decidedBy: [{ role: 'targets/releases' }] }, 'default: targets/releases');
});

t.test('connaisseur: invalid sets are denied with the reason', async (t) => {
  t.match(await connaisseur({ image: 'edge-case-err-image', tag: 'sign' }), { ok: false, code: 'delegation_invalid' }, 'listed delegation missing from the server');
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', roles: dels('missing') }), { ok: false, code: 'delegation_missing' });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', roles: dels('targets/del1') }), { ok: false, code: 'delegation_missing' });
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'sign', roles: dels('del1', 'del2') }), { ok: false, code: 'tag_not_signed', message: /targets\/del2/ });
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'v1', digest: A154, roles: dels('del2') }), { ok: false, code: 'digest_mismatch' });
  t.match(await connaisseur({ image: 'never-expire-with-conflicting-delegations-image', tag: 'sign', roles: dels('del1', 'del2') }), { ok: false, code: 'digest_conflict', message: /del1 signs sha256:a154.*del2 signs sha256:799c/ });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', key: SAMPLE_KEY }), { ok: false, code: 'root_untrusted' }, 'a different trust root');
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', key: pemsIn('10_unknown_keys.yaml')[1]! }), { ok: false, code: 'root_untrusted' }, 'ed25519 trust root');
  t.match(await connaisseur({ image: 'err-image', tag: 'sign' }), { ok: false, code: 'metadata_invalid' }, 'roles shuffled');
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', overrides: { root: file('err-image/invalid.json') } }), { ok: false, code: 'metadata_invalid' }, 'not JSON');
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'nope' }), { ok: false, code: 'tag_not_signed' });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', overrides: { timestamp: 'notFound' } }), { ok: false, code: 'no_trust_data' });
});

t.test('connaisseur: trust-root configuration errors', async (t) => {
  t.throws(() => prepareNotaryV1Policy({ trust: { publicKeys: [pemsIn('10_unknown_keys.yaml')[0]!] } }), NotaryV1Error, 'unknown key type (dilithium)');
  const der = readFileSync(`${C}15_DER_key_format.yaml`, 'utf8').split('key: |')[1]!.replace(/^\s+/gm, '');
  t.throws(() => prepareNotaryV1Policy({ trust: { publicKeys: [der] } }), { code: 'root_untrusted', message: /PEM/ }, 'DER instead of PEM');
  t.throws(() => prepareNotaryV1Policy({ trust: { publicKeys: [`${NEVER_KEY}\nextra`] } }), { code: 'root_untrusted' }, 'extraneous characters');
  t.throws(() => prepareNotaryV1Policy({ trust: {} }), { code: 'root_untrusted' }, 'no trust root');
});

t.test('connaisseur: exact metadata lengths reject the crafted sets (their recorded lengths are wrong)', async (t) => {
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', lengths: 'exact' }), { ok: false, code: 'length_mismatch', message: /root is 2540 bytes .* 2420/ });
  t.match(await connaisseur({ image: 'edge-case-image', tag: 'sign', lengths: 'exact' }), { ok: false, code: 'length_mismatch' });
  t.match(await connaisseur({ image: 'alice-image', tag: 'test', key: SAMPLE_KEY, lengths: 'exact', now: new Date('2019-10-01T00:00:00Z') }), { ok: true }, 'the real Docker Hub set has exact lengths');
});

t.test('connaisseur: real Docker Hub data (alice-image) and sample-image with their own root key', async (t) => {
  const before = new Date('2019-10-01T00:00:00Z');
  t.match(await connaisseur({ image: 'alice-image', tag: 'test', key: SAMPLE_KEY, now: before }), { ok: true, digest: /^sha256:ac904c9b/, decidedBy: [{ role: 'targets/releases' }] });
  t.match(await connaisseur({ image: 'alice-image', tag: 'test', key: SAMPLE_KEY, now: before, roles: dels('phbelitz', 'chamsen') }), { ok: true, digest: /^sha256:ac904c9b/ });
  t.match(await connaisseur({ image: 'alice-image', tag: 'test', key: SAMPLE_KEY }), { ok: false, code: 'expired', message: /timestamp expired at 2019-10-24/ });
  t.match(await connaisseur({ image: 'sample-image', tag: 'sign', key: SAMPLE_KEY, now: before }), { ok: true, digest: A154 });
  t.match(await connaisseur({ image: 'sample-image', tag: 'sign', key: SAMPLE_KEY }), { ok: false, code: 'expired' });
  t.match(await connaisseur({ image: 'sample-image', tag: 'sign', key: NEVER_KEY }), { ok: false, code: 'root_untrusted' });
});

t.test('connaisseur: single-role vectors (replaced files)', async (t) => {
  const trust = (...keys: string[]) => prepareRootTrust({ publicKeys: keys });
  const rootOf = (f: string) => { const s = parseSigned(goServedBytes(file(f)), f, 1 << 20); return { s, r: parseRoot(s) }; };
  const never = rootOf('never-expire-image/root.json');
  const gun = 'docker.io/library/never-expire-image';
  // 01: the whole chain stops at the root's expiry (root is checked before the snapshot lists its hash)
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', overrides: { root: file('01_expired_root.json') } }), { ok: false, code: 'expired', message: /^notary v1: root expired at 1990/ });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', overrides: { root: file('06_no_signature_root.json') } }), { ok: false, code: 'threshold_not_met', message: /no signatures/ });
  const multi = rootOf('07_root_multiple_signatures.json');
  t.doesNotThrow(() => checkAnchoredRoot(multi.s, multi.r, gun, trust(NEVER_KEY, SECOND_KEY), NOW), '07: both trust roots signed');
  t.doesNotThrow(() => checkAnchoredRoot(multi.s, multi.r, gun, trust(SECOND_KEY, NEVER_KEY), NOW), '07: either order');
  t.doesNotThrow(() => checkAnchoredRoot(never.s, never.r, gun, trust(NEVER_KEY), NOW));
  const sample = rootOf('sample-image/root.json');
  t.doesNotThrow(() => checkAnchoredRoot(sample.s, sample.r, gun, trust(SAMPLE_KEY), NOW), 'sample-image root with its own key');
  t.throws(() => checkAnchoredRoot(sample.s, sample.r, gun, trust(NEVER_KEY), NOW), { code: 'root_untrusted' });

  // 02 / 04: the signature check each was made for, and the whole chain (the snapshot hash no longer matches)
  const bad = parseSigned(goServedBytes(file('02_invalid_signature_targets.json')), 'targets', 1 << 24);
  t.throws(() => checkThreshold(never.r.roles.targets, bad.signatures, bad.canonical), { code: 'signature_invalid' });
  t.match(await connaisseur({ image: 'never-expire-image', tag: 'sign', overrides: { targets: file('02_invalid_signature_targets.json') } }), { ok: false, code: 'hash_mismatch' });
  const delTargets = parseTargets(parseSigned(goServedBytes(file('never-expire-with-delegations-image/targets.json')), 'targets', 1 << 24), 'targets');
  const del1 = delTargets.delegations.find((d) => d.name === 'targets/del1')!;
  const badDel = parseSigned(goServedBytes(file('04_invalid_signature_delegation.json')), 'targets/del1', 1 << 24);
  t.throws(() => checkThreshold(del1, badDel.signatures, badDel.canonical), { code: 'signature_invalid' });
  t.match(await connaisseur({ image: 'never-expire-with-delegations-image', tag: 'sign', roles: dels('del1'), overrides: { 'targets/del1': file('04_invalid_signature_delegation.json') } }), { ok: false, code: 'hash_mismatch', message: /targets\/del1/ });

  // 03 / 05: validly signed but expired
  const snap = parseSigned(goServedBytes(file('03_expired_snapshot.json')), 'snapshot', 1 << 22);
  t.doesNotThrow(() => checkThreshold(never.r.roles.snapshot, snap.signatures, snap.canonical));
  t.ok(parseSnapshot(snap).expires < NOW, '03: snapshot expired');
  const exDel = parseSigned(goServedBytes(file('05_expired_delegation.json')), 'targets/del1', 1 << 24);
  t.doesNotThrow(() => checkThreshold(del1, exDel.signatures, exDel.canonical));
  t.ok(parseTargets(exDel, 'targets/del1').expires < NOW, '05: delegation expired');
});

const pinPem = (certFile: string) => new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'pem' }) as string;

async function notary(dir: string, gun: string, tag: string, trust: { certificateRule?: boolean; publicKeys?: string[] }, now = NOW) {
  return verifyNotaryV1({ gun, reference: { tag }, policy: prepareNotaryV1Policy({ trust }), source: dirSource(N + dir), now, state: new NotaryV1VersionState() });
}

t.test('notary compatibility fixtures (byte-exact, exact lengths)', async (t) => {
  const d01 = 'notary0.1/tuf/docker.com/notary0.1/samplerepo/metadata';
  const g01 = 'docker.com/notary0.1/samplerepo';
  t.match(await notary(d01, g01, 'LICENSE', { certificateRule: true }), { ok: true, digest: LICENSE, length: 11309 });
  const cert01 = `${N}notary0.1/trusted_certificates/docker.com/notary0.1/samplerepo/4ff57dc987163053a12c066f2dd36b1ae6037a92f5416d381fe311a3db1868d8.crt`;
  t.match(await notary(d01, g01, 'LICENSE', { publicKeys: [pinPem(cert01)] }), { ok: true, digest: LICENSE }, 'pinned by the certificate public key');
  t.match(await notary(d01, 'docker.com/notary0.1/other', 'LICENSE', { certificateRule: true }), { ok: false, code: 'root_untrusted', message: /CN = GUN/ }, 'CN ≠ GUN');
  t.match(await notary(d01, g01, '.gitignore', { certificateRule: true }), { ok: false, code: 'tag_not_signed' }, 'the unpublished changelist is not trust data');

  const d03 = 'notary0.3/tuf/docker.com/notary0.3/tst/metadata';
  const g03 = 'docker.com/notary0.3/tst';
  t.match(await notary(d03, g03, 'LICENSE', { certificateRule: true }), { ok: true, digest: LICENSE, length: 11309, decidedBy: [{ role: 'targets' }] });
  t.match(await notary(d03, g03, 'change', { certificateRule: true }), { ok: true, digest: EMPTY, length: 0 });
  t.match(await notary(d03, g03, 'hello', { certificateRule: true }), { ok: true, digest: EMPTY, length: 0, decidedBy: [{ role: 'targets/releases' }] }, 'rsa-x509 delegation, RSASSA-PSS');
  const after = new Date('2026-08-01T00:00:00Z');
  t.match(await notary(d03, g03, 'LICENSE', { certificateRule: true }, after), { ok: false, code: 'root_untrusted' }, 'root certificate expired 2026-07-25');
  const rootCert = (JSON.parse(readFileSync(`${N}${d03}/root.json`, 'utf8')) as { signed: { keys: Record<string, { keyval: { public: string } }> } });
  const pems = Object.values(rootCert.signed.keys).map((k) => Buffer.from(k.keyval.public, 'base64').toString()).filter((p) => p.includes('CERTIFICATE'));
  const rootPins = pems.map((p) => new X509Certificate(p)).filter((c) => c.subject.includes('CN=docker.com/notary0.3/tst')).map((c) => c.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  t.match(await notary(d03, g03, 'LICENSE', { publicKeys: rootPins.slice(0, 1) }, after), { ok: true, digest: LICENSE }, 'pinned by public key: no certificate validity (Connaisseur)');
});
