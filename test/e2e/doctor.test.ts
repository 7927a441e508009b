/**
 * `pullgate doctor` against a live node: real containerd 1.6 (its own config.toml), real `pullgate serve`,
 * real registry. Doctor's verdicts are held to what containerd then does: when doctor says ok, an image the
 * policy denies cannot be pulled through CRI; when it flags a hosts.toml without a [host] table, that same
 * pull goes around pullgate straight to the registry; when pullgate is gone, doctor says so.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage } from '../harness/images.ts';
import { portSpelling } from '../../proxy/hosts-toml.ts';
import { startPullgate } from './pullgate-process.ts';

interface Report { ok: boolean; mirror: string; findings: { level: string; code: string; registry?: string }[] }

t.test('doctor on a live node agrees with containerd', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const locked = await pushTestImage(registry.url, 'test/locked', 'v1', 'needs a signature');
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    // No trust store behind ca:e2e: every image is denied, which is all this test needs to see.
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
  });
  let gateRunning = true;
  t.teardown(() => (gateRunning ? gate.stop() : undefined));
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const containerdConfig = join(dirname(containerd.socket), 'config.toml');

  const doctor = async (): Promise<{ code: number; report: Report }> => {
    const res = await gate.cli(['doctor', '--containerd-config', containerdConfig, '--json']);
    return { code: res.code, report: JSON.parse(res.stdout) as Report };
  };

  await t.test('not wired yet: no hosts.toml for the registry', async (t) => {
    const { code, report } = await doctor();
    t.equal(code, 1);
    t.match(report.findings, [{ code: 'containerd_config' }, { code: 'config_path' }, { code: 'hosts_missing', registry: registry.host }, { code: 'default_missing', level: 'warn' }, { code: 'policy_scopes', level: 'ok' }, { code: 'mirror_live' }]);
  });

  await t.test('wired by pullgate hosts: doctor ok, and the denied image cannot be pulled', async (t) => {
    const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
    t.equal(hosts.code, 0, hosts.stderr);
    const { code, report } = await doctor();
    t.equal(code, 0, JSON.stringify(report.findings));
    t.equal(report.mirror, gate.url);
    t.ok(report.findings.some((f) => f.code === 'mirror_live'), 'GET /v2/ answered by the live pullgate');
    const before = (await registry.accessLog()).length;
    const pull = await containerd.criPull(locked.ref);
    t.notOk(pull.ok, 'CRI pull denied by pullgate');
    const direct = (await registry.accessLog()).slice(before).filter((e) => e.userAgent.startsWith('containerd/'));
    t.same(direct, [], 'containerd sent nothing to the registry itself');
  });

  await t.test('a hosts.toml without [host]: doctor flags it, and containerd really pulls around the gate', async (t) => {
    // Into the directory containerd reads first for a host with a port: `<host>_<port>_`.
    writeFileSync(join(containerd.certsDir, portSpelling(registry.host), 'hosts.toml'), `server = "${gate.url}"\n`);
    const { code, report } = await doctor();
    t.equal(code, 1);
    t.match(report.findings.filter((f) => f.level === 'problem'), [{ code: 'hosts_no_host_table', registry: registry.host }]);
    const before = (await registry.accessLog()).length;
    const pull = await containerd.criPull(locked.ref);
    t.ok(pull.ok, 'the bypass doctor warned about is real: the denied image was pulled');
    t.ok((await registry.accessLog()).slice(before).some((e) => e.userAgent.startsWith('containerd/')), 'straight from the registry');
    await containerd.removeImage(locked.ref);
    await gate.cli(['hosts', '--dir', containerd.certsDir]);
  });

  await t.test('pullgate stopped: doctor fails the probe', async (t) => {
    await gate.stop();
    gateRunning = false;
    const { code, report } = await doctor();
    t.equal(code, 1);
    t.match(report.findings.filter((f) => f.level === 'problem'), [{ code: 'mirror_down' }]);
  });
});
