/**
 * cosign requirements through the engine (issue 14): `new PolicyEngine(await loadPolicyState(dir, deps, policy))`
 * with the policy parsed from its config shape, over the real cosign vectors (test/vectors § 6.1 containers-image,
 * § 6.2 Connaisseur, § 11 cosign's bundle) served by an in-memory registry. Key rules (threshold, required,
 * Rekor required/optional, docker-reference), keyless rules under the shipped public-good root and under a private
 * root file, the decision's `verifier` label, reasons, and the `cosign` report block `pullgate verify --json` shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { ImageTarget } from '../../../policy/decision.ts';
import { PolicyEngine } from '../../../policy/engine.ts';
import { loadPolicyState } from '../../../policy/load-state.ts';
import { digestOf } from '../../../oci/digest.ts';
import { trustedRootFromPems } from '../../../verifiers/cosign/index.ts';
import { HttpCrlSource } from '../../../registry/crl-source.ts';
import { connaisseurRegistry, MemoryRegistry, putSignatures, readDirSignatures, type SigLayer } from '../../verifiers/cosign/memory-registry.ts';
import { parse } from '../image-policy/helpers.ts';

const FIX = join(import.meta.dirname, '../../vectors/containers-image/signature/fixtures');
const CON = join(import.meta.dirname, '../../vectors/connaisseur/test/testdata/cosign');
const CLOCK = () => new Date('2026-12-05T12:00:00Z'); // cosign decisions use the log's time, not this clock
const REG = '192.168.64.2:5000';
const REPO = 'cosign-signed-single-sample';
const fixture = (f: string) => readFileSync(join(FIX, f), 'utf8');
const FILES = {
  '/etc/pullgate/cosign.pub': fixture('cosign.pub'),
  '/etc/pullgate/cosign2.pub': fixture('cosign2.pub'),
  '/etc/pullgate/alice.pub': readFileSync(join(CON, 'alice.key'), 'utf8'),
  '/etc/pullgate/bob.pub': readFileSync(join(CON, 'bob.key'), 'utf8'),
};

function target(registry: string, repository: string, reference: string, manifest: Buffer): ImageTarget {
  return { registry, repository, reference, digest: digestOf(manifest, 'sha256'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: manifest.length, bytes: manifest };
}

async function engine(rules: unknown[], registries: Record<string, MemoryRegistry>, files: Record<string, string> = {}): Promise<PolicyEngine> {
  const policy = parse({ rules }, { ...FILES, ...files })!;
  const state = await loadPolicyState('/nonexistent/notation', { fetcherFor: (r) => registries[r], crlSource: new HttpCrlSource(), clock: CLOCK }, policy);
  return new PolicyEngine(state);
}

/** A containers-image `dir:` fixture pushed as a cosign-signed image into an in-memory registry. */
function dirImage(dir: string, edit?: (l: SigLayer[]) => SigLayer[], repo = REPO): { reg: MemoryRegistry; target: ImageTarget } {
  const reg = new MemoryRegistry();
  const manifest = readFileSync(join(FIX, dir, 'manifest.json'));
  const digest = reg.putManifest(repo, 'latest', manifest);
  const layers = readDirSignatures(join(FIX, dir));
  if (layers.length > 0) putSignatures(reg, repo, digest, edit ? edit(layers) : layers);
  return { reg, target: target(REG, repo, 'latest', manifest) };
}

const keyRule = (extra: Record<string, unknown> = {}) => [{ scope: `${REG}/*`, require: [{ verifier: 'cosign', publicKeyFiles: ['cosign.pub'], ...extra }] }];

