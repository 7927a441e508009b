/**
 * Every cosign vector in test/vectors (README § 6.1 containers-image, § 6.2 Connaisseur) gets its expected verdict
 * from the key-based verifier. Keyless cases (Fulcio certificate) are listed at the end with what this verifier says.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CosignKeyPolicyConfig, prepareCosignPolicy, verifyCosign } from '../../../verifiers/cosign/index.ts';
import { connaisseurRegistry, MemoryRegistry, putSignatures, readDirSignatures, readSigstoreJson, sha256, type SigLayer } from './memory-registry.ts';

const FIX = join(import.meta.dirname, '../../vectors/containers-image/signature/fixtures');
const CON = join(import.meta.dirname, '../../vectors/connaisseur/test/testdata/cosign');
const pem = (f: string) => readFileSync(join(FIX, f), 'utf8');
const REPO = 'cosign-signed-single-sample';
const REF = '192.168.64.2:5000/cosign-signed-single-sample';

/** One containers-image dir → registry; returns the image digest (sha256 of manifest.json, as the gate computes it). */
function dirImage(dir: string, edit?: (l: SigLayer[]) => SigLayer[]) {
  const reg = new MemoryRegistry();
  const manifest = readFileSync(join(FIX, dir, 'manifest.json'));
  const digest = reg.putManifest(REPO, 'latest', manifest);
  const layers = readDirSignatures(join(FIX, dir));
  putSignatures(reg, REPO, digest, edit ? edit(layers) : layers);
  return { reg, digest };
}

async function run(dir: string, config: CosignKeyPolicyConfig, opts: { edit?: (l: SigLayer[]) => SigLayer[]; reference?: string } = {}) {
  const { reg, digest } = dirImage(dir, opts.edit);
  return verifyCosign(reg, { repository: REPO, digest, ...(opts.reference ? { reference: opts.reference } : {}) }, prepareCosignPolicy(config));
}

const cosignPub = { keys: [{ name: 'cosign', pem: pem('cosign.pub') }] };
const SIG = 'dev.cosignproject.cosign/signature';
const BUNDLE = 'dev.sigstore.cosign/bundle';

t.test('containers-image § 6.1', async (t) => {
  const ok = await run('dir-img-cosign-valid', cosignPub);
  t.match(ok, { ok: true, verifiedBy: [{ name: 'cosign', fingerprint: /^sha256:[0-9a-f]{64}$/ }] }, 'valid: cosign.pub');
  t.match(await run('dir-img-cosign-valid', { ...cosignPub, referenceMatch: 'repository' }, { reference: `${REF}:latest` }), { ok: true }, 'valid: matchRepository');
  t.match(await run('dir-img-cosign-valid', { keys: [{ pem: pem('cosign2.pub') }] }), { ok: false, code: 'key_not_trusted' }, 'cosign2.pub only');
  t.match(await run('dir-img-cosign-valid', cosignPub, { edit: (l) => l.map((x) => ({ ...x, annotations: { ...x.annotations, [SIG]: Buffer.from('invalid signature').toString('base64') } })) }),
    { ok: false, code: 'key_not_trusted' }, 'signature replaced');
  t.match(await run('dir-img-cosign-valid', cosignPub, { edit: (l) => l.map((x) => ({ ...x, annotations: {} })) }), { ok: false, code: 'no_signature' }, 'signature annotation removed');
  for (const other of ['testing/manifest:notlatest', 'this/does-not:match']) {
    t.match(await run('dir-img-cosign-valid', { ...cosignPub, referenceMatch: 'repository' }, { reference: other }), { ok: false, code: 'identity_mismatch' }, `reference ${other}`);
  }
  t.match(await run('dir-img-cosign-valid', cosignPub, { edit: () => [readSigstoreJson(join(FIX, 'unknown-cosign-key.signature'))] }),
    { ok: false, code: 'key_not_trusted' }, 'unknown-cosign-key.signature');
  t.match(await run('dir-img-cosign-valid-2', cosignPub), { ok: true, verifiedBy: [{ name: 'cosign' }] }, 'valid-2: two signatures, one key counted once');
  t.match(await run('dir-img-cosign-mixed', cosignPub), { ok: true }, 'mixed: any valid signature suffices');
  t.match(await run('dir-img-cosign-modified-manifest', cosignPub), { ok: false, code: 'payload_digest_mismatch' }, 'modified manifest');
  t.match(await run('dir-img-cosign-manifest-digest-error', cosignPub), { ok: false, code: 'payload_digest_mismatch' }, 'schema1 manifest: digest of the bytes is not the signed one');
  t.match(await run('dir-img-cosign-other-attachment', cosignPub), { ok: false, code: 'no_signature' }, 'only a text/plain attachment');
  const unsigned = new MemoryRegistry();
  const ud = unsigned.putManifest(REPO, 'latest', readFileSync(join(FIX, 'dir-img-unsigned/manifest.json')));
  t.match(await verifyCosign(unsigned, { repository: REPO, digest: ud }, prepareCosignPolicy(cosignPub)), { ok: false, code: 'no_signature' }, 'unsigned');

  const exact = { ...cosignPub, referenceMatch: 'exact' as const };
  t.match(await run('dir-img-cosign-valid-with-tag', exact, { reference: '192.168.64.2:5000/skopeo-signed:tag' }), { ok: true }, 'with-tag: matchExact');
  t.match(await run('dir-img-cosign-valid-with-tag', exact, { reference: '192.168.64.2:5000/skopeo-signed:othertag' }), { ok: false, code: 'identity_mismatch' }, 'with-tag: other tag');
  t.match(await run('dir-img-cosign-valid', exact, { reference: `${REF}:latest` }), { ok: false, code: 'identity_mismatch' }, 'cosign-created (no tag) under matchExact');

  const rekor = { keys: [{ name: 'cosign2', pem: pem('cosign2.pub') }], rekor: { required: true, publicKeys: [pem('rekor.pub')] } };
  const kr = await run('dir-img-cosign-key-rekor-valid', rekor);
  t.match(kr, { ok: true, verifiedBy: [{ name: 'cosign2', integratedTime: Number }] }, 'key + Rekor SET');
  const drop = (l: SigLayer[]) => l.map((x) => ({ ...x, annotations: Object.fromEntries(Object.entries(x.annotations).filter(([k]) => k !== BUNDLE)) }));
  t.match(await run('dir-img-cosign-key-rekor-valid', rekor, { edit: drop }), { ok: false, code: 'rekor_required' }, 'without the SET annotation');
  t.match(await run('dir-img-cosign-key-rekor-valid', { ...rekor, rekor: { required: false, publicKeys: [pem('rekor.pub')] } }, { edit: drop }), { ok: true }, 'Rekor optional: no SET is fine');
  t.match(await run('dir-img-cosign-key-rekor-valid', rekor, { edit: (l) => l.map((x) => ({ ...x, annotations: { ...x.annotations, [BUNDLE]: 'garbage' } })) }),
    { ok: false, code: 'set_invalid' }, 'SET replaced by garbage');
  t.match(await run('dir-img-cosign-key-rekor-valid', { ...rekor, rekor: { required: true, publicKeys: [pem('cosign.pub')] } }), { ok: false, code: 'set_invalid' }, 'Rekor key = cosign.pub');
  // The SET annotation of this vector holds a signature by the real Rekor key over a real log entry: flipping one
  // byte of the SET must break it even with the right logID.
  t.match(await run('dir-img-cosign-key-rekor-valid', rekor, {
    edit: (l) => l.map((x) => {
      const b = JSON.parse(x.annotations[BUNDLE] as string) as { SignedEntryTimestamp: string };
      const set = Buffer.from(b.SignedEntryTimestamp, 'base64');
      set[set.length - 3] = (set[set.length - 3] as number) ^ 1;
      return { ...x, annotations: { ...x.annotations, [BUNDLE]: JSON.stringify({ ...b, SignedEntryTimestamp: set.toString('base64') }) } };
    }),
  }), { ok: false, code: 'set_invalid' }, 'SET with one bit flipped');

  // Keyless vectors (Fulcio certificate, no key): a key rule does not accept them.
  t.match(await run('dir-img-cosign-fulcio-rekor-valid', cosignPub), { ok: false, code: 'key_not_trusted' }, 'fulcio-rekor-valid under a key rule');
  t.match(await run('dir-img-cosign-pki-valid', cosignPub), { ok: false, code: 'key_not_trusted' }, 'pki-valid under a key rule');
});

