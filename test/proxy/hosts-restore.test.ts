/**
 * `pullgate hosts --restore` (uninstall): puts back what `pullgate hosts` replaced, removes what it added,
 * leaves alone what someone changed since, and is safe to run twice.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKUP_SUFFIX, restoreHostsFiles, writeHostsFile } from '../../proxy/hosts-toml.ts';
import { hostsCommand, restoreCommand } from '../../cli/hosts.ts';
import { buildConfig } from '../../config/load.ts';
import { runCommand } from '../harness/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));

const MIRROR = 'http://127.0.0.1:5050';

function certsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-restore-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

t.test('restores replaced files, removes added ones, keeps what changed since', async (t) => {
  const original = 'server = "https://ghcr.io"\n';
  const dir = certsDir({
    'ghcr.io/hosts.toml': original,
    'quay.io/hosts.toml': 'server = "https://quay.io"\n',
    'quay.io/ca.crt': 'a certificate the operator keeps here\n',
    'untouched.io/hosts.toml': 'server = "https://untouched.io"\n',
  });
  for (const registry of ['ghcr.io', 'docker.io', 'quay.io', 'new.io']) await writeHostsFile(dir, registry, MIRROR);
  // After install someone edits quay.io by hand: their file wins over our old backup.
  writeFileSync(path.join(dir, 'quay.io/hosts.toml'), 'server = "https://quay-mirror.internal"\n');
  // And adds certs next to the file pullgate wrote for new.io: the directory must survive.
  writeFileSync(path.join(dir, 'new.io/ca.crt'), 'cert\n');

  const results = await restoreHostsFiles(dir);
  t.same(results, [
    { registry: 'docker.io', result: 'removed' },
    { registry: 'ghcr.io', result: 'restored' },
    { registry: 'new.io', result: 'removed' },
    { registry: 'quay.io', result: 'kept' },
  ]);
  t.equal(readFileSync(path.join(dir, 'ghcr.io/hosts.toml'), 'utf8'), original);
  t.notOk(existsSync(path.join(dir, `ghcr.io/hosts.toml${BACKUP_SUFFIX}`)), 'the backup became the file');
  t.notOk(existsSync(path.join(dir, 'docker.io')), 'a directory pullgate created is gone');
  t.notOk(existsSync(path.join(dir, 'new.io/hosts.toml')));
  t.ok(existsSync(path.join(dir, 'new.io/ca.crt')), 'other files stay');
  t.equal(readFileSync(path.join(dir, 'quay.io/hosts.toml'), 'utf8'), 'server = "https://quay-mirror.internal"\n');
  t.equal(readFileSync(path.join(dir, 'untouched.io/hosts.toml'), 'utf8'), 'server = "https://untouched.io"\n');

  const again = await restoreHostsFiles(dir);
  t.same(again, [{ registry: 'quay.io', result: 'kept' }], 'a second run changes nothing');
});

t.test('covers registries dropped from the config since install, and _default', async (t) => {
  const dir = certsDir({});
  const config = buildConfig({ registries: [{ host: 'docker.io', endpoint: 'https://registry-1.docker.io' }, { host: 'ghcr.io', endpoint: 'https://ghcr.io' }] }, undefined);
  await hostsCommand(config, dir, true);
  const results = await restoreCommand(dir);
  t.same(results.map((r) => r.registry), ['_default', 'docker.io', 'ghcr.io']);
  t.ok(results.every((r) => r.result === 'removed'));
  t.same(await restoreCommand(path.join(dir, 'missing')), [], 'a missing directory restores nothing');
});

t.test('the CLI: pullgate hosts --dir DIR --restore', async (t) => {
  const dir = certsDir({ 'ghcr.io/hosts.toml': 'server = "https://ghcr.io"\n' });
  await writeHostsFile(dir, 'ghcr.io', MIRROR);
  const res = await runCommand(process.execPath, [BIN, 'hosts', '--dir', dir, '--restore'], 30_000);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout, 'ghcr.io: restored\n');
  t.equal((await runCommand(process.execPath, [BIN, 'hosts', '--restore'], 30_000)).code, 2, '--dir is still required');
});
