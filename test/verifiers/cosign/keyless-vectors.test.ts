/**
 * Keyless cosign vectors in the tag layout (README § 6.1 `dir-img-cosign-fulcio-rekor-valid`, § 6.2 Connaisseur
 * `keyless`): Fulcio certificate + chain + Rekor SET, verified offline with no clock (the certificate must be valid
 * at the SET's integrated time, which the library checks).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeKeyless, type KeylessRule } from '../../../verifiers/cosign/keyless.ts';
import { fetchLegacySignatures } from '../../../verifiers/cosign/legacy-layout.ts';
import { prepareTrustedRoot } from '../../../verifiers/cosign/sigstore-bundle.ts';
import { trustedRootFromPems } from '../../../verifiers/cosign/trusted-root-from-pems.ts';
import { connaisseurRegistry, MemoryRegistry, putSignatures, readDirSignatures, sha256, type SigLayer } from './memory-registry.ts';

const FIX = join(import.meta.dirname, '../../vectors/containers-image/signature/fixtures');
const CON = join(import.meta.dirname, '../../vectors/connaisseur/test/testdata/cosign');
const PUBLIC_GOOD = JSON.parse(readFileSync(join(import.meta.dirname, '../../../verifiers/cosign/trust/public-good.trusted_root.json'), 'utf8')) as { ctlogs: unknown[] };

function yamlBlock(text: string, key: string): string {
  const m = new RegExp(`${key}: \\|\\s*\\n((?:\\s{4}.*\\n)+)`).exec(text);
  if (!m) throw new Error(`no ${key}`);
  return (m[1] as string).split('\n').map((l) => l.trim()).join('\n');
}

async function legacyOf(reg: MemoryRegistry, repo: string, digest: string) {
  const r = await fetchLegacySignatures(reg, repo, digest);
  if (!r.found) throw new Error('no signatures');
  return r.signatures;
}

t.test('containers-image fulcio-rekor-valid', async (t) => {
  const dir = join(FIX, 'dir-img-cosign-fulcio-rekor-valid');
  const build = async (edit?: (l: SigLayer[]) => SigLayer[]) => {
    const reg = new MemoryRegistry();
    const digest = reg.putManifest('app', 'latest', readFileSync(join(dir, 'manifest.json')));
    const layers = readDirSignatures(dir);
    putSignatures(reg, 'app', digest, edit ? edit(layers) : layers);
    return { digest, sigs: await legacyOf(reg, 'app', digest) };
  };
  // Fulcio root + Rekor key from the fixture; the CT log key from the public-good root (README § 11).
  const json = trustedRootFromPems({ fulcioCerts: [readFileSync(join(FIX, 'fulcio_v1.crt.pem'), 'utf8')], rekorKeys: [readFileSync(join(FIX, 'rekor.pub'), 'utf8')], ctLogKeys: [] }) as Record<string, unknown>;
  const trust = prepareTrustedRoot({ ...json, ctlogs: PUBLIC_GOOD.ctlogs });
  const rule = (subject: string): KeylessRule => ({ trust, identities: [{ subject, issuer: 'https://github.com/login/oauth' }], referenceMatch: 'ignore', annotations: {} });
  const { digest, sigs } = await build();
  t.match(judgeKeyless(sigs, [], { digest }, rule('mitr@redhat.com')), { ok: true, verifiedBy: [{ signer: /mitr@redhat.com/ }] }, 'VALID');
  t.match(judgeKeyless(sigs, [], { digest }, rule('someone@redhat.com')), { ok: false, code: 'identity_mismatch' }, 'wrong email');
  t.match(judgeKeyless(sigs, [], { digest: `sha256:${'3'.repeat(64)}` }, rule('mitr@redhat.com')), { ok: false, code: 'payload_digest_mismatch' }, 'another digest');
  const without = (k: string) => (l: SigLayer[]) => l.map((x) => ({ ...x, annotations: Object.fromEntries(Object.entries(x.annotations).filter(([a]) => a !== k)) }));
  for (const [what, k] of [['certificate', 'dev.sigstore.cosign/certificate'], ['SET', 'dev.sigstore.cosign/bundle'], ['chain', 'dev.sigstore.cosign/chain']] as const) {
    const b = await build(without(k));
    t.match(judgeKeyless(b.sigs, [], { digest: b.digest }, rule('mitr@redhat.com')), { ok: false }, `missing ${what}`);
  }
  const garbage = await build((l) => l.map((x) => ({ ...x, annotations: { ...x.annotations, 'dev.sigstore.cosign/certificate': '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n' } })));
  t.match(judgeKeyless(garbage.sigs, [], { digest: garbage.digest }, rule('mitr@redhat.com')), { ok: false, code: 'malformed' }, 'garbage certificate');
  // This signature is from the public-good instance (fulcio_v1 is its root, rekor.pub its log key): the shipped root accepts it.
  t.match(judgeKeyless(sigs, [], { digest }, { ...rule('mitr@redhat.com'), trust: prepareTrustedRoot(PUBLIC_GOOD) }), { ok: true }, 'shipped public-good root');
  const otherLog = prepareTrustedRoot({ ...json, tlogs: (trustedRootFromPems({ fulcioCerts: [], rekorKeys: [readFileSync(join(FIX, 'cosign.pub'), 'utf8')], ctLogKeys: [] }) as { tlogs: unknown[] }).tlogs, ctlogs: PUBLIC_GOOD.ctlogs });
  t.match(judgeKeyless(sigs, [], { digest }, { ...rule('mitr@redhat.com'), trust: otherLog }), { ok: false }, 'a root whose Rekor is another instance');
  const otherCa = prepareTrustedRoot({ ...(trustedRootFromPems({ fulcioCerts: [readFileSync(join(FIX, 'pki_root_crts.pem'), 'utf8')], rekorKeys: [readFileSync(join(FIX, 'rekor.pub'), 'utf8')], ctLogKeys: [] }) as object), ctlogs: PUBLIC_GOOD.ctlogs });
  t.match(judgeKeyless(sigs, [], { digest }, { ...rule('mitr@redhat.com'), trust: otherCa }), { ok: false }, 'chain annotation does not lead to the configured CA');
  const noCt = prepareTrustedRoot({ ...json, ctlogs: [] });
  t.match(judgeKeyless(sigs, [], { digest }, { ...rule('mitr@redhat.com'), trust: noCt }), { ok: false }, 'no CT log key: the SCT cannot be checked');
});

t.test('Connaisseur keyless', async (t) => {
  const yaml = readFileSync(join(CON, '11_keyless.yaml'), 'utf8');
  const trust = prepareTrustedRoot(trustedRootFromPems({ fulcioCerts: [yamlBlock(yaml, 'fulcioCert')], rekorKeys: [yamlBlock(yaml, 'rekorPubkey')], ctLogKeys: [yamlBlock(yaml, 'ctLogPubkey')] }));
  const repo = 'securesystemsengineering/testimage';
  const reg = connaisseurRegistry(join(CON, 'securesystemsengineering/testimage'), repo);
  const digest = sha256(reg.manifests.get(`${repo}:keyless`) as Buffer);
  const sigs = await legacyOf(reg, repo, digest);
  // Connaisseur's regexes are unanchored (Go regexp.MatchString); ours are anchored, so its config reads as .*x.*
  const philipp: KeylessRule = { trust, identities: [{ name: 'philipp-keyless', subject: /.*philipp.*/, issuer: /.*github.*/ }], referenceMatch: 'ignore', annotations: {} };
  t.match(judgeKeyless(sigs, [], { digest }, philipp), { ok: true, verifiedBy: [{ name: 'philipp-keyless' }] }, 'philipp-keyless: VALID');
  const bob: KeylessRule = { ...philipp, identities: [{ name: 'bob-keyless', subject: 'bob@gmail.com', issuer: /.*google.*/ }] };
  t.match(judgeKeyless(sigs, [], { digest }, bob), { ok: false, code: 'identity_mismatch' }, 'bob-keyless: INVALID');
  t.match(judgeKeyless(sigs, [], { digest }, { ...philipp, identities: [{ subject: /philipp/, issuer: /.*github.*/ }] }), { ok: false, code: 'identity_mismatch' }, 'anchored: a bare /philipp/ does not match the whole e-mail');
});

