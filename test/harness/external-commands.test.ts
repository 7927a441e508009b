/**
 * `npm test` on a fresh machine: every external command the suite can start is installed by the pretest
 * (TEST_PEERS in ensure-peers.ts), is a file Debian always has, or is explicitly optional with the reason — so
 * the next missing install step fails here, in CI, and not on a user's machine (issue #11: nginx and openssl
 * were installed only by the bench). The commands are found by reading the source (external-commands.ts).
 */
import t from 'tap';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_PEERS, TEST_PEERS } from './ensure-peers.ts';
import { scanExternalCommands, tsFilesUnder, type SpawnSite } from './external-commands.ts';

const ROOT = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));

/** Absolute paths every Debian system has (from Essential: yes packages), spawned without a PATH lookup. */
const ALWAYS_PRESENT: Record<string, string> = { '/usr/bin/env': 'coreutils, Essential: yes' };
/** Commands a test runs that the pretest does not install, and how a test says so when they are missing. */
const OPTIONAL: Record<string, string> = {
  kubectl: 'no Debian 12 package has a kubectl >= 1.21 (kubernetes-client 1.20 cannot render daemonset/); ' +
    'test/daemonset/render.test.ts prints why and counts each kubectl kustomize comparison it cannot make as a skip',
};
/** Spawn sites whose command is a parameter (key: file, enclosing function, call), and why that is fine. */
const UNRESOLVED_OK: Record<string, string> = {
  'test/harness/processes.ts startProcess spawn(opts.command)': 'startProcess itself: every caller\'s command: is checked',
  'test/harness/processes.ts startReadyPeer startProcess(opts)': 'startReadyPeer passes its caller\'s options on: every caller\'s command: is checked',
  'test/harness/processes.ts runCommand spawn(command)': 'runCommand itself: every caller is checked',
  'test/harness/ensure-peers.ts run spawnSync(command)': 'the pretest running apt-get, which it looks up first and, when absent, names what to install instead',
};
/** Dynamic imports of a computed specifier (key: file and call), and why what they load spawns nothing. */
const COMPUTED_IMPORT_OK: Record<string, string> = {
  'test/daemonset/schemas.ts import(modelModule(o))': 'loads a kubernetes-models (or @kubernetes-models) schema class from node_modules',
};
/** TEST_PEERS binaries that no test spawns itself, and which peer runs them. */
const RUN_BY_PEERS: Record<string, string> = { runc: 'containerd runs every container with it' };

const key = (s: SpawnSite): string => `${s.file} ${s.enclosing?.name ?? '(top level)'} ${s.via}(${s.command.kind === 'unresolved' ? s.command.expr : ''})`;
const where = (s: SpawnSite): string => `${s.file}:${s.line} ${s.via}`;

const testFiles = tsFilesUnder(path.join(ROOT, 'test'));
const scan = scanExternalCommands(ROOT, [...testFiles, path.join(ROOT, 'bin/pullgate.ts')]);
const testText = testFiles.map((f) => readFileSync(f, 'utf8')).join('\n');

/**
 * A command in a module outside test/ counts unless it sits in an exported bench function no test mentions
 * (e.g. the bench's socat relay): those belong to `npm run bench`, which installs BENCH_PEERS.
 */
function benchOnly(s: SpawnSite): boolean {
  return s.file.startsWith('bench/') && s.enclosing?.exported === true && !new RegExp(`\\b${s.enclosing.name}\\b`).test(testText);
}

