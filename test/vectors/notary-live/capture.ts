/**
 * Captures what a real notary-server serves at each stage of the shared signing story (test/harness/notary-scenario.ts),
 * byte for byte, for the Notary v1 verifier's unit tests: `node test/vectors/notary-live/capture.ts` (needs the
 * Debian `notary` and `docker-registry` packages; the pretest installs both). Rewrites every `<stage>/` directory
 * next to this file; README.md says what each set is. The timestamp expires 14 days after the capture, so tests
 * that verify these sets must pin the clock (manifest.json's `capturedAt`).
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startNotary, type NotaryPeers } from '../../harness/notary.ts';
import { NOTARY_STAGES, runNotaryScenario, type NotaryStage, type ScenarioState } from '../../harness/notary-scenario.ts';
import { startRegistry } from '../../harness/registry.ts';

interface TufKey { keytype: string; keyval: { public: string } }
interface TufRole { keyids: string[]; threshold: number; name?: string; paths?: string[] }
interface Signed {
  version: number; expires: string;
  keys?: Record<string, TufKey>; roles?: Record<string, TufRole>;
  delegations?: { keys: Record<string, TufKey>; roles: TufRole[] };
}

const OUT = import.meta.dirname;

/** A TUF key's public key as SPKI PEM (x509 key types carry a base64 PEM certificate, bare ones base64 DER SPKI). */
function spkiPem(key: TufKey): string {
  const raw = Buffer.from(key.keyval.public, 'base64');
  const pub = key.keytype.endsWith('-x509') ? new X509Certificate(raw).publicKey : createPublicKey({ key: raw, format: 'der', type: 'spki' });
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

function keyInfo(keyid: string, key: TufKey | undefined): Record<string, unknown> {
  if (key === undefined) throw new Error(`capture: key ${keyid} is not in the keys map`);
  const info: Record<string, unknown> = { keyid, keytype: key.keytype, publicKeyPem: spkiPem(key) };
  if (key.keytype.endsWith('-x509')) {
    const cert = new X509Certificate(Buffer.from(key.keyval.public, 'base64'));
    Object.assign(info, { certificateSubject: cert.subject, certificateValidTo: new Date(cert.validTo).toISOString() });
  }
  return info;
}

function notaryVersion(): string {
  // `notary version` prints an empty version in the Debian build; the package's own version (dpkg's status file,
  // read rather than asking dpkg-query, which the pretest does not promise) is the honest one.
  let status = '';
  try { status = readFileSync('/var/lib/dpkg/status', 'utf8'); } catch { /* not Debian */ }
  const entry = status.split('\n\n').find((p) => p.startsWith('Package: notary\n'));
  return `Debian package notary ${/^Version: (.+)$/m.exec(entry ?? '')?.[1] ?? '(version unknown)'}`;
}

async function fetchOk(notary: NotaryPeers, gun: string, name: string): Promise<Buffer> {
  const got = await notary.trustFile(gun, name);
  if (got.status !== 200) throw new Error(`capture: ${name}.json answered ${got.status}: ${got.body.toString().slice(0, 200)}`);
  return got.body;
}

async function captureStage(notary: NotaryPeers, stage: NotaryStage, s: ScenarioState, capturedAt: string, version: string): Promise<void> {
  const dir = join(OUT, stage);
  rmSync(dir, { recursive: true, force: true });
  const files = new Map<string, Buffer>();
  const get = async (name: string): Promise<Signed> => {
    const body = await fetchOk(notary, s.gun, name);
    files.set(`${name}.json`, body);
    return (JSON.parse(body.toString('utf8')) as { signed: Signed }).signed;
  };
  const root = await get('root');
  const timestamp = await get('timestamp');
  const snapshot = await get('snapshot');
  const targets = await get('targets');
  const versions: Record<string, number> = { root: root.version, timestamp: timestamp.version, snapshot: snapshot.version, targets: targets.version };
  for (const d of s.delegations) versions[d.role] = (await get(d.role)).version;
  // Every root version, so a verifier pinned to an older root key can follow the rotation chain.
  const rootKeysByVersion: Record<string, unknown[]> = {};
  for (let v = 1; v <= root.version; v++) {
    const old = await get(`${v}.root`);
    rootKeysByVersion[String(v)] = (old.roles?.root?.keyids ?? []).map((id) => keyInfo(id, old.keys?.[id]));
  }
  const images: Record<string, string> = {};
  for (const [tag, image] of s.images) {
    images[tag] = `images/${tag}.manifest.json`;
    files.set(images[tag], image.manifest.bytes);
  }
  const manifest = {
    gun: s.gun,
    stage,
    sequence: NOTARY_STAGES.indexOf(stage) + 1,
    capturedAt,
    capturedWith: `${version}: notary-server + notary-signer (memory storage, ecdsa server keys) and the notary client`,
    timestampExpires: timestamp.expires,
    versions,
    targets: [...s.signed.values()].map((t) => ({ ...t, sha256Base64: Buffer.from(t.digest.slice(7), 'hex').toString('base64') })),
    removedTargets: s.removed,
    rootKeys: rootKeysByVersion[String(root.version)],
    rootKeysByVersion,
    delegations: (targets.delegations?.roles ?? []).map((r) => ({
      role: r.name, threshold: r.threshold, paths: r.paths,
      keys: r.keyids.map((id) => keyInfo(id, targets.delegations?.keys[id])),
    })),
    files: Object.fromEntries([...files].sort(([a], [b]) => a.localeCompare(b)).map(([name, body]) =>
      [name, { sha256: createHash('sha256').update(body).digest('hex'), length: body.length }])),
  };
  for (const [name, body] of files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  process.stdout.write(`${stage}: ${files.size} files, versions ${JSON.stringify(versions)}\n`);
}

const version = notaryVersion();
const registry = await startRegistry({ quiet: true });
try {
  const notary = await startNotary();
  try {
    const capturedAt = new Date().toISOString();
    await runNotaryScenario(notary, registry, { onStage: (stage, s) => captureStage(notary, stage, s, capturedAt, version) });
  } finally {
    await notary.stop();
  }
} finally {
  await registry.stop();
}
