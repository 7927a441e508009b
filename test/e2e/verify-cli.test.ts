/**
 * `pullgate verify` against real peers: the notation e2e OCI layouts pushed into Debian's distribution registry
 * (2.8: no Referrers API, so discovery goes through the `sha256-<hex>` tag index, rebuilt where a layout's own is
 * missing or incomplete), verified by the installed `pullgate` bin as a child process with the real upstream
 * client, the proxy's ArtifactFetcher and HTTP CRL source, and the system clock.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../harness/registry.ts';
import { pushOciLayout } from '../harness/images.ts';
import { makeStateDir, removeStateDir, runCommand, type CommandResult } from '../harness/processes.ts';
import { VECTORS, writeNotationDir } from './pullgate-process.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));
const LAYOUTS = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout');
const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const SUBJECT = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

t.test('pullgate verify with the notation e2e layouts in a real registry', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const repos: Record<string, string> = {
    valid: 'e2e-valid-signature',
    multi: 'e2e-valid-multiple-signatures',
    unsigned: 'e2e',
    expired: 'e2e-expired-signature',
    invalid: 'e2e-invalid-signature',
    'expired-cert': 'e2e-with-expired-cert',
  };
  for (const [repo, layout] of Object.entries(repos)) await pushOciLayout(registry.url, `e2e/${repo}`, join(LAYOUTS, layout), { rebuildReferrersTags: true });

  const dir = makeStateDir('pullgate-verify');
  t.teardown(() => removeStateDir(dir));
  const policy = (level: string) => ({ version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] });
  const configFor = (name: string, level: string, cert: string): string => {
    const base = join(dir, name);
    writeNotationDir(base, policy(level), { 'ca/e2e': [join(KEYS, cert)] });
    const file = join(base, 'config.json');
    writeFileSync(file, JSON.stringify({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: './notation' } }));
    return file;
  };
  const strict = configFor('strict', 'strict', 'e2e.crt');
  const untrusted = configFor('untrusted', 'strict', 'new_e2e.crt');
  const expiredCert = configFor('expired-cert', 'strict', 'expired_e2e.crt');
  const verify = (config: string, ...args: string[]): Promise<CommandResult> => runCommand(process.execPath, [BIN, 'verify', '--config', config, ...args], 60_000);

  await t.test('valid signature: exit 0 and the pinned reference', async (t) => {
    for (const repo of ['valid', 'multi']) {
      const r = await verify(strict, `${registry.host}/e2e/${repo}:v1`);
      t.equal(r.code, 0, `${repo}: ${r.stderr}`);
      t.equal(r.stdout, `${registry.host}/e2e/${repo}@${SUBJECT}\n`);
    }
    const byDigest = await verify(strict, `${registry.host}/e2e/valid@${SUBJECT}`);
    t.equal(byDigest.code, 0, byDigest.stderr);
    t.equal(byDigest.stdout.trim(), `${registry.host}/e2e/valid@${SUBJECT}`);
  });

  await t.test('expired / invalid / unsigned / untrusted / expired certificate: exit 1 with the reason', async (t) => {
    const cases: [string, string, string | RegExp][] = [
      [strict, 'expired', 'signature expired at 2023-06-27T05:21:21Z'],
      [strict, 'invalid', /signature verification failed: .*not a signature envelope/],
      [strict, 'unsigned', 'no signature found'],
      [untrusted, 'valid', 'certificate chain not trusted by store ca:e2e'],
      [expiredCert, 'expired-cert', /certificate "O=Internet Widgits Pty Ltd.*" expired at 2023-06-27T06:10:00Z/],
    ];
    for (const [config, repo, says] of cases) {
      const r = await verify(config, `${registry.host}/e2e/${repo}:v1`);
      t.equal(r.code, 1, `${repo}: exit 1`);
      t.equal(r.stdout, '', 'nothing pinned');
      t.match(r.stderr, `pullgate: ${registry.host}/e2e/${repo}:v1: `);
      t.match(r.stderr, says);
    }
  });

  await t.test('--json: the Decision with per-signature, per-check outcomes', async (t) => {
    const ok = await verify(strict, '--json', `${registry.host}/e2e/valid:v1`);
    t.equal(ok.code, 0);
    const report = JSON.parse(ok.stdout) as { allowed: boolean; pinned: string; decision: { signatures: { verified: boolean; checks: { check: string; result: string }[] }[] } };
    t.ok(report.allowed);
    t.equal(report.pinned, `${registry.host}/e2e/valid@${SUBJECT}`);
    t.same(report.decision.signatures[0]!.checks.map((c) => c.check), ['integrity', 'authenticity', 'trustedIdentity', 'expiry', 'authenticTimestamp', 'revocation']);
    const denied = await verify(strict, '--json', `${registry.host}/e2e/expired:v1`);
    t.equal(denied.code, 1);
    t.match(JSON.parse(denied.stdout), { allowed: false, reason: 'expired', decision: { signatures: [{ verified: false, reason: 'expired' }] } });
  });

  await t.test('usage and configuration errors: exit 2', async (t) => {
    const noRef = await runCommand(process.execPath, [BIN, 'verify', '--config', strict], 30_000);
    t.equal(noRef.code, 2, noRef.stderr);
    const badRef = await verify(strict, 'UPPER/Case:v1');
    t.equal(badRef.code, 2, badRef.stderr);
    t.match(badRef.stderr, /invalid image reference/);
    const noPolicy = join(dir, 'nopolicy.json');
    writeFileSync(noPolicy, JSON.stringify({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: './does-not-exist' } }));
    const missing = await verify(noPolicy, `${registry.host}/e2e/valid:v1`);
    t.equal(missing.code, 2, missing.stderr);
    t.match(missing.stderr, /no usable Notation trust policy/);
  });

  await t.test('an unmirrored registry or an unknown tag: exit 1', async (t) => {
    const other = await verify(strict, 'ghcr.io/acme/app:v1');
    t.equal(other.code, 1);
    t.match(other.stderr, 'registry ghcr.io is not mirrored by pullgate');
    const unknown = await verify(strict, `${registry.host}/e2e/valid:nope`);
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /manifest unknown/);
  });
});
