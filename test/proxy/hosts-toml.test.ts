import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { containerdHostPaths, hostsToml, portSpelling, registryHostDirs, writeHostsFile, BACKUP_SUFFIX, KEEP_DIR_LINE } from '../../proxy/hosts-toml.ts';
import { hostsCommand, mirrorUrl } from '../../cli/hosts.ts';
import { buildConfig } from '../../config/load.ts';

t.test('the fail-closed form: server is the mirror and a [host] table exists', async (t) => {
  const toml = hostsToml('http://127.0.0.1:5050');
  t.match(toml, /^server = "http:\/\/127\.0\.0\.1:5050"$/m);
  t.match(toml, /^\[host\."http:\/\/127\.0\.0\.1:5050"\]$/m);
  t.match(toml, /^ {2}capabilities = \["pull", "resolve"\]$/m);
  // Nothing may name an upstream registry: containerd would fall back to it on a deny.
  t.equal(toml.match(/http:\/\//g)?.length, 2);
});

t.test('idempotent, backs up what it replaces once, never loses the original', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-hosts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'ghcr.io'));
  const original = 'server = "https://ghcr.io"\n';
  writeFileSync(path.join(dir, 'ghcr.io', 'hosts.toml'), original);
  t.equal(await writeHostsFile(dir, 'ghcr.io', 'http://127.0.0.1:5050'), 'replaced');
  t.equal(readFileSync(path.join(dir, 'ghcr.io', 'hosts.toml' + BACKUP_SUFFIX), 'utf8'), original);
  t.equal(await writeHostsFile(dir, 'ghcr.io', 'http://127.0.0.1:5050'), 'unchanged');
  t.equal(await writeHostsFile(dir, 'ghcr.io', 'http://127.0.0.1:6060'), 'replaced');
  t.equal(readFileSync(path.join(dir, 'ghcr.io', 'hosts.toml' + BACKUP_SUFFIX), 'utf8'), original, 'first backup kept');
  t.equal(await writeHostsFile(dir, 'new.io', 'http://127.0.0.1:5050'), 'written');
  t.notOk(existsSync(path.join(dir, 'new.io', 'hosts.toml' + BACKUP_SUFFIX)));
  await t.rejects(writeHostsFile(dir, '../etc', 'http://x'), /invalid registry/);
});

t.test('hosts command covers every configured registry and optionally _default', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-hosts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = buildConfig({ listen: '0.0.0.0:5055', registries: [{ host: 'docker.io', endpoint: 'https://registry-1.docker.io' }, { host: '10.0.0.5:5000', endpoint: 'http://10.0.0.5:5000' }] }, undefined);
  t.equal(mirrorUrl(config), 'http://127.0.0.1:5055');
  const res = await hostsCommand(config, dir, true);
  t.same(res.map((r) => r.registry), ['docker.io', '10.0.0.5_5000_', '10.0.0.5:5000', '_default'], 'both spellings containerd reads for a host with a port');
  for (const r of res) t.equal(readFileSync(path.join(dir, r.registry, 'hosts.toml'), 'utf8'), hostsToml('http://127.0.0.1:5055'));
  t.equal(mirrorUrl(buildConfig({ listen: '[::1]:5050' }, undefined)), 'http://[::1]:5050');
});

t.test('directory spellings as containerd\'s hostPaths computes them', async (t) => {
  t.same(containerdHostPaths('docker.io'), ['docker.io', '_default']);
  t.same(containerdHostPaths('127.0.0.1:5000'), ['127.0.0.1_5000_', '127.0.0.1:5000', '_default'], '_port_ first');
  t.same(containerdHostPaths('Registry.Host:5000'), ['Registry.Host_5000_', 'Registry.Host:5000', '_default'], 'no case folding');
  t.same(containerdHostPaths('_default'), ['_default']);
  t.equal(portSpelling('[::1]:5000'), '[::1]_5000_', 'the last colon is the port');
  t.equal(portSpelling('[::1]'), '[:_1]_', 'containerd\'s own quirk for a bare IPv6 host, reproduced');
  t.same(registryHostDirs('127.0.0.1:5000'), ['127.0.0.1_5000_', '127.0.0.1:5000']);
});

t.test('a directory that existed before is marked so --restore keeps it; our own file is never backed up', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-hosts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '127.0.0.1_5000_'));
  writeFileSync(path.join(dir, '127.0.0.1_5000_', 'ca.crt'), 'cert\n');
  t.equal(await writeHostsFile(dir, '127.0.0.1_5000_', 'http://127.0.0.1:5050'), 'written');
  const text = readFileSync(path.join(dir, '127.0.0.1_5000_', 'hosts.toml'), 'utf8');
  t.equal(text, hostsToml('http://127.0.0.1:5050', { keepDirectory: true }));
  t.equal(text.split('\n')[1], KEEP_DIR_LINE);
  t.equal(await writeHostsFile(dir, '127.0.0.1_5000_', 'http://127.0.0.1:5050'), 'unchanged', 'idempotent with the mark');
  t.equal(await writeHostsFile(dir, '127.0.0.1_5000_', 'http://127.0.0.1:6060'), 'replaced');
  t.equal(readFileSync(path.join(dir, '127.0.0.1_5000_', 'hosts.toml'), 'utf8'), hostsToml('http://127.0.0.1:6060', { keepDirectory: true }), 'the mark survives a rewrite');
  t.notOk(existsSync(path.join(dir, '127.0.0.1_5000_', 'hosts.toml' + BACKUP_SUFFIX)), 'pullgate\'s own older file is not an original');

  t.equal(await writeHostsFile(dir, '127.0.0.1:5000', 'http://127.0.0.1:5050'), 'written');
  t.equal(readFileSync(path.join(dir, '127.0.0.1:5000', 'hosts.toml'), 'utf8'), hostsToml('http://127.0.0.1:5050'), 'created by pullgate: no mark');

  writeFileSync(path.join(dir, 'not-a-dir'), 'x');
  await t.rejects(writeHostsFile(dir, 'not-a-dir', 'http://127.0.0.1:5050'), /not a directory/, 'a file in the way fails loudly');
});
