/**
 * Issue 14 acceptance, key-based: images signed in the test with cosign's tag layout (a P-256 key made here,
 * signatures written as cosign writes them: test/e2e/cosign-sign.ts) pulled through the real `pullgate serve` by
 * ctr and by the CRI PullImage call, against the real distribution registry and containerd. Signed passes (also a
 * 2-of-2 threshold, and a DSSE bundle referrer listed in the referrers tag schema); unsigned, wrong key, tampered payload and a payload for another digest are denied with the
 * reason reaching ctr and the CRI error kubelet shows; the same gate verifies Notation for another scope and denies
 * the rest; nothing reaches the registry around the gate. Keyless is covered at engine level with the real
 * Fulcio/Rekor vectors (test/policy/engine/cosign-engine.test.ts): no in-process Fulcio/CT/Rekor is installed here.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { startContainerd } from '../harness/containerd.ts';
import { MEDIA, pushTestImage } from '../harness/images.ts';
import { startRegistry } from '../harness/registry.ts';
import { assertDenied, assertNoBypass, assertPullsAs } from './notaryv1-fixture.ts';
import { cosignKey, pushCosignSignatures, pushKeyBundle, signCosign, signPayload, simpleSigningPayload } from './cosign-sign.ts';
import { startPullgate, VECTORS, type PullgateProcess } from './pullgate-process.ts';
import { e2eSigner, signInRegistry } from './sign-and-push.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');

/** Every decision logged for `ref` carries this reason and verifier label. */
function assertLogged(t: Test, gate: PullgateProcess, ref: string, decision: 'allow' | 'deny', reason: string, verifier: string): void {
  const lines = gate.logLines().filter((l) => l.ref === ref && l.decision === decision);
  t.ok(lines.length > 0, `${ref}: a ${decision} line is logged`);
  t.same([...new Set(lines.map((l) => `${String(l.reason)} by ${String(l.verifier)}`))], [`${reason} by ${verifier}`], `${ref}: logged as ${reason} by ${verifier}`);
}

