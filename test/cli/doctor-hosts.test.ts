/**
 * `pullgate doctor` on real hosts.toml directories: the fail-closed form `pullgate hosts` writes, the stub
 * form REAL-PEERS §3 measured as fail-closed too, and every measured bypass (no [host] table, no server,
 * the upstream as server or as another host, a stale mirror port, no resolve), directory lookup as
 * containerd does it (registry dir, then _default, root by root), and the command's exit codes and --json.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor } from '../../cli/doctor.ts';
import { checkRegistryHosts, inspectHostsToml } from '../../cli/doctor/hosts-check.ts';
import { hostsToml } from '../../proxy/hosts-toml.ts';
import { runCommand } from '../harness/processes.ts';
import { startFakeMirror } from './fake-mirror.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));
const MIRROR = 'http://127.0.0.1:5050';
const UPSTREAM = 'https://registry-1.docker.io';
const summary = (text: string) => inspectHostsToml(text, MIRROR).map((f) => `${f.level}:${f.code}`);

t.test('each hosts.toml shape gets the verdict containerd\'s measured behaviour calls for', async (t) => {
  const cases: [string, string, string[]][] = [
    ['written by pullgate hosts', hostsToml(MIRROR), ['ok:hosts_ok']],
    ['stub [host] with top-level capabilities (measured fail-closed)', `server = "${MIRROR}"\ncapabilities = ["pull", "resolve"]\n[host]\n`, ['ok:hosts_ok']],
    ['trailing slash and /v2 are the same origin', `server = "${MIRROR}/v2"\n[host."${MIRROR}/"]\n  capabilities = ["pull", "resolve"]\n`, ['ok:hosts_ok']],
    ['server only: 1.6 rejects the file (containerd#10027)', `server = "${MIRROR}"\n`, ['problem:hosts_no_host_table']],
    ['no server: the upstream is appended', `[host."${MIRROR}"]\n  capabilities = ["pull", "resolve"]\n`, ['problem:hosts_server_missing']],
    ['upstream as server', `server = "${UPSTREAM}"\n[host."${MIRROR}"]\n  capabilities = ["pull", "resolve"]\n`, ['problem:hosts_server_not_mirror']],
    ['upstream as a second host', `server = "${MIRROR}"\n[host."${MIRROR}"]\n  capabilities = ["pull", "resolve"]\n[host."${UPSTREAM}"]\n  capabilities = ["pull", "resolve"]\n`, ['problem:hosts_other_host']],
    ['a stale mirror port', hostsToml('http://127.0.0.1:6060'), ['problem:hosts_server_not_mirror', 'problem:hosts_other_host']],
    ['no scheme means https, which pullgate does not speak', `server = "127.0.0.1:5050"\n[host."127.0.0.1:5050"]\n`, ['problem:hosts_server_not_mirror', 'problem:hosts_other_host']],
    ['pull only, server still the mirror', `server = "${MIRROR}"\n[host."${MIRROR}"]\n  capabilities = ["pull"]\n`, ['warn:hosts_no_resolve', 'ok:hosts_ok']],
    ['nothing can resolve', `server = "${MIRROR}"\ncapabilities = ["pull"]\n[host."${MIRROR}"]\n  capabilities = ["pull"]\n`, ['warn:hosts_no_resolve', 'problem:hosts_no_resolve']],
    ['not TOML', 'server = \n[host\n', ['problem:hosts_invalid']],
  ];
  for (const [name, text, expected] of cases) t.same(summary(text), expected, name);
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-certs-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
const codes = async (roots: string[], registry: string) => (await checkRegistryHosts(roots, registry, MIRROR)).map((f) => f.code);

t.test('directory lookup as containerd does it', async (t) => {
  const good = hostsToml(MIRROR);
  const dir = tree({ 'docker.io/hosts.toml': good, 'ghcr.io/ca.crt': 'cert\n', '127.0.0.1:5000/hosts.toml': good });
  t.same(await codes([dir], 'docker.io'), ['hosts_ok']);
  t.same(await codes([dir], '127.0.0.1:5000'), ['hosts_ok'], 'host:port directory names');
  t.same(await codes([dir], 'ghcr.io'), ['hosts_missing'], 'a directory with only certificates pulls direct');
  t.same(await codes([dir], 'quay.io'), ['hosts_missing'], 'no directory at all');
  const withDefault = tree({ '_default/hosts.toml': good });
  t.same(await codes([withDefault], 'quay.io'), ['hosts_via_default', 'hosts_ok'], '_default governs unlisted registries');
  // Root by root: the first root that has the registry (or _default) wins, even if a later one is right.
  const first = tree({ 'docker.io/hosts.toml': `server = "${UPSTREAM}"\n` });
  t.same(await codes([first, dir], 'docker.io'), ['hosts_no_host_table', 'hosts_server_not_mirror']);
  t.same(await codes([tree({}), dir], 'docker.io'), ['hosts_ok'], 'an empty first root falls through');
});

t.test('--certs-dir replaces config_path\'s directories (a hostPath mounted elsewhere)', async (t) => {
  const mirror = await startFakeMirror();
  t.teardown(() => mirror.close());
  const certs = tree({ 'docker.io/hosts.toml': hostsToml(mirror.url) });
  const conf = tree({ 'config.toml': 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/nowhere"\n', 'pullgate.json': JSON.stringify({ listen: mirror.listen }) });
  const report = await runDoctor({ configFile: path.join(conf, 'pullgate.json'), containerdConfig: path.join(conf, 'config.toml'), certsDir: certs, hostRoot: '/', timeoutMs: 2000 });
  t.equal(report.ok, true, JSON.stringify(report.findings));
  t.same(report.containerd.hostsDirs, [certs]);
});

t.test('the command: human output, --json, exit codes for a probe', async (t) => {
  const mirror = await startFakeMirror();
  t.teardown(() => mirror.close());
  const good = tree({ 'docker.io/hosts.toml': hostsToml(mirror.url), 'ghcr.io/hosts.toml': `server = "${mirror.url}"\n` });
  const conf = tree({
    'config.toml': `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ${JSON.stringify(good)}\n`,
    'one.json': JSON.stringify({ listen: mirror.listen }),
    'two.json': JSON.stringify({ listen: mirror.listen, registries: [{ host: 'docker.io', endpoint: UPSTREAM }, { host: 'ghcr.io', endpoint: 'https://ghcr.io' }] }),
  });
  const run = (...args: string[]) => runCommand(process.execPath, [BIN, 'doctor', '--containerd-config', path.join(conf, 'config.toml'), ...args], 30_000);

  const ok = await run('--config', path.join(conf, 'one.json'));
  t.equal(ok.code, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /^ok {7}docker\.io: fail-closed/m);
  t.match(ok.stdout, /every configured registry goes through pullgate/);

  const bad = await run('--config', path.join(conf, 'two.json'), '--json');
  t.equal(bad.code, 1);
  const report = JSON.parse(bad.stdout) as { ok: boolean; findings: { level: string; code: string; registry?: string; file?: string }[] };
  t.equal(report.ok, false);
  t.match(report.findings.find((f) => f.level === 'problem'), { code: 'hosts_no_host_table', registry: 'ghcr.io', file: path.join(good, 'ghcr.io/hosts.toml') });

  t.equal((await run('--bogus')).code, 2, 'unknown flag');
  t.equal((await run('extra')).code, 2, 'positional argument');
  t.equal((await run('--config', path.join(conf, 'missing.json'))).code, 2, 'unreadable pullgate config');
});