t.test('Connaisseur § 6.2', async (t) => {
  const REPO2 = 'securesystemsengineering/testimage';
  const reg = connaisseurRegistry(join(CON, 'securesystemsengineering/testimage'), REPO2);
  const key = (n: string) => ({ name: n, pem: readFileSync(join(CON, `${n}.key`), 'utf8') });
  const digestOf = (tag: string) => sha256(reg.manifests.get(`${REPO2}:${tag}`) as Buffer);
  const v = (tag: string, c: CosignKeyPolicyConfig) => verifyCosign(reg, { repository: REPO2, digest: digestOf(tag) }, prepareCosignPolicy(c));
  t.equal(digestOf('multi-cosigned-alice'), 'sha256:071bf7a986f1ca9cb2a1f0bc8392822a7777f90d58f2d2c6f271913e08de7c81');
  t.match(await v('multi-cosigned-alice', { keys: [key('alice')] }), { ok: true, verifiedBy: [{ name: 'alice' }] }, 'alice');
  t.match(await v('multi-cosigned-alice-bob-charlie', { keys: [key('alice'), key('bob')], threshold: 2 }), { ok: true, verifiedBy: [{ name: 'alice' }, { name: 'bob' }] }, 'threshold 2 of alice, bob');
  t.match(await v('multi-cosigned-alice-bob-charlie', { keys: [key('alice'), key('bob')], threshold: 3 }), { ok: false, code: 'threshold_not_met' }, 'threshold 3: charlie is not trusted');
  t.match(await v('multi-cosigned-alice-bob-charlie', { keys: [key('alice'), key('bob'), key('charlie')], threshold: 3 }), { ok: true }, 'threshold 3 with charlie trusted');
  t.match(await v('multi-cosigned-alice', { keys: [key('alice'), key('bob')], required: ['bob'] }), { ok: false, code: 'threshold_not_met', message: /bob/ }, 'required bob');
  t.match(await v('multi-cosigned-alice', { keys: [key('alice'), key('bob')], required: ['bob', 'alice'] }), { ok: false, code: 'threshold_not_met' }, 'required bob, alice');
  t.match(await v('co-unsigned', { keys: [key('alice')] }), { ok: false, code: 'no_signature' }, 'co-unsigned');
  t.match(await v('co-unsigned', { keys: [key('alice'), key('bob')], threshold: 2 }), { ok: false, code: 'no_signature' }, 'co-unsigned, several keys');
  t.match(await v('keyless', { keys: [key('alice')] }), { ok: false, code: 'key_not_trusted' }, 'keyless image under a key rule');
});
