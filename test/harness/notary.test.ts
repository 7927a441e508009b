// The real Notary v1 peers (notary-signer, notary-server, the notary client; REAL-PEERS §7): they start and stop
// cleanly, and what the client signs over images pushed to the real registry is what the server serves.
import t from 'tap';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { startNotary, type NotaryPeers } from './notary.ts';
import { ESCAPED_TARGET_NAME, runNotaryScenario, type ScenarioState } from './notary-scenario.ts';
import { pidAlive } from './processes.ts';
import { startRegistry } from './registry.ts';
import { waitFor } from './wait.ts';

interface TufKey { keytype: string; keyval: { public: string } }
interface TufRole { keyids: string[]; threshold: number; name?: string; paths?: string[] }
interface TufFile {
  signed: {
    _type: string; version: number; expires: string;
    keys?: Record<string, TufKey>; roles?: Record<string, TufRole>;
    targets?: Record<string, { hashes: { sha256?: string }; length: number }>;
    delegations?: { keys: Record<string, TufKey>; roles: TufRole[] };
  };
  signatures: { keyid: string; method: string; sig: string }[];
}

async function served(notary: NotaryPeers, gun: string, name: string): Promise<TufFile> {
  const got = await notary.trustFile(gun, name);
  if (got.status !== 200) throw new Error(`${name}.json: status ${got.status}: ${got.body.toString()}`);
  return JSON.parse(got.body.toString('utf8')) as TufFile;
}

/** A TUF key's public key as SPKI PEM: bare keys carry base64 DER SPKI, x509 keys a base64 PEM certificate. */
function spkiPem(key: TufKey): string {
  const raw = Buffer.from(key.keyval.public, 'base64');
  const pub = key.keytype.endsWith('-x509') ? new X509Certificate(raw).publicKey : createPublicKey({ key: raw, format: 'der', type: 'spki' });
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

t.test('notary-signer and notary-server start, serve, and leave nothing behind on stop', { timeout: 60_000 }, async (t) => {
  const notary = await startNotary();
  t.teardown(() => notary.stop());
  t.ok(pidAlive(notary.signerPid) && pidAlive(notary.serverPid), 'both processes run');
  t.match(notary.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const missing = await notary.trustFile('127.0.0.1:5000/nobody/here', 'root');
  t.equal(missing.status, 404, 'an unknown GUN has no trust data');
  t.match(missing.body.toString(), /METADATA_NOT_FOUND/);
  // The signer holds the timestamp keys: it must refuse a TLS client without a certificate from the CA.
  const refused = await new Promise<string>((resolve) => {
    const sock = tlsConnect({ host: '127.0.0.1', port: notary.signerGrpcPort, ca: notary.caPem, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => { sock.destroy(); resolve('still connected after 10 s'); }, 10_000);
    sock.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code ?? e.message); });
    sock.on('close', () => { clearTimeout(timer); resolve('closed without an error'); });
    sock.resume();
  });
  t.match(refused, /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE/, `notary-signer requires a client certificate (${refused})`);
  await notary.stop();
  t.ok(await waitFor(() => !pidAlive(notary.signerPid) && !pidAlive(notary.serverPid)), 'both processes are gone after stop');
  t.notOk(existsSync(notary.caFile), 'the PKI and client directories are removed');
  t.notOk(existsSync(notary.serverLogFile) || existsSync(notary.signerLogFile), 'the state directories are removed');
});