t.test('key-based, containers-image vectors', async (t) => {
  const valid = dirImage('dir-img-cosign-valid');
  const ok = await (await engine(keyRule(), { [REG]: valid.reg })).decide(valid.target);
  t.match(ok, { allow: true, reason: 'verified', verifier: 'cosign', rule: { key: 'policy.rules[0]' } });
  t.match(ok.requirements, [{ verifier: 'cosign', status: 'passed', message: /signed by key cosign \(sha256:/, cosign: { mode: 'keys', trustedRoot: /public-good/, layouts: ['tag', 'referrer'], verifiedBy: [{ name: 'cosign', fingerprint: /^sha256:[0-9a-f]{64}$/ }] } }]);

  const wrongKey = await (await engine(keyRule({ publicKeyFiles: ['cosign2.pub'] }), { [REG]: valid.reg })).decide(valid.target);
  t.match(wrongKey, { allow: false, reason: 'key_not_trusted', verifier: 'cosign', message: /no signature verified with a trusted key/ }, 'wrong key');

  const e = await engine(keyRule(), {});
  const modified = dirImage('dir-img-cosign-modified-manifest');
  t.match(await (await engine(keyRule(), { [REG]: modified.reg })).decide(modified.target), { allow: false, reason: 'payload_digest_mismatch' }, 'signature for another digest');
  const unsigned = dirImage('dir-img-unsigned');
  t.match(await (await engine(keyRule(), { [REG]: unsigned.reg })).decide(unsigned.target), { allow: false, reason: 'no_signature' }, 'unsigned');
  const tampered = dirImage('dir-img-cosign-valid', (l) => l.map((x) => ({ ...x, payload: Buffer.from(x.payload.toString().replace('cosign container image signature', 'cosign container image signature ')) })));
  t.match(await (await engine(keyRule(), { [REG]: tampered.reg })).decide(tampered.target), { allow: false, reason: 'key_not_trusted' }, 'tampered payload: the signature no longer verifies');
  t.match(await e.decide(valid.target), { allow: false, reason: 'upstream_unavailable' }, 'a registry the gate does not mirror fails closed');
  const other = dirImage('dir-img-cosign-other-attachment');
  t.match(await (await engine(keyRule(), { [REG]: other.reg })).decide(other.target), { allow: false, reason: 'no_signature' }, 'only a non-signature attachment');

  // docker-reference as containers/image checks it (cosign ignores it by default).
  const withTag = dirImage('dir-img-cosign-valid-with-tag', undefined, 'skopeo-signed');
  const exact = await engine([{ scope: `${REG}/*`, require: [{ verifier: 'cosign', publicKeyFiles: ['cosign.pub'], dockerReference: 'exact' }] }], { [REG]: withTag.reg });
  t.match(await exact.decide(target(REG, 'skopeo-signed', 'tag', withTag.target.bytes)), { allow: true }, 'exact: the signed tag');
  t.match(await exact.decide(target(REG, 'skopeo-signed', 'othertag', withTag.target.bytes)), { allow: false, reason: 'identity_mismatch' }, 'exact: another tag');
});

t.test('key + Rekor: the SET is checked against the trusted root\'s log keys (public-good by default)', async (t) => {
  const BUNDLE = 'dev.sigstore.cosign/bundle';
  const drop = (l: SigLayer[]) => l.map((x) => ({ ...x, annotations: Object.fromEntries(Object.entries(x.annotations).filter(([k]) => k !== BUNDLE)) }));
  const rule = keyRule({ publicKeyFiles: ['cosign2.pub'], rekor: 'required' });
  const kr = dirImage('dir-img-cosign-key-rekor-valid');
  const d = await (await engine(rule, { [REG]: kr.reg })).decide(kr.target);
  t.match(d, { allow: true, verifier: 'cosign' });
  t.match(d.requirements?.[0]?.cosign?.verifiedBy, [{ name: 'cosign2', integratedTime: /^20\d\d-\d\d-\d\dT/ }], 'Rekor integrated time reported');
  const noSet = dirImage('dir-img-cosign-key-rekor-valid', drop);
  t.match(await (await engine(rule, { [REG]: noSet.reg })).decide(noSet.target), { allow: false, reason: 'rekor_required' }, 'no SET, Rekor required');
  t.match(await (await engine(keyRule({ publicKeyFiles: ['cosign2.pub'] }), { [REG]: noSet.reg })).decide(noSet.target), { allow: true }, 'no SET, Rekor optional');
  const garbage = dirImage('dir-img-cosign-key-rekor-valid', (l) => l.map((x) => ({ ...x, annotations: { ...x.annotations, [BUNDLE]: 'garbage' } })));
  t.match(await (await engine(keyRule({ publicKeyFiles: ['cosign2.pub'] }), { [REG]: garbage.reg })).decide(garbage.target), { allow: false, reason: 'set_invalid' }, 'a SET that is present must verify even when optional');
  // A trusted root whose only log is another key: the SET names a log this root does not hold.
  const otherLog = JSON.stringify(trustedRootFromPems({ fulcioCerts: [], rekorKeys: [fixture('cosign.pub')], ctLogKeys: [] }));
  t.match(await (await engine(keyRule({ publicKeyFiles: ['cosign2.pub'], rekor: 'required', trustedRoot: 'other-root.json' }), { [REG]: kr.reg }, { '/etc/pullgate/other-root.json': otherLog })).decide(kr.target),
    { allow: false, reason: 'set_invalid' }, 'SET from another Rekor');
});

t.test('Connaisseur multi-signer: threshold and required keys', async (t) => {
  const REPO2 = 'securesystemsengineering/testimage';
  const reg = connaisseurRegistry(join(CON, 'securesystemsengineering/testimage'), REPO2);
  const tgt = (tag: string) => target('docker.io', REPO2, tag, reg.manifests.get(`${REPO2}:${tag}`)!);
  const e = async (extra: Record<string, unknown>) => engine([{ scope: `docker.io/${REPO2}`, require: [{ verifier: 'cosign', publicKeyFiles: ['alice.pub', 'bob.pub'], ...extra }] }], { 'docker.io': reg });
  const two = await (await e({ threshold: 2 })).decide(tgt('multi-cosigned-alice-bob-charlie'));
  t.match(two, { allow: true });
  t.match(two.requirements?.[0]?.cosign?.verifiedBy, [{ name: 'alice' }, { name: 'bob' }], 'both keys reported');
  t.match(await (await e({ threshold: 2 })).decide(tgt('multi-cosigned-alice')), { allow: false, reason: 'threshold_not_met', message: /1 of 2/ }, 'one of two keys');
  t.match(await (await e({ required: ['bob'] })).decide(tgt('multi-cosigned-alice')), { allow: false, reason: 'threshold_not_met', message: /missing required signatures from bob/ }, 'required bob');
  t.match(await (await e({})).decide(tgt('co-unsigned')), { allow: false, reason: 'no_signature' }, 'co-unsigned');
  t.match(await (await e({})).decide(tgt('keyless')), { allow: false, reason: 'key_not_trusted' }, 'a keyless signature under a key rule');
});

t.test('keyless: containers-image fulcio-rekor-valid under the shipped public-good root', async (t) => {
  const img = dirImage('dir-img-cosign-fulcio-rekor-valid');
  const rule = (identity: Record<string, unknown>, extra: Record<string, unknown> = {}) => [{ scope: `${REG}/*`, require: [{ verifier: 'cosign', name: 'release', identities: [identity], ...extra }] }];
  const decide = async (identity: Record<string, unknown>, extra?: Record<string, unknown>, files?: Record<string, string>) => (await engine(rule(identity, extra), { [REG]: img.reg }, files)).decide(img.target);
  const ok = await decide({ name: 'mitr', issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' });
  t.match(ok, { allow: true, reason: 'verified', verifier: 'cosign' });
  t.match(ok.requirements, [{ name: 'release', message: /mitr@redhat.com \(issuer https:\/\/github.com\/login\/oauth\)/, cosign: { mode: 'keyless', verifiedBy: [{ name: 'mitr', signer: /mitr@redhat.com/, integratedTime: /^20/ }] } }]);
  t.match(await decide({ issuer: 'https://github.com/login/oauth', subjectRegExp: '[a-z]+@redhat\\.com' }), { allow: true }, 'subjectRegExp, whole string');
  t.match(await decide({ issuerRegExp: 'https://github\\.com/.*', subject: 'mitr@redhat.com' }), { allow: true }, 'issuerRegExp');
  t.match(await decide({ issuer: 'https://github.com/login/oauth', subjectRegExp: 'redhat' }), { allow: false, reason: 'identity_mismatch' }, 'anchored: a partial match is not a match');
  t.match(await decide({ issuer: 'https://github.com/login/oauth', subject: 'someone@redhat.com' }), { allow: false, reason: 'identity_mismatch' }, 'wrong identity');
  t.match(await decide({ issuer: 'https://accounts.google.com', subject: 'mitr@redhat.com' }), { allow: false, reason: 'identity_mismatch' }, 'wrong issuer');
  t.match(await decide({ issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com', githubWorkflowRepository: 'acme/app' }), { allow: false, reason: 'identity_mismatch', message: /githubWorkflowRepository is absent/ }, 'a GitHub workflow claim the certificate does not carry');
  // A signature from another Sigstore instance: the staging instance's trusted root (sigstage.dev, from the
  // conformance vectors) does not vouch for a public-good signature.
  const staging = readFileSync(join(import.meta.dirname, '../../vectors/sigstore/sigstore-conformance/test/assets/bundle-verify/rekor2-happy-path/trusted_root.json'), 'utf8');
  t.match(await decide({ issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' }, { trustedRoot: 'staging.json' }, { '/etc/pullgate/staging.json': staging }),
    { allow: false, verifier: 'cosign' }, 'another instance\'s trusted root refuses it');
  // Connaisseur's keyless config names its Fulcio/Rekor/CT keys as loose PEMs (they are the public-good ones).
  const yaml = readFileSync(join(CON, '11_keyless.yaml'), 'utf8');
  const block = (k: string) => new RegExp(`${k}: \\|\\s*\\n((?:\\s{4}.*\\n)+)`).exec(yaml)![1]!.split('\n').map((l) => l.trim()).join('\n');
  const privateRoot = JSON.stringify(trustedRootFromPems({ fulcioCerts: [block('fulcioCert')], rekorKeys: [block('rekorPubkey')], ctLogKeys: [block('ctLogPubkey')] }));
  const noSet = dirImage('dir-img-cosign-fulcio-rekor-valid', (l) => l.map((x) => ({ ...x, annotations: Object.fromEntries(Object.entries(x.annotations).filter(([k]) => k !== 'dev.sigstore.cosign/bundle')) })));
  t.match(await (await engine(rule({ issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' }), { [REG]: noSet.reg })).decide(noSet.target),
    { allow: false, verifier: 'cosign' }, 'certificate (long expired) without its log entry');

  // Connaisseur's keyless image under its own private root, given as a trusted_root.json file.
  const REPO2 = 'securesystemsengineering/testimage';
  const creg = connaisseurRegistry(join(CON, 'securesystemsengineering/testimage'), REPO2);
  const ctgt = target('docker.io', REPO2, 'keyless', creg.manifests.get(`${REPO2}:keyless`)!);
  const con = (identity: Record<string, unknown>) => engine([{ scope: 'docker.io/*', require: [{ verifier: 'cosign', identities: [identity], trustedRoot: 'private.json' }] }], { 'docker.io': creg }, { '/etc/pullgate/private.json': privateRoot });
  t.match(await (await con({ name: 'philipp-keyless', subjectRegExp: '.*philipp.*', issuerRegExp: '.*github.*' })).decide(ctgt), { allow: true, requirements: [{ cosign: { verifiedBy: [{ name: 'philipp-keyless' }] } }] }, 'Connaisseur keyless: philipp');
  t.match(await (await con({ name: 'bob-keyless', subject: 'bob@gmail.com', issuerRegExp: '.*google.*' })).decide(ctgt), { allow: false, reason: 'identity_mismatch' }, 'Connaisseur keyless: bob');
  t.match(await (await con({ subjectRegExp: '.*philipp.*', issuerRegExp: '.*github.*' })).decide(target('docker.io', REPO2, 'keyless', Buffer.from('{"schemaVersion":2}'))), { allow: false, reason: 'no_signature' }, 'another digest carries no signature');
});

t.test('a Sigstore bundle referrer: cosign\'s attestation bundle is not an image signature', async (t) => {
  const ART = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const reg = new MemoryRegistry();
  const digest = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
  const blob = reg.putBlob(readFileSync(join(import.meta.dirname, '../../vectors/sigstore/cosign-oci-attestation.sigstore.json')));
  const md = reg.putManifest('repo', 'b', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: ART, layers: [{ mediaType: ART, ...blob }] })));
  reg.referrerIndexes.set(`repo@${digest}`, Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ digest: md, artifactType: ART }] })));
  const tgt: ImageTarget = { registry: 'reg.example', repository: 'repo', reference: digest, digest: { algorithm: 'sha256', hex: digest.slice(7), text: digest } as ImageTarget['digest'], mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 2, bytes: Buffer.from('{}') };
  const e = async (layouts: string[]) => engine([{ scope: 'reg.example/repo', require: [{ verifier: 'cosign', layouts, identities: [{ issuer: 'https://github.com/login/oauth', subject: 'cody@soyland.com' }] }] }], { 'reg.example': reg });
  t.match(await (await e(['referrer'])).decide(tgt), { allow: false, reason: 'wrong_payload_type' }, 'found as a referrer, refused as an attestation');
  t.match(await (await e(['tag'])).decide(tgt), { allow: false, reason: 'no_signature' }, 'layouts: [tag] does not look at referrers');
  // A registry without the referrers API: the same referrer listed in the `sha256-<hex>` tag-schema index.
  const tagged = new MemoryRegistry();
  const tb = tagged.putBlob(readFileSync(join(import.meta.dirname, '../../vectors/sigstore/cosign-oci-attestation.sigstore.json')));
  const tmd = tagged.putManifest('repo', 'b', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: ART, layers: [{ mediaType: ART, ...tb }] })));
  tagged.putManifest('repo', digest.replace(':', '-'), Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: tmd, artifactType: ART }] })));
  const viaTag = await engine([{ scope: 'reg.example/repo', require: [{ verifier: 'cosign', layouts: ['referrer'], identities: [{ issuer: 'https://github.com/login/oauth', subject: 'cody@soyland.com' }] }] }], { 'reg.example': tagged });
  t.match(await viaTag.decide(tgt), { allow: false, reason: 'wrong_payload_type' }, 'found through the referrers tag schema');
});

