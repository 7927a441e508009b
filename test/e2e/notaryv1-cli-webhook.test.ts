/**
 * Issue 13.5: the webhook and the CLI get Notary v1 through the engine. Against the real notary-server and
 * notary-signer (signed with the real `notary` client) and the real registry, with the registry's tag moved to an
 * unsigned manifest after signing:
 * - `pullgate verify REF` prints the reference pinned to the signed digest; `--json` names the rule, the
 *   requirement, the role that decided with its version and signing key IDs, and every role version seen;
 * - `/mutate` pins the tag to the signed digest (not the registry's current one) and denies an unsigned tag with
 *   the Notary v1 reason, before anything is fetched from the registry.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNotary } from '../harness/notary.ts';
import { notaryRepo } from '../harness/notary-images.ts';
import { runCommand } from '../harness/processes.ts';
import { startRegistry } from '../harness/registry.ts';
import { patchOf, startTestWebhook, workloadReview } from '../webhook/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));

t.test('Notary v1 through pullgate verify and the webhook', { timeout: 240_000 }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const notary = await startNotary();
  t.teardown(() => notary.stop());
  const H = registry.host;
  const app = await notaryRepo(notary, registry, 'dct/app');
  await app.delegate('targets/releases', { name: 'releases', form: 'x509' });
  const signed = await app.pushAndSign('v1', 'targets/releases');
  const moved = await app.push('moved', 'moved, never signed');
  await app.moveTag('v1', moved);
  await app.push('unsigned', 'nobody signed this tag');
  const root = await app.rootKeyPem();

  const dir = mkdtempSync(join(tmpdir(), 'pg-notary-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const policy = {
    trustServers: { notary: { url: notary.url, caFile: notary.caFile } },
    rules: [{ scope: `${H}/dct/*`, require: [{ verifier: 'notaryv1', trustServer: 'notary', rootKeys: [root] }] }],
  };
  const config = { registries: [{ host: H, endpoint: registry.url }], notation: { configDir: join(dir, 'notation') }, policy };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const verify = (...args: string[]) => runCommand(process.execPath, [BIN, 'verify', '--config', configFile, ...args], 60_000);

  await t.test('pullgate verify: pinned to the signed digest; --json says which role and keys decided', async (t) => {
    const plain = await verify(`${H}/dct/app:v1`);
    t.equal(plain.code, 0, `verify exits 0: ${plain.stderr}`);
    t.equal(plain.stdout.trim(), `${H}/dct/app@${signed.digest}`, 'the signed digest, not the registry tag\'s');
    t.not(signed.digest, moved.manifest.digest);
    const json = await verify('--json', `${H}/dct/app:v1`);
    t.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { allowed: boolean; pinned: string; digest: string; decision: { verifier: string; rule: { key: string; scope: string }; requirements: { name: string; verifier: string; status: string; digest: string; notaryv1: { gun: string; roles: { role: string; version: number; signerKeyIds: string[] }[]; versions: Record<string, number> } }[] } };
    t.match(report, { allowed: true, pinned: `${H}/dct/app@${signed.digest}`, digest: signed.digest, decision: { verifier: 'notaryv1', rule: { key: 'policy.rules[0]', scope: `${H}/dct/*` } } });
    const req = report.decision.requirements[0]!;
    t.match(req, { name: 'notaryv1', verifier: 'notaryv1', status: 'passed', digest: signed.digest, notaryv1: { gun: `${H}/dct/app`, roles: [{ role: 'targets/releases' }] } });
    t.ok(req.notaryv1.roles[0]!.version >= 1 && req.notaryv1.roles[0]!.signerKeyIds.length >= 1, 'the role version and the IDs of the keys that signed it');
    t.ok(['root', 'timestamp', 'snapshot', 'targets', 'targets/releases'].every((r) => typeof req.notaryv1.versions[r] === 'number'), `every role version seen: ${JSON.stringify(req.notaryv1.versions)}`);

    const denied = await verify(`${H}/dct/app:unsigned`);
    t.equal(denied.code, 1, 'an unsigned tag exits 1');
    t.match(denied.stderr, new RegExp(`pullgate: ${H.replace(/\./g, '\\.')}/dct/app:unsigned: .*notary v1: .*unsigned`), 'with the Notary v1 reason');
    t.match(denied.stderr, /notaryv1 requirement "notaryv1" \(policy\.rules\[0\]\.require\[0\]\): failed \(tag_not_signed\)/, 'and which requirement failed');
  });

  await t.test('/mutate pins the tag to the signed digest; an unsigned tag is denied before any registry fetch', async (t) => {
    const w = await startTestWebhook({ ...config, webhook: { pinning: true, timeoutMs: 20_000 } });
    t.teardown(() => w.close());
    const ref = `${H}/dct/app:v1`;
    const r = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image: ref, imagePullPolicy: 'IfNotPresent' }] }));
    t.equal(r.allowed, true, `allowed: ${r.status?.message ?? ''}`);
    t.same(patchOf(r), [{ op: 'replace', path: '/spec/containers/0/image', value: `${ref}@${signed.digest}` }], 'pinned to the signed digest');

    const before = (await registry.accessLog()).filter((e) => e.path.includes('/dct/app/manifests/unsigned')).length;
    const bad = `${H}/dct/app:unsigned`;
    const d = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image: bad }] }));
    t.equal(d.allowed, false, 'an unsigned tag is denied');
    t.match(d.status?.message ?? '', /dct\/app:unsigned.*denied by the trust policy: .*notary v1/, 'with the Notary v1 reason');
    const after = (await registry.accessLog()).filter((e) => e.path.includes('/dct/app/manifests/unsigned')).length;
    t.equal(after, before, 'the registry was not asked about the refused tag');
  });
});
