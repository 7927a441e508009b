/**
 * Issue 13 acceptance ("Done when"), allowed side: images signed with the real `notary` client against the real
 * notary-server (targets role; a `targets/releases` delegation with an x509 key; a delegation with a bare key pinned
 * as a signer; a rotated root, pinned by its first key, reached through the `<version>.root.json` chain), pulled through `pullgate serve` by ctr and by the CRI
 * PullImage call. Every signed tag pulls **as the digest its trust data signed**, after the registry's tag was moved
 * to another, unsigned manifest (NOTARYV1.md "The question": the registry's own tag is irrelevant). The same gate
 * runs a Notation rule for another registry and a `*` deny rule; nothing reaches the registry around the gate; and a
 * config without `policy:` still lets the Notation trust policy alone decide.
 */
import t from 'tap';
import { getManifest, MANIFEST_ACCEPT, MEDIA, pushTestImage } from '../harness/images.ts';
import { startRegistry } from '../harness/registry.ts';
import { notaryRepo } from '../harness/notary-images.ts';
import { e2eSigner, signInRegistry } from './sign-and-push.ts';
import { assertDenied, assertDeniedByDigest, assertNoBypass, assertPullsAs, notaryRequirement, startNotaryGate, startNotaryGatePeers, trustServers } from './notaryv1-fixture.ts';

