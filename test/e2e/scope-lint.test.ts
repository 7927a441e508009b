/**
 * A trust-policy scope notation accepts but pullgate never matches (an upper-case host here), end to end with
 * the real `pullgate serve` process and the real registry: the policy loads (it is the notation CLI's file), the
 * gate logs a warning at load, `verify` names the statement that was not applied to the image, and `doctor`
 * reports it. Writing the suggested scope makes the statement apply, and the reload logs no warning.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { pushTestImage } from '../harness/images.ts';
import { waitFor } from '../harness/wait.ts';
import { startPullgate } from './pullgate-process.ts';

t.test('an upper-case scope: loaded, logged, explained by verify and doctor', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const port = registry.host.split(':')[1]!;
  const host = `localhost:${port}`;
  await pushTestImage(registry.url, 'test/app', 'v1', 'meant to be skipped');
  const policy = (scope: string) => ({
    version: '1.0',
    trustPolicies: [
      { name: 'skip-app', registryScopes: [scope], signatureVerification: { level: 'skip' } },
      // No trust store behind ca:e2e: whatever this statement decides is denied.
      { name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] },
    ],
  });
  const badScope = `LocalHost:${port}/test/app`;
  const gate = await startPullgate({ registries: [{ host, endpoint: registry.url }], trustPolicy: policy(badScope), extra: { reloadIntervalMs: 200 } });
  t.teardown(() => gate.stop());
  const scopeLines = () => gate.logLines().filter((l) => l.code === 'scope_uppercase_host');

  t.ok(await waitFor(() => scopeLines().length > 0, 10_000), 'the scope warning is in the log');
  t.match(scopeLines(), [{ level: 40, statement: 'skip-app', scope: badScope, suggestion: `${host}/test/app` }], 'one warning at load, with the scope to write');

  const verify = await gate.cli(['verify', `${host}/test/app:v1`]);
  t.equal(verify.code, 1, 'the skip statement does not apply: "*" decides and denies');
  t.match(verify.stderr, `pullgate: warning: trust policy statement "skip-app": registry scope "${badScope}" never matches`);

  const doctor = await gate.cli(['doctor', '--containerd-config', join(gate.dir, 'no-containerd.toml'), '--json']);
  const report = JSON.parse(doctor.stdout) as { findings: { level: string; code: string; message: string }[] };
  t.match(report.findings.filter((f) => f.code.startsWith('policy_')), [{ level: 'warn', code: 'policy_scope_never_matches', message: new RegExp(`"${badScope}"`) }]);

  const reloads = () => gate.logLines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('trust policy and trust stores reloaded')).length;
  writeFileSync(join(gate.dir, 'notation/trustpolicy.oci.json'), JSON.stringify(policy(`${host}/test/app`)));
  t.ok(await waitFor(() => reloads() > 0, 10_000), 'the policy was reloaded');
  t.equal(scopeLines().length, 1, 'no new warning for the fixed policy');
  const fixed = await gate.cli(['verify', `${host}/test/app:v1`]);
  t.equal(fixed.code, 0, `the statement applies now: ${fixed.stderr}`);
  t.notMatch(fixed.stderr, 'warning');
});
