import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hostsToml, writeHostsFile, BACKUP_SUFFIX } from '../../proxy/hosts-toml.ts';
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
  const config = buildConfig({ listen: '0.0.0.0:5055', registries: [{ host: 'docker.io', endpoint: 'https://registry-1.docker.io' }, { host: '10.0.0.5:5000', endpoint: 'http://10.0.0.5:5000' }] }, undefined);
  t.equal(mirrorUrl(config), 'http://127.0.0.1:5055');
  const res = await hostsCommand(config, dir, true);
  t.same(res.map((r) => r.registry), ['docker.io', '10.0.0.5:5000', '_default']);
  for (const r of res) t.equal(readFileSync(path.join(dir, r.registry, 'hosts.toml'), 'utf8'), hostsToml('http://127.0.0.1:5055'));
  t.equal(mirrorUrl(buildConfig({ listen: '[::1]:5050' }, undefined)), 'http://[::1]:5050');
});
