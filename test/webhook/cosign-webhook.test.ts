/**
 * Issue 14.5: the webhook gets cosign through the engine. Against the real registry, images signed in the test
 * with cosign's tag layout: with pinning on, `/mutate` pins a cosign-signed tag to its digest, `/validate` with
 * `webhook.verify` allows it, and an unsigned or wrongly signed image is denied with the cosign reason; the
 * decision names the key that verified (via `pullgate verify --json` of the same config).
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pushTestImage } from '../harness/images.ts';
import { runCommand } from '../harness/processes.ts';
import { startRegistry } from '../harness/registry.ts';
import { cosignKey, signCosign } from '../e2e/cosign-sign.ts';
import { patchOf, startTestWebhook, workloadReview } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));

t.test('cosign through the webhook and pullgate verify', { timeout: 180_000 }, async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const R = registry.url;
  const H = registry.host;
  const key = cosignKey();
  const stranger = cosignKey();
  const signed = await pushTestImage(R, 'cosign/app', 'v1', 'cosign signed');
  await signCosign(R, H, 'cosign/app', signed.manifest.digest, key);
  await pushTestImage(R, 'cosign/unsigned', 'v1', 'no cosign signature');
  const wrong = await pushTestImage(R, 'cosign/wrong', 'v1', 'signed by a key nobody trusts');
  await signCosign(R, H, 'cosign/wrong', wrong.manifest.digest, stranger);

  const dir = mkdtempSync(join(tmpdir(), 'pg-cosign-wh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = {
    registries: [{ host: H, endpoint: R }],
    notation: { configDir: join(dir, 'notation') },
    policy: { rules: [{ scope: `${H}/cosign/*`, require: [{ verifier: 'cosign', name: 'release', publicKeys: [key.publicPem] }] }] },
  };

  await t.test('/mutate pins a cosign-signed tag; unsigned and wrong-key images are denied with the cosign reason', async (t) => {
    const w = await startTestWebhook({ ...config, webhook: { pinning: true, timeoutMs: 20_000 } });
    t.teardown(() => w.close());
    const ref = `${H}/cosign/app:v1`;
    const r = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image: ref }] }));
    t.equal(r.allowed, true, `allowed: ${r.status?.message ?? ''}`);
    t.same(patchOf(r), [{ op: 'replace', path: '/spec/containers/0/image', value: `${ref}@${signed.manifest.digest}` }], 'pinned to the verified digest');
    for (const [image, words] of [[`${H}/cosign/unsigned:v1`, /cosign/i], [`${H}/cosign/wrong:v1`, /cosign/i]] as const) {
      const d = await w.review('/mutate', workloadReview({ containers: [{ name: 'app', image }] }));
      t.equal(d.allowed, false, `${image} denied`);
      t.match(d.status?.message ?? '', /denied by the trust policy/, `${image}: the policy denial`);
      t.match(d.status?.message ?? '', words, `${image}: the cosign reason`);
    }
  });

  await t.test('/validate with webhook.verify decides digest references through cosign', async (t) => {
    const w = await startTestWebhook({ ...config, webhook: { verify: true, timeoutMs: 20_000 } });
    t.teardown(() => w.close());
    const ok = await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: `${H}/cosign/app@${signed.manifest.digest}` }] }));
    t.equal(ok.allowed, true, `signed digest allowed: ${ok.status?.message ?? ''}`);
    const bad = await w.review('/validate', workloadReview({ containers: [{ name: 'app', image: `${H}/cosign/wrong@${wrong.manifest.digest}` }] }));
    t.equal(bad.allowed, false, 'a digest signed by an untrusted key is denied');
  });

  await t.test('pullgate verify --json names the key that verified', async (t) => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const r = await runCommand(process.execPath, [BIN, 'verify', '--config', file, '--json', `${H}/cosign/app:v1`], 60_000);
    t.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { decision: { verifier: string; requirements: { name: string; status: string; cosign?: { verifiedBy?: { name: string; fingerprint?: string }[] } }[] } };
    t.equal(report.decision.verifier, 'cosign');
    const req = report.decision.requirements[0]!;
    t.match(req, { name: 'release', status: 'passed' });
    t.ok((req.cosign?.verifiedBy?.length ?? 0) >= 1 && req.cosign!.verifiedBy!.every((v) => typeof v.name === 'string'), `the key that verified: ${JSON.stringify(req.cosign?.verifiedBy)}`);
  });
});
