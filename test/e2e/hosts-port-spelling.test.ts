/**
 * containerd's `<host>_<port>_` directory (remotes/docker/config hostPaths: `_port_` spelling, then
 * `host:port`, then `_default`, per root) against real containerd 1.6 over CRI, the real registry and the real
 * `pullgate serve`. A `_port_` directory holding only a ca.crt is common (Docker's certs.d habit) and means
 * "talk to the registry directly": it shadows the `host:port/hosts.toml` pullgate wrote. The test shows the
 * bypass is real, that doctor calls it a problem, that `pullgate hosts` closes it (the gate denies, nothing
 * reaches the registry), that `--default` (as the DaemonSet runs it) sends an alias spelling of the registry to
 * the gate too, and that `--restore` puts the node back as it was, the operator's ca.crt included.
 */
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage } from '../harness/images.ts';
import { hostsToml } from '../../proxy/hosts-toml.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';

interface Report { ok: boolean; findings: { level: string; code: string; registry?: string; file?: string }[] }

t.test('a _port_ directory with only a ca.crt: the bypass, doctor, pullgate hosts, --restore', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const unsigned = await pushTestImage(registry.url, 'test/unsigned', 'v1', 'nobody signed this');
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    // No trust store behind ca:e2e: every image is denied by the gate.
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const containerdConfig = join(dirname(containerd.socket), 'config.toml');

  const colonDir = join(containerd.certsDir, registry.host);
  const portDir = join(containerd.certsDir, registry.host.replace(/:(\d+)$/, '_$1_'));
  const caText = readFileSync(join(VECTORS, 'notary/fixtures/root-ca.crt'), 'utf8');
  // The node as an older pullgate left it, plus the operator's CA in the spelling containerd looks at first.
  mkdirSync(colonDir, { recursive: true });
  writeFileSync(join(colonDir, 'hosts.toml'), hostsToml(gate.url));
  mkdirSync(portDir, { recursive: true });
  writeFileSync(join(portDir, 'ca.crt'), caText);

  const doctor = async (): Promise<{ code: number; report: Report }> => {
    const res = await gate.cli(['doctor', '--containerd-config', containerdConfig, '--json']);
    return { code: res.code, report: JSON.parse(res.stdout) as Report };
  };
  const directRequests = async (since: number) => (await registry.accessLog()).slice(since).filter((e) => e.userAgent.startsWith('containerd/'));

  await t.test('the bypass is real: CRI pulls the unsigned image straight from the registry', async (t) => {
    const before = (await registry.accessLog()).length;
    const pull = await containerd.criPull(unsigned.ref);
    t.ok(pull.ok, `pulled around the gate: ${JSON.stringify(pull)}`);
    t.not((await directRequests(before)).length, 0, 'containerd talked to the registry itself');
    await containerd.removeImage(unsigned.ref);
  });

  await t.test('doctor follows containerd\'s lookup order and reports the _port_ directory', async (t) => {
    const { code, report } = await doctor();
    t.equal(code, 1, JSON.stringify(report.findings));
    const problems = report.findings.filter((f) => f.level === 'problem');
    t.match(problems, [{ code: 'hosts_missing', registry: registry.host, file: join(portDir, 'hosts.toml') }]);
  });

  await t.test('pullgate hosts makes the gate win: doctor ok, the pull is denied, nothing goes direct', async (t) => {
    const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
    t.equal(hosts.code, 0, hosts.stderr);
    t.match(hosts.stdout, `${registry.host.replace(':', '_')}_: written`);
    t.equal(readFileSync(join(portDir, 'ca.crt'), 'utf8'), caText, 'the operator\'s CA stays');
    const { code, report } = await doctor();
    t.equal(code, 0, JSON.stringify(report.findings));
    const before = (await registry.accessLog()).length;
    const pull = await containerd.criPull(unsigned.ref);
    t.notOk(pull.ok, 'denied');
    if (!pull.ok) t.match(pull.message, /403 Forbidden/, 'by the gate');
    t.same(await directRequests(before), [], 'containerd sent nothing to the registry itself');
    t.ok(gate.logLines().some((l) => l.decision === 'deny'), 'pullgate decided it');
  });

  await t.test('an alias spelling of the registry: direct without _default, denied by the gate with --default', async (t) => {
    // `localhost:<port>` is the same registry to the network, another host to containerd (own directories,
    // then _default) and an unconfigured registry to pullgate — like registry-1.docker.io or Registry.Host:5000.
    const alias = unsigned.ref.replace(registry.host, registry.host.replace('127.0.0.1', 'localhost'));
    let before = (await registry.accessLog()).length;
    const around = await containerd.criPull(alias);
    t.ok(around.ok, `no _default: pulled direct (${JSON.stringify(around)})`);
    t.not((await directRequests(before)).length, 0);
    await containerd.removeImage(alias);
    t.match((await doctor()).report.findings.filter((f) => f.code.startsWith('default_')), [{ code: 'default_missing', level: 'warn' }], 'doctor warns');

    const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir, '--default']);
    t.equal(hosts.code, 0, hosts.stderr);
    t.match(hosts.stdout, '_default: written');
    const { code, report } = await doctor();
    t.equal(code, 0);
    t.match(report.findings.filter((f) => f.code.startsWith('default_')), [{ code: 'default_ok', level: 'ok' }]);
    before = (await registry.accessLog()).length;
    const gated = await containerd.criPull(alias);
    t.notOk(gated.ok, 'denied');
    if (!gated.ok) t.match(gated.message, /403 Forbidden/);
    t.same(await directRequests(before), [], 'nothing direct');
  });

  await t.test('--restore puts the node back: the ca.crt stays, pullgate\'s files go', async (t) => {
    const restore = await gate.cli(['hosts', '--dir', containerd.certsDir, '--restore']);
    t.equal(restore.code, 0, restore.stderr);
    t.same(readdirSync(portDir), ['ca.crt'], '_port_ directory as the operator left it');
    t.notOk(existsSync(colonDir), 'the host:port directory pullgate created is gone');
    t.notOk(existsSync(join(containerd.certsDir, '_default')), 'and so is _default');
    const before = (await registry.accessLog()).length;
    const pull = await containerd.criPull(unsigned.ref);
    t.ok(pull.ok, 'the node pulls as before install');
    t.not((await directRequests(before)).length, 0);
    await containerd.removeImage(unsigned.ref);
  });
});
