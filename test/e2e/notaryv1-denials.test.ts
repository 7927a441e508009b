/**
 * Issue 13 acceptance ("Done when"), denied side: unsigned tags, removed targets, an unknown GUN, an untrusted root
 * (the pin is another GUN's real root key), a wrong delegation key (a signer key that is not the role's) and tampered
 * metadata (a relay in front of the real notary-server flips one byte of targets.json) are each refused by
 * `pullgate serve`, with the reason in ctr's error and in the CRI error kubelet shows; nothing of them lands in
 * containerd, and nothing reached the registry around the gate. Controls in the same gate show each denial is
 * about the one thing changed: the same GUNs' signed tags pull, and the relay passes an untampered GUN through.
 */
import t from 'tap';
import { notaryRepo } from '../harness/notary-images.ts';
import { flipSignatureByte, startTamperRelay } from '../harness/notary-tamper-relay.ts';
import { assertDenied, assertDeniedByDigest, assertNoBypass, assertPullsAs, notaryRequirement, startNotaryGate, startNotaryGatePeers, trustServers } from './notaryv1-fixture.ts';

t.test('Notary v1 at the gate: what is not signed, or not trusted, is denied with its reason', { timeout: 300_000 }, async (t) => {
  const peers = await startNotaryGatePeers(t);
  const { registry, notary, containerd } = peers;
  const H = registry.host;

  // dct/app: v1 signed; `unsigned` pushed and never signed; `old` signed, then removed from the trust data.
  const app = await notaryRepo(notary, registry, 'dct/app');
  const v1 = await app.pushAndSign('v1');
  const old = await app.pushAndSign('old');
  await app.push('unsigned');
  await app.remove('old');
  const appRoot = await app.rootKeyPem();
  // dct/unknown: in the registry, never `notary init`: the trust server has no such GUN.
  await notaryRepo(notary, registry, 'dct/unknown', { init: false }).then((r) => r.push('v1'));
  // dct/foreign-root: properly signed, but the policy pins dct/app's root key.
  const foreign = await notaryRepo(notary, registry, 'dct/foreign-root');
  await foreign.pushAndSign('v1');
  // dct/wrong-key: v1 signed in targets/qa (bare key); the policy's signer key for targets/qa is another key.
  const wrong = await notaryRepo(notary, registry, 'dct/wrong-key');
  const qaKey = await wrong.delegate('targets/qa', { name: 'qa', form: 'bare' });
  await wrong.pushAndSign('v1', 'targets/qa');
  const intruder = await wrong.client.makeDelegationKey('intruder', { form: 'bare' });
  // dct/tampered and dct/relayed: both read through the relay; only dct/tampered's targets.json is rewritten.
  const tampered = await notaryRepo(notary, registry, 'dct/tampered');
  await tampered.pushAndSign('v1');
  const relayed = await notaryRepo(notary, registry, 'dct/relayed');
  const relayedV1 = await relayed.pushAndSign('v1');
  const relay = await startTamperRelay(notary, (path, body) => (path === `/v2/${tampered.gun}/_trust/tuf/targets.json` ? flipSignatureByte(body) : undefined));
  t.teardown(() => relay.close());

  await t.test('setup: what the trust server says', async (t) => {
    t.same((await app.list()).map((l) => l.name), ['v1'], 'dct/app signs v1 only (old was removed)');
    t.equal((await notary.trustFile(`${H}/dct/unknown`, 'root')).status, 404, 'dct/unknown has no trust data');
    t.not(await foreign.rootKeyPem(), appRoot, 'dct/foreign-root has a root key of its own');
    t.same((await wrong.list('targets/qa')).map((l) => `${l.name} ${l.role}`), ['v1 targets/qa'], 'dct/wrong-key signs v1 in targets/qa');
    t.not(intruder.publicKeyPem, qaKey.publicKeyPem, 'the pinned signer key is not the role\'s key');
  });

  const policy = {
    trustServers: trustServers(notary, { relay: relay.url }),
    rules: [
      // dct/app, dct/unknown and dct/foreign-root: one prefix rule pinned to dct/app's root key, default roles.
      { scope: `${H}/dct/*`, require: [notaryRequirement({ rootKeys: [appRoot] })] },
      { scope: `${H}/dct/wrong-key`, require: [notaryRequirement({ rootKeys: [await wrong.rootKeyPem()], signers: [{ role: 'targets/qa', publicKey: intruder.publicKeyPem }] })] },
      { scope: `${H}/dct/tampered`, require: [notaryRequirement({ trustServer: 'relay', rootKeys: [await tampered.rootKeyPem()] })] },
      { scope: `${H}/dct/relayed`, require: [notaryRequirement({ trustServer: 'relay', rootKeys: [await relayed.rootKeyPem()] })] },
    ],
  };
  const gate = await startNotaryGate(t, peers, policy);
  const denied = (reason: string) => ({ gate, reason, verifier: 'notaryv1' });
  const allowed = { gate, reason: 'verified', verifier: 'notaryv1' };

  await t.test('controls: the signed tag of the same GUN pulls, and the relay is honest about other GUNs', async (t) => {
    await assertPullsAs(t, containerd, `${H}/dct/app:v1`, v1.digest, allowed);
    await assertPullsAs(t, containerd, `${H}/dct/relayed:v1`, relayedV1.digest, allowed);
    t.ok(relay.requests.some((p) => p.startsWith(`/v2/${relayed.gun}/_trust/tuf/`)), 'dct/relayed\'s trust data came through the relay');
  });

  await t.test('unsigned tag', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/app:unsigned`, /notary v1: tag "unsigned" is not signed in targets/, denied('tag_not_signed'));
  });

  await t.test('removed target: by tag and by its digest', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/app:old`, /notary v1: tag "old" is not signed in targets/, denied('tag_not_signed'));
    await assertDeniedByDigest(t, containerd, `${H}/dct/app@${old.digest}`, denied('digest_not_signed'));
  });

  await t.test('unknown GUN', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/unknown:v1`, /notary v1: no trust data for 127\.0\.0\.1:\d+\/dct\/unknown/, denied('no_trust_data'));
  });

  await t.test('untrusted root: the pin is not this GUN\'s root key', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/foreign-root:v1`, /notary v1: root is not signed by the pinned trust-root key/, denied('root_untrusted'));
  });

  await t.test('wrong delegation key: the pinned signer is not a key of targets/qa', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/wrong-key:v1`, /notary v1: the configured signer key is not a key of targets\/qa/, denied('signer_untrusted'));
  });

  await t.test('tampered metadata: one byte of targets.json flipped on the way', async (t) => {
    await assertDenied(t, containerd, `${H}/dct/tampered:v1`, /notary v1: targets does not match its sha256/, denied('hash_mismatch'));
    t.ok(relay.tampered.includes(`/v2/${tampered.gun}/_trust/tuf/targets.json`), 'the relay did rewrite targets.json');
  });

  await t.test('no request went around the gate', async (t) => {
    await assertNoBypass(t, registry);
  });
});
