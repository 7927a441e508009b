/**
 * Issue 14 acceptance, keyless: images signed in the test by an in-process Sigstore (test/e2e/cosign-mini-sigstore.ts:
 * Fulcio-like CA with embedded SCTs, CT log, Rekor SETs and inclusion proofs), in cosign's tag layout and as a
 * Sigstore v0.3 bundle attached as an OCI referrer (found through the referrers tag schema on distribution 2.8),
 * pulled through the real `pullgate serve` by ctr and the CRI PullImage call, with that instance's trusted_root.json
 * named by the rule. Passes: the workflow identity (issuer exact, subject anchored regexp, GitHub v1 and
 * provider-generic v2 claims), a certificate long expired whose Rekor entry proves it was valid when it signed, and
 * the bundle referrer. Denied with the reason reaching ctr/CRI: unsigned, wrong identity, wrong issuer, wrong
 * workflow claim (GitHub v1 repository; v2 `sourceRepositoryURI`), tampered payload, payload for another digest, the
 * same bundle attached to another image, an expired certificate without a log entry, and a signature from another
 * Sigstore instance. The same gate requires Notation for another repository.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd } from '../harness/containerd.ts';
import { MEDIA, pushTestImage } from '../harness/images.ts';
import { startRegistry } from '../harness/registry.ts';
import { assertDenied, assertNoBypass, assertPullsAs } from './notaryv1-fixture.ts';
import { MiniSigstore, type KeylessIdentity, type KeylessSignOptions } from './cosign-mini-sigstore.ts';
import { pushBundleReferrer, pushCosignSignatures, simpleSigningPayload } from './cosign-sign.ts';
import { startPullgate, VECTORS, type PullgateProcess } from './pullgate-process.ts';
import { e2eSigner, signInRegistry } from './sign-and-push.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const GH = 'https://token.actions.githubusercontent.com';
const workflow = (repo: string) => `https://github.com/${repo}/.github/workflows/release.yml@refs/tags/v1.0.0`;
const RELEASE: KeylessIdentity = { uri: workflow('acme/app'), issuer: GH, issuerV2: GH, github: { githubWorkflowRepository: 'acme/app', githubWorkflowTrigger: 'push' }, claims: { sourceRepositoryURI: 'https://github.com/acme/app', runnerEnvironment: 'github-hosted' } };

function assertLogged(t: Test, gate: PullgateProcess, ref: string, decision: 'allow' | 'deny', reason: string): void {
  const lines = gate.logLines().filter((l) => l.ref === ref && l.decision === decision);
  t.ok(lines.length > 0, `${ref}: a ${decision} line is logged`);
  t.same([...new Set(lines.map((l) => `${String(l.reason)} by ${String(l.verifier)}`))], [`${reason} by cosign`], `${ref}: logged as ${reason} by cosign`);
}

t.test('cosign keyless at the gate: ctr and CRI, one gate with Notation for another repository', { timeout: 300_000 }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const dir = mkdtempSync(join(tmpdir(), 'pullgate-cosign-keyless-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const R = registry.url;
  const H = registry.host;
  const sigstore = await MiniSigstore.create('mini-fulcio');
  const otherInstance = await MiniSigstore.create('other-fulcio');
  const rootFile = join(dir, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot()));

  /** Pushes an image under keyless/<name> and signs it as `identity` (payload from `edit`, by `instance`). */
  const image = async (name: string, identity?: KeylessIdentity, o: KeylessSignOptions & { instance?: MiniSigstore; payloadFor?: string; tamper?: boolean } = {}) => {
    const img = await pushTestImage(R, `keyless/${name}`, 'v1', `keyless ${name}`);
    if (identity !== undefined) {
      const payload = simpleSigningPayload(`${H}/keyless/${name}`, o.payloadFor ?? img.manifest.digest);
      const s = await (o.instance ?? sigstore).sign(payload, identity, o);
      const stored = o.tamper ? Buffer.from(payload.toString().replace('"optional":null', '"optional":{"x":"y"}')) : payload;
      await pushCosignSignatures(R, `keyless/${name}`, img.manifest.digest, [{ payload: stored, signature: s.signature, annotations: s.annotations }]);
    }
    return img;
  };
  const signed = await image('app', RELEASE);
  const oldLogged = await image('old-logged', RELEASE, { notBefore: new Date(Date.now() - 86_400_000) });
  const unsigned = await image('unsigned');
  const wrongIdentity = await image('wrong-identity', { ...RELEASE, uri: workflow('evil/app') });
  const wrongIssuer = await image('wrong-issuer', { ...RELEASE, issuer: 'https://accounts.google.com', issuerV2: 'https://accounts.google.com' });
  const wrongClaim = await image('wrong-claim', { ...RELEASE, github: { githubWorkflowRepository: 'acme/fork', githubWorkflowTrigger: 'push' } });
  const wrongSource = await image('wrong-source', { ...RELEASE, claims: { ...RELEASE.claims, sourceRepositoryURI: 'https://github.com/evil/app' } });
  const tampered = await image('tampered', RELEASE, { tamper: true });
  const otherDigest = await image('other-digest', RELEASE, { payloadFor: signed.manifest.digest });
  const expiredUnlogged = await image('expired-unlogged', RELEASE, { notBefore: new Date(Date.now() - 86_400_000), logged: false });
  const foreign = await image('foreign', RELEASE, { instance: otherInstance });
  // The Sigstore bundle layout: a v0.3 bundle (DSSE statement, leaf certificate, Rekor dsse entry with SET and
  // inclusion proof) attached as a referrer, listed in the referrers tag schema's index (distribution 2.8 has no
  // referrers API); and the same bundle attached to another image, whose digest its statement does not name.
  const bundled = await pushTestImage(R, 'keyless/bundle', 'v1', 'keyless bundle');
  const bundle = await sigstore.signBundle(bundled.manifest.digest, RELEASE);
  await pushBundleReferrer(R, 'keyless/bundle', { digest: bundled.manifest.digest, size: bundled.manifest.size }, bundle);
  const bundleOther = await pushTestImage(R, 'keyless/bundle-other', 'v1', 'keyless bundle for another digest');
  await pushBundleReferrer(R, 'keyless/bundle-other', { digest: bundleOther.manifest.digest, size: bundleOther.manifest.size }, bundle);
  const notationImage = await pushTestImage(R, 'notation/app', 'v1', 'signed with notation');
  await signInRegistry(R, 'notation/app', { mediaType: MEDIA.manifest, digest: notationImage.manifest.digest, size: notationImage.manifest.size }, e2eSigner());

  const gate = await startPullgate({
    registries: [{ host: H, endpoint: R }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: {
      policy: {
        rules: [
          {
            scope: `${H}/keyless/*`,
            require: [{
              verifier: 'cosign', name: 'release', trustedRoot: rootFile,
              identities: [{ name: 'acme-release', issuer: GH, subjectRegExp: 'https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/tags/v.+', githubWorkflowRepository: 'acme/app', sourceRepositoryURI: 'https://github.com/acme/app', runnerEnvironmentRegExp: 'github-hosted|self-hosted' }],
            }],
          },
          { scope: `${H}/notation/app`, require: [{ verifier: 'notation' }] },
          { scope: '*', deny: true },
        ],
      },
    },
  });
  t.teardown(() => gate.stop());
  const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
  t.equal(hosts.code, 0, `pullgate hosts: ${hosts.stderr}`);

  await t.test('the release workflow identity passes; an expired certificate passes on its log entry', async (t) => {
    await assertPullsAs(t, containerd, signed.ref, signed.manifest.digest);
    assertLogged(t, gate, signed.ref, 'allow', 'verified');
    await assertPullsAs(t, containerd, oldLogged.ref, oldLogged.manifest.digest);
    assertLogged(t, gate, oldLogged.ref, 'allow', 'verified');
    await assertPullsAs(t, containerd, bundled.ref, bundled.manifest.digest);
    assertLogged(t, gate, bundled.ref, 'allow', 'verified');
    const out = await gate.cli(['verify', '--json', signed.ref]);
    t.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout) as { decision: { requirements: unknown[] } };
    t.match(report.decision.requirements, [{ name: 'release', cosign: { mode: 'keyless', trustedRoot: rootFile, verifiedBy: [{ name: 'acme-release', signer: `${workflow('acme/app')} (issuer ${GH})`, integratedTime: /^20\d\d-/ }] } }], 'verify --json names the identity and the log time');
  });

  await t.test('denied, with the reason in ctr\'s and the CRI error', async (t) => {
    const cases: [{ ref: string }, RegExp, string][] = [
      [unsigned, /cosign: no signature found/, 'no_signature'],
      [wrongIdentity, /certificate identity error .* got https:\/\/github\.com\/evil\/app/, 'identity_mismatch'],
      [wrongIssuer, /expected issuer=https:\/\/token\.actions\.githubusercontent\.com, got issuer=https:\/\/accounts\.google\.com/, 'identity_mismatch'],
      [wrongClaim, /githubWorkflowRepository is "acme\/fork", not "acme\/app"/, 'identity_mismatch'],
      // A provider-generic claim (Fulcio .1.12, DER UTF8String): the workflow of another source repository.
      [wrongSource, /sourceRepositoryURI is "https:\/\/github\.com\/evil\/app", not "https:\/\/github\.com\/acme\/app"/, 'identity_mismatch'],
      // The library checks the log entry (which hashes the original payload) before the signature itself.
      [tampered, /TLOG_BODY_ERROR: digest mismatch/, 'set_invalid'],
      [otherDigest, new RegExp(`signature is for ${signed.manifest.digest}`), 'payload_digest_mismatch'],
      [bundleOther, new RegExp(`DSSE statement's subject is not ${bundleOther.manifest.digest}`), 'payload_digest_mismatch'],
      [expiredUnlogged, /keyless signature without a Rekor entry or timestamp/, 'rekor_required'],
      [foreign, /CERTIFICATE_ERROR: Failed to verify certificate chain/, 'signature_invalid'],
    ];
    for (const [img, words, reason] of cases) {
      await assertDenied(t, containerd, img.ref, words);
      assertLogged(t, gate, img.ref, 'deny', reason);
    }
  });

  await t.test('Notation for one repository and cosign keyless for another, in one gate', async (t) => {
    await assertPullsAs(t, containerd, notationImage.ref, notationImage.manifest.digest);
    t.ok(gate.logLines().some((l) => l.ref === notationImage.ref && l.decision === 'allow' && l.verifier === 'notation'), 'decided by notation');
  });

  await t.test('no request went around the gate', async (t) => {
    await assertNoBypass(t, registry);
  });
});