t.test('cosign (key) at the gate: ctr and CRI, one gate with Notation for another scope', { timeout: 300_000 }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const R = registry.url;
  const H = registry.host;
  const key = cosignKey();
  const second = cosignKey();
  const stranger = cosignKey();

  const signed = await pushTestImage(R, 'cosign/app', 'v1', 'cosign signed');
  await signCosign(R, H, 'cosign/app', signed.manifest.digest, key);
  const unsigned = await pushTestImage(R, 'cosign/unsigned', 'v1', 'no cosign signature');
  const wrongKey = await pushTestImage(R, 'cosign/wrong-key', 'v1', 'signed by a key nobody trusts');
  await signCosign(R, H, 'cosign/wrong-key', wrongKey.manifest.digest, stranger);
  // The signature is genuine, but the payload blob the registry serves was changed after signing.
  const tampered = await pushTestImage(R, 'cosign/tampered', 'v1', 'tampered payload');
  const genuine = signPayload(key, simpleSigningPayload(`${H}/cosign/tampered`, tampered.manifest.digest));
  await pushCosignSignatures(R, 'cosign/tampered', tampered.manifest.digest, [{ payload: Buffer.from(genuine.payload.toString().replace('"optional":null', '"optional":{"x":"y"}')), signature: genuine.signature }]);
  // A valid signature by the trusted key, over a payload naming another image, copied to this image's .sig tag.
  const other = await pushTestImage(R, 'cosign/other-digest', 'v1', 'carries another image\'s signature');
  await pushCosignSignatures(R, 'cosign/other-digest', other.manifest.digest, [signPayload(key, simpleSigningPayload(`${H}/cosign/app`, signed.manifest.digest))]);
  // The bundle layout (cosign --new-bundle-format): a DSSE bundle referrer, found through the referrers tag schema.
  const bundled = await pushTestImage(R, 'cosign/bundle', 'v1', 'signed with a Sigstore bundle');
  await pushKeyBundle(R, 'cosign/bundle', { digest: bundled.manifest.digest, size: bundled.manifest.size }, key);
  const bundledOther = await pushTestImage(R, 'cosign/bundle-other', 'v1', 'a bundle about another image');
  await pushKeyBundle(R, 'cosign/bundle-other', { digest: bundledOther.manifest.digest, size: bundledOther.manifest.size }, key, signed.manifest.digest);
  // 2-of-2: both keys signed multi/app; only one signed multi/half.
  const multi = await pushTestImage(R, 'multi/app', 'v1', 'signed by two keys');
  await pushCosignSignatures(R, 'multi/app', multi.manifest.digest, [key, second].map((k) => signPayload(k, simpleSigningPayload(`${H}/multi/app`, multi.manifest.digest))));
  const half = await pushTestImage(R, 'multi/half', 'v1', 'signed by one of two keys');
  await signCosign(R, H, 'multi/half', half.manifest.digest, key);
  // Notation, for another scope in the same gate.
  const notationImage = await pushTestImage(R, 'notation/app', 'v1', 'signed with notation');
  await signInRegistry(R, 'notation/app', { mediaType: MEDIA.manifest, digest: notationImage.manifest.digest, size: notationImage.manifest.size }, e2eSigner());
  const elsewhere = await pushTestImage(R, 'other/app', 'v1', 'no rule but *');

  const gate = await startPullgate({
    registries: [{ host: H, endpoint: R }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: {
      policy: {
        rules: [
          { scope: `${H}/cosign/*`, require: [{ verifier: 'cosign', name: 'release', publicKeys: [key.publicPem] }] },
          { scope: `${H}/multi/*`, require: [{ verifier: 'cosign', publicKeys: [key.publicPem, second.publicPem], threshold: 2 }] },
          { scope: `${H}/notation/*`, require: [{ verifier: 'notation' }] },
          { scope: '*', deny: 'only cosign and notation images run here' },
        ],
      },
    },
  });
  t.teardown(() => gate.stop());
  const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
  t.equal(hosts.code, 0, `pullgate hosts: ${hosts.stderr}`);

  await t.test('signed by the trusted key: pulls (ctr and CRI), decided by cosign', async (t) => {
    await assertPullsAs(t, containerd, signed.ref, signed.manifest.digest);
    assertLogged(t, gate, signed.ref, 'allow', 'verified', 'cosign');
    await assertPullsAs(t, containerd, multi.ref, multi.manifest.digest);
    assertLogged(t, gate, multi.ref, 'allow', 'verified', 'cosign');
    await assertPullsAs(t, containerd, bundled.ref, bundled.manifest.digest);
    assertLogged(t, gate, bundled.ref, 'allow', 'verified', 'cosign');
  });

  await t.test('denied, with the reason in ctr\'s and the CRI error', async (t) => {
    await assertDenied(t, containerd, unsigned.ref, /cosign: no signature found/);
    assertLogged(t, gate, unsigned.ref, 'deny', 'no_signature', 'cosign');
    await assertDenied(t, containerd, wrongKey.ref, /no signature verified with a trusted key/);
    assertLogged(t, gate, wrongKey.ref, 'deny', 'key_not_trusted', 'cosign');
    await assertDenied(t, containerd, tampered.ref, /no signature verified with a trusted key/);
    assertLogged(t, gate, tampered.ref, 'deny', 'key_not_trusted', 'cosign');
    await assertDenied(t, containerd, other.ref, new RegExp(`signature is for ${signed.manifest.digest}, not ${other.manifest.digest}`));
    assertLogged(t, gate, other.ref, 'deny', 'payload_digest_mismatch', 'cosign');
    await assertDenied(t, containerd, bundledOther.ref, new RegExp(`DSSE statement's subject is not ${bundledOther.manifest.digest}`));
    assertLogged(t, gate, bundledOther.ref, 'deny', 'payload_digest_mismatch', 'cosign');
    await assertDenied(t, containerd, half.ref, /1 of 2 required keys verified/);
    assertLogged(t, gate, half.ref, 'deny', 'threshold_not_met', 'cosign');
  });

  await t.test('one gate, two systems: Notation decides its scope, `*` denies the rest', async (t) => {
    await assertPullsAs(t, containerd, notationImage.ref, notationImage.manifest.digest);
    assertLogged(t, gate, notationImage.ref, 'allow', 'verified', 'notation');
    await assertDenied(t, containerd, elsewhere.ref, /only cosign and notation images run here/);
  });

  await t.test('pullgate verify --json names the key that verified', async (t) => {
    const out = await gate.cli(['verify', '--json', signed.ref]);
    t.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout) as { decision: { verifier: string; requirements: { name: string; cosign: { mode: string; verifiedBy: { name: string; fingerprint: string }[] } }[] } };
    t.equal(report.decision.verifier, 'cosign');
    t.match(report.decision.requirements, [{ name: 'release', cosign: { mode: 'keys', verifiedBy: [{ name: 'publicKeys[0]', fingerprint: /^sha256:[0-9a-f]{64}$/ }] } }]);
    const denied = await gate.cli(['verify', wrongKey.ref]);
    t.equal(denied.code, 1);
    t.match(denied.stderr, /cosign requirement "release" \(policy\.rules\[0\]\.require\[0\]\): failed \(key_not_trusted\)/);
  });

  await t.test('no request went around the gate', async (t) => {
    await assertNoBypass(t, registry);
  });
});
