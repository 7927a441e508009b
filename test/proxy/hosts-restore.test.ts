/**
 * `pullgate hosts --restore` (uninstall): puts back what `pullgate hosts` replaced, removes what it added,
 * leaves alone what someone changed since, and is safe to run twice — for both directory spellings containerd
 * reads (`<host>_<port>_` and `<host>:<port>`), keeping the operator's certificates and directories.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKUP_SUFFIX, restoreHostsFiles, writeHostsFile } from '../../proxy/hosts-toml.ts';
import { hostsCommand, restoreCommand } from '../../cli/hosts.ts';
import { buildConfig } from '../../config/load.ts';
import { runCommand } from '../harness/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));

const MIRROR = 'http://127.0.0.1:5050';

/** Every certs.d tree this file makes, removed when its tests are done. */
const made: string[] = [];
t.teardown(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function certsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-restore-'));
  made.push(dir);
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

/** Every directory and file under `dir` with its content: the node's certs.d as containerd sees it. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        out[`${name}/`] = '(dir)';
        walk(name);
      } else out[name] = readFileSync(path.join(dir, name), 'utf8');
    }
  };
  walk('');
  return out;
}

t.test('both port spellings: --restore gives back exactly the tree that was there', async (t) => {
  // Every shape a `_port_` directory takes on real nodes: certificates only, an operator's hosts.toml,
  // empty (itself a setting: "pull direct"), or absent.
  const dir = certsDir({
    '10.0.0.1_5000_/ca.crt': 'cert for 10.0.0.1\n',
    '10.0.0.2_5000_/hosts.toml': 'server = "https://10.0.0.2:5000"\n',
    '10.0.0.2_5000_/client.cert': 'client cert\n',
    '10.0.0.2:5000/hosts.toml': 'server = "https://10.0.0.2:5000"\n',
  });
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '10.0.0.3_5000_'));
  const before = snapshot(dir);
  const config = buildConfig({ registries: ['10.0.0.1:5000', '10.0.0.2:5000', '10.0.0.3:5000', '10.0.0.4:5000'].map((host) => ({ host, endpoint: `https://${host}` })) }, undefined);

  const written = await hostsCommand(config, dir, true);
  t.same(written.map((r) => `${r.registry}: ${r.result}`), [
    '10.0.0.1_5000_: written', '10.0.0.1:5000: written',
    '10.0.0.2_5000_: replaced', '10.0.0.2:5000: replaced',
    '10.0.0.3_5000_: written', '10.0.0.3:5000: written',
    '10.0.0.4_5000_: written', '10.0.0.4:5000: written',
    '_default: written',
  ]);
  for (const r of written) t.match(readFileSync(path.join(dir, r.registry, 'hosts.toml'), 'utf8'), /^# Written by `pullgate hosts`/, `${r.registry}: the gate's file`);
  t.equal(readFileSync(path.join(dir, '10.0.0.1_5000_/ca.crt'), 'utf8'), 'cert for 10.0.0.1\n', 'certificates stay in place');
  // A second install with another mirror address must not make pullgate's first file the "original".
  const moved = buildConfig({ listen: '127.0.0.1:6060', registries: config.registries.map((r) => ({ host: r.host, endpoint: r.endpoint.href })) }, undefined);
  await hostsCommand(moved, dir, true);

  await restoreCommand(dir);
  t.same(snapshot(dir), before, 'the same files, contents and directories as before install');
});

t.test('a backup an older pullgate made of its own file is not restored', async (t) => {
  const dir = certsDir({});
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await writeHostsFile(dir, 'ghcr.io', MIRROR);
  // What `pullgate hosts` did before it told its own file from an operator's: copied it as the backup.
  writeFileSync(path.join(dir, `ghcr.io/hosts.toml${BACKUP_SUFFIX}`), readFileSync(path.join(dir, 'ghcr.io/hosts.toml')));
  await writeHostsFile(dir, 'ghcr.io', 'http://127.0.0.1:6060');
  t.same(await restoreHostsFiles(dir), [{ registry: 'ghcr.io', result: 'removed' }]);
  t.notOk(existsSync(path.join(dir, 'ghcr.io')), 'no pullgate file left pointing at a mirror that is gone');
});