t.test('the scanner sees every way of spawning, and refuses what it cannot follow', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-commands-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'a.ts'), `import { spawn as sp, execSync } from 'node:child_process';
import * as cp from 'node:child_process';
import { runCommand, startReadyPeer } from './b.ts';
sp('alpha', []);
cp.execFileSync('beta', []);
execSync('gamma --flag');
await startReadyPeer({ name: 'd', command: 'delta', args: [], logFile: 'x' }, '/tmp', []);
await runCommand(process.execPath, []);
const which = 'zeta';
sp(which, []);
`);
  writeFileSync(path.join(dir, 'b.ts'), `import { spawn } from 'child_process';
export async function benchThing() { spawn('epsilon', []); }
export function runCommand(..._a: unknown[]) {}
export function startReadyPeer(..._a: unknown[]) {}
await import('./c.ts');
await import(\`./\${'d'}.ts\`);
`);
  writeFileSync(path.join(dir, 'c.ts'), `const cp = await import('node:child_process');\n`);
  const got = scanExternalCommands(dir, [path.join(dir, 'a.ts')]);
  t.same(got.files, ['a.ts', 'b.ts', 'c.ts'], 'follows static and dynamic relative imports');
  const names = got.sites.map((s) => (s.command.kind === 'literal' ? s.command.name : s.command.kind === 'node' ? 'node' : `?${s.command.expr}`));
  t.same(names.sort(), ['?which', 'alpha', 'beta', 'delta', 'epsilon', 'gamma', 'node'].sort());
  t.same(got.sites.find((s) => s.command.kind === 'literal' && s.command.name === 'epsilon')?.enclosing, { name: 'benchThing', exported: true });
  t.match(got.problems, [/c\.ts:1: loads child_process dynamically/]);
  t.match(got.computedImports, [{ file: 'b.ts', line: 6 }], 'a computed import() is reported');
});

t.test('every spawn in the suite has a command we can name', async (t) => {
  t.same(scan.problems, [], 'every module that spawns can be read');
  for (const c of scan.computedImports) t.ok(`${c.file} ${c.expr}` in COMPUTED_IMPORT_OK, `${c.file}:${c.line}: ${c.expr} cannot be followed; vouch for it in COMPUTED_IMPORT_OK`);
  for (const k of Object.keys(COMPUTED_IMPORT_OK)) t.ok(scan.computedImports.some((c) => `${c.file} ${c.expr}` === k), `COMPUTED_IMPORT_OK entry still matches an import: ${k}`);
  t.ok(scan.files.includes('bench/peers.ts') && scan.files.includes('cli/main.ts'), 'bench modules the tests import, and the bin the tests run, are scanned');
  const unresolved = scan.sites.filter((s) => s.command.kind === 'unresolved');
  for (const s of unresolved) t.ok(key(s) in UNRESOLVED_OK, `${where(s)}: command ${s.command.kind === 'unresolved' ? s.command.expr : ''} is a literal, process.execPath, or allowed in UNRESOLVED_OK (${key(s)})`);
  for (const k of Object.keys(UNRESOLVED_OK)) t.ok(unresolved.some((s) => key(s) === k), `UNRESOLVED_OK entry still matches a spawn: ${k}`);
});

t.test('every command a test runs is installed by the pretest, always present, or explicitly optional', async (t) => {
  const byName = new Map<string, SpawnSite[]>();
  for (const s of scan.sites) if (s.command.kind === 'literal') byName.set(s.command.name, [...(byName.get(s.command.name) ?? []), s]);
  t.ok(byName.size > 0, 'the scan found literal commands');
  for (const [name, sites] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const used = sites.filter((s) => !benchOnly(s));
    const at = sites.map(where).join(', ');
    if (used.length === 0) {
      t.ok(name in BENCH_PEERS, `${name}: bench only (${at}), installed by npm run bench`);
      continue;
    }
    const how = path.isAbsolute(name) ? (ALWAYS_PRESENT[name] !== undefined ? `always present (${ALWAYS_PRESENT[name]})` : undefined)
      : TEST_PEERS[name] !== undefined ? `pretest installs Debian package ${TEST_PEERS[name]}`
      : OPTIONAL[name] !== undefined ? `optional: ${OPTIONAL[name]}`
      : undefined;
    t.ok(how !== undefined, `${name} (${at}): ${how ?? 'NOT installed by the pretest: add it to TEST_PEERS in test/harness/ensure-peers.ts'}`);
  }
  for (const name of Object.keys(TEST_PEERS)) {
    t.ok(byName.has(name) || name in RUN_BY_PEERS, `TEST_PEERS ${name}: ${byName.has(name) ? 'spawned by the tests' : RUN_BY_PEERS[name] ?? 'spawned by no test and run by no peer (stale?)'}`);
  }
});

t.test('every test peer is on PATH, where the tests\' spawn looks for it', async (t) => {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of Object.keys(TEST_PEERS)) {
    const found = dirs.map((d) => path.join(d, name)).find((f) => {
      try {
        accessSync(f, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    t.ok(found !== undefined, `${name} on PATH${found !== undefined ? ` (${found})` : `: missing; run \`node test/harness/ensure-peers.ts\` (npm test's pretest) or add its directory to PATH`}`);
  }
});