t.test('the real client signs pushed images and the server serves exactly that', { timeout: 180_000 }, async (t) => {
  const registry = await startRegistry({ quiet: true });
  t.teardown(() => registry.stop());
  const notary = await startNotary();
  t.teardown(() => notary.stop());
  const timings: string[] = [];
  let last = Date.now();

  /** Each signed tag is in its role with the manifest's base64 sha256 and byte length, and nowhere else. */
  const checkTargets = async (s: ScenarioState): Promise<void> => {
    for (const [tag, want] of s.signed) {
      const manifest = s.images.get(want.pushedAs)!.manifest;
      t.equal(`sha256:${createHash('sha256').update(manifest.bytes).digest('hex')}`, want.digest, `${tag}: registry digest is the manifest's sha256`);
      const target = (await served(notary, s.gun, want.role)).signed.targets?.[tag];
      t.equal(target?.hashes.sha256, createHash('sha256').update(manifest.bytes).digest('base64'), `${tag} in ${want.role}: base64 sha256 of the pushed manifest`);
      t.equal(target?.length, manifest.bytes.length, `${tag} in ${want.role}: its byte length`);
    }
    const listed = await s.client.list();
    t.same(listed.map((l) => `${l.name} ${l.role} ${l.sha256Hex} ${l.size}`).sort(),
      [...s.signed.values()].map((v) => `${v.tag} ${v.role} ${v.digest.slice(7)} ${v.length}`).sort(), 'notary list agrees');
  };
  /** The delegation is declared in targets.json with the key we gave, in the form we gave it. */
  const checkDelegation = async (s: ScenarioState, role: string, keytype: string): Promise<TufFile> => {
    const targets = (await served(notary, s.gun, 'targets')).signed;
    const declared = targets.delegations?.roles.find((r) => r.name === role);
    t.ok(declared, `${role} is declared in targets.json`);
    t.same(declared?.paths, [''], `${role}: all paths`);
    const key = targets.delegations?.keys[declared?.keyids[0] ?? ''];
    t.equal(key?.keytype, keytype, `${role}: key type ${keytype}`);
    t.equal(key && spkiPem(key), s.delegations.find((d) => d.role === role)?.key.publicKeyPem, `${role}: the public key we made`);
    return served(notary, s.gun, role);
  };

  let snapshotKeyBefore = '';
  const state = await runNotaryScenario(notary, registry, {
    onStage: async (stage, s) => {
      timings.push(`${stage} ${Date.now() - last} ms`);
      switch (stage) {
        case 'signed-targets': {
          t.equal((await served(notary, s.gun, 'root')).signed.version, 1);
          const raw = (await notary.trustFile(s.gun, 'targets')).body.toString();
          t.ok(raw.includes('"v1\\u003crc\\u003e\\u0026co"') && !raw.includes(ESCAPED_TARGET_NAME), 'the server escapes <, > and & in target names');
          break;
        }
        case 'delegation-x509':
          t.equal((await checkDelegation(s, 'targets/releases', 'ecdsa-x509')).signatures[0]?.method, 'ecdsa');
          break;
        case 'delegation-bare':
          await checkDelegation(s, 'targets/qa', 'ecdsa');
          break;
        case 'delegation-rsa':
          t.equal((await checkDelegation(s, 'targets/ops', 'rsa')).signatures[0]?.method, 'rsapss', 'RSA delegations sign with RSA-PSS');
          break;
        case 'removed-target':
          t.same(Object.keys((await served(notary, s.gun, 'targets')).signed.targets ?? {}), [], 'v1 (both names) is gone from targets.json');
          t.ok(s.images.has('v1'), 'though the registry still has the image');
          snapshotKeyBefore = (await served(notary, s.gun, 'snapshot')).signatures[0]?.keyid ?? '';
          break;
        case 'rotated-root': {
          const first = await served(notary, s.gun, '1.root');
          const second = await served(notary, s.gun, '2.root');
          const current = await notary.trustFile(s.gun, 'root');
          t.same(JSON.parse(current.body.toString()), second, 'root.json is 2.root.json');
          const rootKeys = (f: TufFile): string[] => f.signed.roles?.root?.keyids ?? [];
          t.notSame(rootKeys(second), rootKeys(first), 'the root role has a new key');
          t.same(second.signatures.map((sig) => sig.keyid).sort(), [...rootKeys(first), ...rootKeys(second)].sort(),
            '2.root.json is signed by the old and the new root key');
          break;
        }
        case 'server-snapshot': {
          const root = await served(notary, s.gun, 'root');
          const snapshot = await served(notary, s.gun, 'snapshot');
          t.not(snapshot.signatures[0]?.keyid, snapshotKeyBefore, 'the snapshot is signed by a new key');
          t.same(root.signed.roles?.snapshot?.keyids, [snapshot.signatures[0]?.keyid], '…which the root lists for the snapshot role');
          t.equal(root.signed.version, 3, 'changing the snapshot key publishes root v3');
          break;
        }
      }
      await checkTargets(s);
      last = Date.now();
    },
  });
  t.same([...state.signed.keys()].sort(), ['v2', 'v3', 'v4'], 'what is signed at the end');
  t.equal((await notary.trustFile(`${registry.host}/team/unsigned`, 'timestamp')).status, 404, 'an unknown GUN is 404');
  t.comment(`stage timings (push + notary client + checks): ${timings.join(', ')}`);
});