t.test("cosign's OCI attestation bundle as a referrer: verifies, but an attestation is not an image signature", async (t) => {
  const { verifyCosignKeyless } = await import('../../../verifiers/cosign/index.ts');
  const bundleBytes = readFileSync(join(import.meta.dirname, '../../vectors/sigstore/cosign-oci-attestation.sigstore.json'));
  const digest = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4'; // the statement's subject
  const ART = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const reg = new MemoryRegistry();
  const blob = reg.putBlob(bundleBytes);
  const md = reg.putManifest('repo', 'b', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: ART, layers: [{ mediaType: ART, ...blob }] })));
  reg.referrerIndexes.set(`repo@${digest}`, Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: md, artifactType: ART }] })));
  const rule = (subject: string): KeylessRule => ({ trust: prepareTrustedRoot(PUBLIC_GOOD), identities: [{ subject, issuer: 'https://github.com/login/oauth' }], referenceMatch: 'ignore', annotations: {} });
  t.match(await verifyCosignKeyless(reg, { repository: 'repo', digest }, rule('cody@soyland.com')), { ok: false, code: 'wrong_payload_type', message: /predicateType/ }, 'attestation predicate refused');
  t.match(await verifyCosignKeyless(reg, { repository: 'repo', digest }, rule('eve@example.com')), { ok: false, code: 'identity_mismatch' }, 'wrong identity');
  t.match(await verifyCosignKeyless(reg, { repository: 'repo', digest: `sha256:${'4'.repeat(64)}` }, rule('cody@soyland.com')), { ok: false, code: 'no_signature' }, 'nothing attached to another digest');
});