t.test('Notary v1 at the gate: signed tags pull as the signed digest (ctr and CRI)', { timeout: 300_000 }, async (t) => {
  const peers = await startNotaryGatePeers(t);
  const { registry, notary, containerd } = peers;
  const H = registry.host;

  // dct/app: v1 in targets, v2 in targets/releases (x509 key), then the root is rotated.
  const app = await notaryRepo(notary, registry, 'dct/app');
  const v1 = await app.pushAndSign('v1');
  await app.delegate('targets/releases', { name: 'releases', form: 'x509' });
  const v2 = await app.pushAndSign('v2', 'targets/releases');
  const appRootV1 = await app.rootKeyPem(1);
  await app.rotateRoot();
  // Root v3 (the snapshot key handed to the server, as `docker push` does) is signed by the new root key alone, so
  // the pinned first key reaches it only through 1.root.json → 2.root.json (NOTARYV1.md "Root rotation").
  await app.client.rotateSnapshotToServer();
  // dct/qa: v1 in targets/qa, a bare ecdsa key; the rule pins that key as the role's signer.
  const qa = await notaryRepo(notary, registry, 'dct/qa');
  const qaKey = await qa.delegate('targets/qa', { name: 'qa', form: 'bare' });
  const qa1 = await qa.pushAndSign('v1', 'targets/qa');
  const qaRoot = await qa.rootKeyPem();
  // The registry's tags move to unsigned manifests; the trust data still signs the originals.
  const movedApp = await app.push('moved', 'moved, never signed');
  await app.moveTag('v1', movedApp);
  await app.moveTag('v2', movedApp);
  const movedQa = await qa.push('moved', 'moved, never signed');
  await qa.moveTag('v1', movedQa);
  // Notation, for another registry in the same gate.
  const notationRegistry = await startRegistry();
  t.teardown(() => notationRegistry.stop());
  const notationImage = await pushTestImage(notationRegistry.url, 'team/app', 'v1', 'signed with notation');
  await signInRegistry(notationRegistry.url, 'team/app', { mediaType: MEDIA.manifest, digest: notationImage.manifest.digest, size: notationImage.manifest.size }, e2eSigner());
  const notationUnsigned = await pushTestImage(notationRegistry.url, 'team/unsigned', 'v1', 'no notation signature');
  const elsewhere = await pushTestImage(registry.url, 'other/app', 'v1', 'no rule but *');

  await t.test('setup: the trust data signs the originals, the registry tags point elsewhere', async (t) => {
    t.same((await app.list()).map((l) => `${l.name} ${l.role} sha256:${l.sha256Hex} ${l.size}`).sort(),
      [`v1 targets ${v1.digest} ${v1.length}`, `v2 targets/releases ${v2.digest} ${v2.length}`], 'notary list dct/app');
    t.same((await qa.list()).map((l) => `${l.name} ${l.role} sha256:${l.sha256Hex}`), [`v1 targets/qa ${qa1.digest}`], 'notary list dct/qa');
    t.not(await app.rootKeyPem(), appRootV1, 'dct/app root was rotated: the current root key is not the pinned one');
    const root = JSON.parse((await notary.trustFile(app.gun, 'root')).body.toString()) as { signed: { version: number }; signatures: unknown[] };
    t.equal(root.signed.version, 3, 'dct/app is at root v3');
    t.equal(root.signatures.length, 1, 'root v3 carries one signature (the new root key\'s), none by the pinned key');
    for (const [repo, tag] of [['dct/app', 'v1'], ['dct/app', 'v2'], ['dct/qa', 'v1']] as const) {
      const now = await getManifest(registry.url, repo, tag);
      t.equal(now.digest, repo === 'dct/app' ? movedApp.manifest.digest : movedQa.manifest.digest, `registry: ${repo}:${tag} now names the unsigned manifest`);
    }
  });

  const policy = {
    trustServers: trustServers(notary),
    rules: [
      // dct/app: default roles (targets/releases if it signs the tag, else targets), pinned by the pre-rotation root key.
      { scope: `${H}/dct/app`, require: [notaryRequirement({ rootKeys: [appRootV1] })] },
      { scope: `${H}/dct/qa`, require: [notaryRequirement({ rootKeys: [qaRoot], signers: [{ role: 'targets/qa', publicKey: qaKey.publicKeyPem }] })] },
      { scope: `${notationRegistry.host}/*`, require: [{ verifier: 'notation' }] },
      { scope: '*', deny: 'only dct and notation images run here' },
    ],
  };
  const gate = await startNotaryGate(t, peers, policy, [notationRegistry]);
  const notaryAllow = { gate, reason: 'verified', verifier: 'notaryv1' };

  await t.test('signed tags pull as the signed digest, whatever the registry tag says', async (t) => {
    // What containerd asks first: the gate answers the tag's HEAD with the signed digest, not the registry's.
    for (const [repo, tag, signed] of [['dct/app', 'v1', v1], ['dct/app', 'v2', v2], ['dct/qa', 'v1', qa1]] as const) {
      const head = await fetch(`${gate.url}/v2/${repo}/manifests/${tag}?ns=${H}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
      t.equal(head.status, 200, `HEAD ${repo}:${tag} through the gate`);
      t.equal(head.headers.get('docker-content-digest'), signed.digest, `HEAD ${repo}:${tag}: the signed digest`);
      t.equal(head.headers.get('content-length'), String(signed.length), `HEAD ${repo}:${tag}: the signed length`);
    }
    await assertPullsAs(t, containerd, `${H}/dct/app:v1`, v1.digest, notaryAllow); // targets role
    await assertPullsAs(t, containerd, `${H}/dct/app:v2`, v2.digest, notaryAllow); // targets/releases, x509 key
    await assertPullsAs(t, containerd, `${H}/dct/qa:v1`, qa1.digest, notaryAllow); // targets/qa, bare key, pinned signer
    const fromGate = (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate' && e.method === 'GET').map((e) => e.path.split('?')[0]);
    t.notOk(fromGate.includes(`/v2/dct/app/manifests/${movedApp.manifest.digest}`), 'the gate never fetched the manifest the registry tag names now');
    t.notOk(fromGate.some((p) => p === `/v2/dct/app/blobs/${movedApp.layer.digest}`), 'nor its layer');
  });

  await t.test('by digest: a digest a trusted role signs pulls; the moved tag\'s digest does not', async (t) => {
    await assertPullsAs(t, containerd, `${H}/dct/app@${v1.digest}`, v1.digest, notaryAllow);
    await assertDeniedByDigest(t, containerd, `${H}/dct/app@${movedApp.manifest.digest}`, { gate, reason: 'digest_not_signed', verifier: 'notaryv1' });
  });

  await t.test('one gate, two systems: Notation decides the other registry, `*` denies the rest', async (t) => {
    await assertPullsAs(t, containerd, notationImage.ref, notationImage.manifest.digest, { gate, reason: 'verified', verifier: 'notation' });
    await assertDenied(t, containerd, notationUnsigned.ref, /notation requirement .*: no signature found/, { gate, reason: 'no_signature', verifier: 'notation' });
    await assertDenied(t, containerd, elsewhere.ref, /denied by policy\.rules\[3\] \(scope \*\): only dct and notation images run here/, { gate, reason: 'policy_deny', verifier: 'policy' });
  });

  await t.test('no request went around the gate', async (t) => {
    await assertNoBypass(t, registry);
    await assertNoBypass(t, notationRegistry);
  });

  await t.test('without a policy section the Notation trust policy alone decides, as before', async (t) => {
    await gate.stop();
    const plain = await startNotaryGate(t, peers, undefined, [notationRegistry]);
    await assertPullsAs(t, containerd, notationImage.ref, notationImage.manifest.digest, { gate: plain, reason: 'verified', verifier: 'notation' });
    // Signed with Docker Content Trust only: without the image policy nothing consults the trust server.
    await assertDenied(t, containerd, `${H}/dct/app:v1`, /dct\/app:v1: no signature found/, { gate: plain, reason: 'no_signature', verifier: 'notation' });
    t.notOk(plain.logLines().some((l) => JSON.stringify(l).includes('notaryv1')), 'no Notary v1 requirement ran');
  });
});