t.test('keyless Fulcio claims: provider-generic (v2, DER UTF8String) and GitHub (v1, raw), exact or anchored; issuer v2 preferred', async (t) => {
  const { MiniSigstore, derUtf8 } = await import('../../../test/e2e/cosign-mini-sigstore.ts');
  const { simpleSigningPayload, SIMPLE_SIGNING } = await import('../../../test/e2e/cosign-sign.ts');
  const GH = 'https://token.actions.githubusercontent.com';
  const SAN = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0';
  const sigstore = await MiniSigstore.create('claims-fulcio');
  const root = JSON.stringify(sigstore.trustedRoot());
  const CLAIMS = {
    buildSignerURI: SAN, buildSignerDigest: 'a'.repeat(40), runnerEnvironment: 'github-hosted', sourceRepositoryURI: 'https://github.com/acme/app',
    sourceRepositoryDigest: 'b'.repeat(40), sourceRepositoryRef: 'refs/tags/v1.0.0', sourceRepositoryIdentifier: '1234', sourceRepositoryOwnerURI: 'https://github.com/acme',
    sourceRepositoryOwnerIdentifier: '5678', buildConfigURI: SAN, buildConfigDigest: 'c'.repeat(40), buildTrigger: 'push',
    runInvocationURI: 'https://github.com/acme/app/actions/runs/1/attempts/1', sourceRepositoryVisibilityAtSigning: 'public', deploymentEnvironment: 'production',
  };
  /** One image signed keyless by `identity` (tag layout) in its own in-memory registry. */
  const signed = async (identity: Parameters<typeof sigstore.sign>[1]) => {
    const reg = new MemoryRegistry();
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] }));
    const digest = reg.putManifest('acme/app', 'v1', manifest);
    const payload = simpleSigningPayload(`${REG}/acme/app`, digest);
    const s = await sigstore.sign(payload, identity);
    putSignatures(reg, 'acme/app', digest, [{ mediaType: SIMPLE_SIGNING, payload, annotations: s.annotations }]);
    return { reg, tgt: target(REG, 'acme/app', 'v1', manifest) };
  };
  const decide = async (img: { reg: MemoryRegistry; tgt: ImageTarget }, id: Record<string, unknown>) =>
    (await engine([{ scope: `${REG}/*`, require: [{ verifier: 'cosign', trustedRoot: 'mini.json', identities: [{ issuer: GH, subject: SAN, ...id }] }] }], { [REG]: img.reg }, { '/etc/pullgate/mini.json': root })).decide(img.tgt);

  const full = await signed({ uri: SAN, issuer: GH, issuerV2: GH, github: { githubWorkflowRepository: 'acme/app', githubWorkflowTrigger: 'push' }, claims: CLAIMS });
  t.match(await decide(full, CLAIMS), { allow: true, verifier: 'cosign' }, 'every provider-generic claim, exact');
  t.match(await decide(full, { sourceRepositoryURIRegExp: 'https://github\\.com/acme/[^/]+', sourceRepositoryRefRegExp: 'refs/tags/v[0-9.]+', githubWorkflowRepositoryRegExp: 'acme/.+' }), { allow: true }, 'anchored regexps, v1 and v2');
  t.match(await decide(full, { sourceRepositoryURI: 'https://github.com/acme/fork' }), { allow: false, reason: 'identity_mismatch', message: /sourceRepositoryURI is "https:\/\/github.com\/acme\/app", not "https:\/\/github.com\/acme\/fork"/ }, 'wrong source repository');
  t.match(await decide(full, { sourceRepositoryURIRegExp: 'https://github\\.com/acme' }), { allow: false, reason: 'identity_mismatch' }, 'a regexp matching a prefix only does not match');
  t.match(await decide(full, { runnerEnvironment: 'self-hosted' }), { allow: false, reason: 'identity_mismatch', message: /runnerEnvironment/ }, 'self-hosted runner required, github-hosted signed');
  t.match(await decide(full, { githubWorkflowTrigger: 'release' }), { allow: false, reason: 'identity_mismatch', message: /githubWorkflowTrigger is "push"/ }, 'v1 claim still checked');

  const v1only = await signed({ uri: SAN, issuer: GH, github: { githubWorkflowRepository: 'acme/app' } });
  t.match(await decide(v1only, { sourceRepositoryURI: 'https://github.com/acme/app' }), { allow: false, reason: 'identity_mismatch', message: /sourceRepositoryURI is absent/ }, 'a v1-only certificate does not carry the v2 claim');

  // The issuer: .1.8 preferred over .1.1 when both are present (the raw v1 value is the deprecated form).
  t.match(await decide(await signed({ uri: SAN, issuer: 'https://evil.example', issuerV2: GH }), {}), { allow: true }, 'v2 issuer wins over a different v1');
  t.match(await decide(await signed({ uri: SAN, issuer: GH, issuerV2: 'https://evil.example' }), {}), { allow: false, reason: 'identity_mismatch' }, 'v1 issuer does not rescue a different v2');
  t.match(await decide(await signed({ uri: SAN, issuer: GH, issuerV1: false, issuerV2: GH }), {}), { allow: true }, 'v2 issuer alone');

  // Encoding: v2 values are DER UTF8String; a raw string, another string type or trailing bytes are refused.
  const withRaw = (value: Buffer) => signed({ uri: SAN, issuer: GH, rawExtensions: [{ oid: '1.3.6.1.4.1.57264.1.12', value }] });
  t.match(await decide(await withRaw(Buffer.from('https://github.com/acme/app')), { sourceRepositoryURI: 'https://github.com/acme/app' }), { allow: false, reason: 'identity_mismatch', message: /sourceRepositoryURI is malformed/ }, 'raw bytes under a v2 OID');
  const printable = derUtf8('https://github.com/acme/app');
  printable[0] = 0x13;
  t.match(await decide(await withRaw(printable), { sourceRepositoryURI: 'https://github.com/acme/app' }), { allow: false, message: /malformed \(not a DER UTF8String\)/ }, 'PrintableString, not UTF8String');
  t.match(await decide(await withRaw(Buffer.concat([derUtf8('https://github.com/acme/app'), Buffer.from([0])])), { sourceRepositoryURI: 'https://github.com/acme/app' }), { allow: false, message: /malformed/ }, 'trailing bytes');
  const long = 'https://github.com/acme/' + 'x'.repeat(200);
  t.match(await decide(await withRaw(derUtf8(long)), { sourceRepositoryURI: long }), { allow: true }, 'long-form DER length');
});

