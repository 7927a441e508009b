/**
 * `pullgate doctor` on real hosts.toml directories: the fail-closed form `pullgate hosts` writes, the stub
 * form REAL-PEERS §3 measured as fail-closed too, and every measured bypass (no [host] table, no server,
 * the upstream as server or as another host, a stale mirror port, no resolve), directory lookup as
 * containerd does it (`<host>_<port>_`, then `<host>:<port>`, then _default, root by root; the first path
 * that exists wins), what unlisted registries and docker.io aliases get, and the command's exit codes and --json.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor } from '../../cli/doctor.ts';
import { checkRegistryHosts, checkUnlistedRegistries, inspectHostsToml } from '../../cli/doctor/hosts-check.ts';
import { lookupHostDirectory } from '../../cli/doctor/host-lookup.ts';
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
    ['capabilities are case-insensitive in containerd', `server = "${MIRROR}"\n[host."${MIRROR}"]\n  capabilities = ["Pull", "RESOLVE"]\n`, ['ok:hosts_ok']],
    ['an unknown capability makes containerd drop the file', `server = "${MIRROR}"\n[host."${MIRROR}"]\n  capabilities = ["pull", "resolve", "fetch"]\n`, ['problem:hosts_invalid']],
  ];
  for (const [name, text, expected] of cases) t.same(summary(text), expected, name);
});

const made: string[] = [];
t.teardown(() => { for (const dir of made) rmSync(dir, { recursive: true, force: true }); });

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-certs-'));
  made.push(dir);
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

t.test('the _port_ spelling comes first, and a directory without hosts.toml wins anyway', async (t) => {
  const good = hostsToml(MIRROR);
  const direct = 'server = "http://127.0.0.1:5000"\n[host."http://127.0.0.1:5000"]\n';
  const caOnly = tree({ '127.0.0.1_5000_/ca.crt': 'cert\n', '127.0.0.1:5000/hosts.toml': good });
  const found = await checkRegistryHosts([caOnly], '127.0.0.1:5000', MIRROR);
  t.match(found, [{ level: 'problem', code: 'hosts_missing', registry: '127.0.0.1:5000', file: path.join(caOnly, '127.0.0.1_5000_/hosts.toml') }]);
  t.equal(found.length, 1);
  t.match(found[0]!.message, `ignores, ${path.join(caOnly, '127.0.0.1:5000')}`, 'says which directory is shadowed');

  t.same(await codes([tree({ '127.0.0.1_5000_/hosts.toml': good, '127.0.0.1:5000/hosts.toml': direct })], '127.0.0.1:5000'), ['hosts_ok'], 'the colon spelling is never read');
  t.same(await codes([tree({ '127.0.0.1_5000_/hosts.toml': direct, '127.0.0.1:5000/hosts.toml': good })], '127.0.0.1:5000'), ['hosts_server_not_mirror', 'hosts_other_host']);
  t.same(await codes([tree({ '127.0.0.1_5000_/hosts.toml': '', '127.0.0.1:5000/hosts.toml': good })], '127.0.0.1:5000'), ['hosts_missing'], 'an empty hosts.toml is no hosts.toml');
  t.same(await codes([tree({ '127.0.0.1_5000_': 'a file, not a directory\n', '127.0.0.1:5000/hosts.toml': good })], '127.0.0.1:5000'), ['hosts_not_directory'], 'a plain file is picked too, and fails every pull');
  t.same(await codes([tree({ '127.0.0.1_5000_/ca.crt': 'cert\n' }), tree({ '127.0.0.1:5000/hosts.toml': good })], '127.0.0.1:5000'), ['hosts_missing'], 'the first root that has any spelling wins');
  t.same(await codes([tree({ '_default/hosts.toml': good }), tree({ '127.0.0.1_5000_/ca.crt': 'cert\n' })], '127.0.0.1:5000'), ['hosts_via_default', 'hosts_ok'], '_default ends the first root\'s lookup');
  t.same(await codes([tree({ '_default/ca.crt': 'cert\n' }), tree({ '127.0.0.1:5000/hosts.toml': good })], '127.0.0.1:5000'), ['hosts_via_default', 'hosts_missing'], 'a certificates-only _default means direct');
  t.same(await codes([tree({ 'registry.example:5000/hosts.toml': good })], 'registry.example:5000'), ['hosts_ok']);

  const fileRoot = path.join(tree({ 'root-is-a-file': 'x' }), 'root-is-a-file');
  t.match(await lookupHostDirectory([fileRoot], '127.0.0.1:5000'), { kind: 'error', path: path.join(fileRoot, '127.0.0.1_5000_') }, 'ENOTDIR is an error for containerd, not "try the next"');
  t.same(await codes([fileRoot], '127.0.0.1:5000'), ['hosts_unreadable']);
  t.match(await lookupHostDirectory([tree({})], 'quay.io'), { kind: 'none' });
});

t.test('unlisted registries and docker.io aliases: _default', async (t) => {
  const good = hostsToml(MIRROR);
  const summary = async (roots: string[], registries: string[]) => (await checkUnlistedRegistries(roots, registries, MIRROR)).map((f) => `${f.level}:${f.code}${f.registry !== undefined ? `:${f.registry}` : ''}`);
  t.same(await summary([tree({})], ['docker.io']), ['warn:default_missing']);
  t.same(await summary([tree({ '_default/hosts.toml': good })], ['docker.io']), ['ok:default_ok']);
  t.same(await summary([tree({ '_default/hosts.toml': `server = "${UPSTREAM}"\n` })], ['docker.io']), ['warn:default_not_gate']);
  t.same(await summary([tree({ '_default/ca.crt': 'cert\n' })], ['docker.io']), ['warn:default_not_gate'], 'certificates only: direct');
  t.same(await summary([tree({ '_default/hosts.toml': `server = "${UPSTREAM}"\n` }), tree({ '_default/hosts.toml': good })], ['docker.io']), ['warn:default_not_gate'], 'the first root\'s _default is the one');
  const alias = tree({ '_default/hosts.toml': good, 'registry-1.docker.io/ca.crt': 'cert\n', 'index.docker.io/hosts.toml': good });
  t.same(await summary([alias], ['docker.io']), ['ok:default_ok', 'warn:alias_not_gate:registry-1.docker.io'], 'an alias directory of its own shadows _default');
  t.same(await summary([alias], ['ghcr.io']), ['ok:default_ok'], 'docker.io aliases only matter when docker.io is gated');
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
