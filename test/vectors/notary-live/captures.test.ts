// The live notary-server captures (capture.ts, README.md) are intact and mean what their manifest.json says: every
// file has its recorded hash, the timestamp → snapshot → root/targets/delegation hash chain holds over the exact
// bytes, and every listed target is in its role with the manifest's sha256 and length. No signature math here:
// that is the Notary v1 verifier's job, which these sets exist to test.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NOTARY_STAGES } from '../../harness/notary-scenario.ts';

interface Meta { hashes: Record<string, string>; length: number }
interface Manifest {
  gun: string; stage: string; capturedAt: string; timestampExpires: string;
  versions: Record<string, number>;
  targets: { tag: string; role: string; digest: string; length: number; sha256Base64: string; pushedAs: string }[];
  removedTargets: string[];
  rootKeys: { certificateSubject?: string }[];
  files: Record<string, { sha256: string; length: number }>;
}

const DIR = import.meta.dirname;
const DAY = 86_400_000;
const hash = (alg: string, b: Buffer, enc: 'hex' | 'base64'): string => createHash(alg).update(b).digest(enc);

for (const stage of NOTARY_STAGES) {
  t.test(stage, async (t) => {
    const dir = join(DIR, stage);
    t.ok(existsSync(join(dir, 'manifest.json')), 'the set was captured');
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    t.equal(m.stage, stage);
    const file = (name: string): Buffer => readFileSync(join(dir, name));
    const signed = (name: string): { version: number; expires: string; meta?: Record<string, Meta>; targets?: Record<string, Meta> } =>
      (JSON.parse(file(name).toString('utf8')) as { signed: never }).signed;

    for (const [name, want] of Object.entries(m.files)) {
      const body = file(name);
      t.same({ sha256: hash('sha256', body, 'hex'), length: body.length }, want, `${name}: the recorded bytes`);
    }
    const matches = (what: string, body: Buffer, meta: Meta | undefined): void => {
      t.ok(meta !== undefined && Object.keys(meta.hashes).length > 0, `${what} is listed with hashes`);
      for (const [alg, b64] of Object.entries(meta?.hashes ?? {})) t.equal(hash(alg, body, 'base64'), b64, `${what}: ${alg}`);
      t.equal(meta?.length, body.length, `${what}: length`);
    };
    matches('timestamp → snapshot.json', file('snapshot.json'), signed('timestamp.json').meta?.snapshot);
    const snapshotMeta = signed('snapshot.json').meta ?? {};
    t.same(Object.keys(snapshotMeta).sort(), Object.keys(m.versions).filter((r) => r !== 'timestamp' && r !== 'snapshot').sort(),
      'the snapshot lists root, targets and every delegation');
    for (const role of Object.keys(snapshotMeta)) matches(`snapshot → ${role}.json`, file(`${role}.json`), snapshotMeta[role]);
    for (const [role, version] of Object.entries(m.versions)) t.equal(signed(`${role}.json`).version, version, `${role} version ${version}`);
    t.same(file(`${m.versions.root}.root.json`), file('root.json'), 'root.json is the newest <version>.root.json');

    for (const target of m.targets) {
      const listed = signed(`${target.role}.json`).targets?.[target.tag];
      t.equal(listed?.hashes.sha256, target.sha256Base64, `${target.tag} in ${target.role}: sha256`);
      t.equal(listed?.length, target.length, `${target.tag} in ${target.role}: length`);
      const image = file(`images/${target.pushedAs}.manifest.json`);
      t.equal(`sha256:${hash('sha256', image, 'hex')}`, target.digest, `${target.tag}: the saved manifest hashes to the digest`);
      t.equal(image.length, target.length, `${target.tag}: the saved manifest has the length`);
    }
    for (const tag of m.removedTargets) t.notOk(tag in (signed('targets.json').targets ?? {}), `${tag} was removed`);
    t.same(m.rootKeys.map((k) => k.certificateSubject), [`CN=${m.gun}`], 'the root certificate names the GUN, as notary requires');
    const ttl = Date.parse(signed('timestamp.json').expires) - Date.parse(m.capturedAt);
    t.ok(ttl > 13.9 * DAY && ttl < 14.1 * DAY, 'the timestamp expires 14 days after the capture: tests must pin the clock');
  });
}