t.test('prepare: the `.sig` tag and referrers lookups start with the digest, and the decision reuses them', async (t) => {
  /** A registry that holds every request until released, and counts them by what they ask. */
  class GatedRegistry extends MemoryRegistry {
    readonly asked: string[] = [];
    #open = false;
    #waiting: (() => void)[] = [];
    release(): void {
      this.#open = true;
      for (const w of this.#waiting.splice(0)) w();
    }
    async #gate(what: string): Promise<void> {
      this.asked.push(what);
      if (!this.#open) await new Promise<void>((r) => this.#waiting.push(r));
    }
    override async manifest(repo: string, ref: string, accept: readonly string[], maxBytes: number) {
      await this.#gate(`manifest ${ref}`);
      return super.manifest(repo, ref, accept, maxBytes);
    }
    override async referrers(repo: string, subject: string) {
      await this.#gate(`referrers ${subject}`);
      return super.referrers(repo, subject);
    }
  }
  const valid = dirImage('dir-img-cosign-valid');
  const reg = new GatedRegistry();
  for (const [k, v] of valid.reg.manifests) reg.manifests.set(k, v);
  for (const [k, v] of valid.reg.blobs) reg.blobs.set(k, v);
  const e = await engine(keyRule(), { [REG]: reg });
  const sigTag = `manifest ${valid.target.digest.text.replace(':', '-')}.sig`;

  e.prepare({ registry: REG, repository: REPO, digest: valid.target.digest });
  await new Promise((r) => setImmediate(r));
  t.ok(reg.asked.includes(sigTag), 'the .sig tag lookup started before decide()');
  t.ok(reg.asked.includes(`referrers ${valid.target.digest.text}`), 'the referrers lookup started before decide()');
  const decision = e.decide(valid.target);
  reg.release();
  t.match(await decision, { allow: true, verifier: 'cosign' }, 'decided on the prepared lookups');
  t.equal(reg.asked.filter((a) => a === sigTag).length, 1, 'the .sig tag was asked for once: the decision reused the prepared lookup');
  t.equal(reg.asked.filter((a) => a.startsWith('referrers')).length, 1, 'the referrers once');

  // Unprepared, the decision looks up on its own; a digest that was prepared but not decided costs nothing more.
  const before = reg.asked.length;
  t.match(await e.decide(valid.target), { allow: true });
  t.equal(reg.asked.filter((a) => a === sigTag).length, 2, 'an unprepared decision asks itself');
  t.ok(reg.asked.length > before);
  // prepare never decides: a prepared lookup for an unsigned digest still ends in a denial by verify().
  const unsigned = dirImage('dir-img-unsigned');
  const e2 = await engine(keyRule(), { [REG]: unsigned.reg });
  e2.prepare({ registry: REG, repository: REPO, digest: unsigned.target.digest });
  t.match(await e2.decide(unsigned.target), { allow: false, reason: 'no_signature' });
});
