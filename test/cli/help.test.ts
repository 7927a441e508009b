/**
 * CLI manners (issue #11): every command answers --help and -h with its own usage on stdout and exit 0,
 * without loading the config, starting anything or importing the command's module; `pullgate help COMMAND`
 * says the same; `pullgate --version` and `-v` print package.json's version. Runs the real bin.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../harness/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));
const HOOK = fileURLToPath(new URL('./record-modules.ts', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = ['serve', 'hosts', 'doctor', 'verify', 'webhook', 'help'] as const;
const GLOBAL_USAGE = 'usage: pullgate <command> [options]';
const USAGE_LINE: Record<(typeof COMMANDS)[number], string> = {
  serve: 'usage: pullgate serve [--config FILE]',
  hosts: 'usage: pullgate hosts [--config FILE] --dir DIR [--default]',
  doctor: 'usage: pullgate doctor [--config FILE] [--containerd-config PATH] [--certs-dir DIR] [--host-root DIR]',
  verify: 'usage: pullgate verify [--config FILE] [--json] REF',
  webhook: 'usage: pullgate webhook [--config FILE]',
  help: 'usage: pullgate help [COMMAND]',
};

const dir = mkdtempSync(join(tmpdir(), 'pullgate-help-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// A config that does not exist: loading it would fail with exit 2, so exit 0 proves it was not loaded.
const MISSING = join(dir, 'no-such-config.yaml');

/** Run the bin with the module recorder, and return the run and the project modules it loaded. */
async function pullgate(args: string[]) {
  const out = join(dir, `modules-${args.join('_').replace(/[^a-z0-9_-]/gi, '')}.txt`);
  const run = await runCommand('/usr/bin/env', [`PULLGATE_MODULES_OUT=${out}`, process.execPath, '--import', HOOK, BIN, ...args], 30_000);
  const modules = readFileSync(out, 'utf8').split('\n');
  return { ...run, commandModules: modules.filter((m) => m.startsWith('cli/') && m !== 'cli/main.ts' && m !== 'cli/usage.ts') };
}

/** Run each argument list, three at a time (each run is a node start-up). */
async function runAll<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]!();
  };
  await Promise.all([worker(), worker(), worker()]);
  return results;
}

const helpCases = COMMANDS.flatMap((command) => ['--help', '-h'].map((flag) => ({ command, flag })));
const helpRuns = await runAll(helpCases.map(({ command, flag }) => () => pullgate(command === 'help' ? [command, flag] : [command, '--config', MISSING, flag])));

helpCases.forEach(({ command, flag }, i) => {
  t.test(`pullgate ${command} ${flag}`, async (t) => {
    const r = helpRuns[i]!;
    t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
    t.equal(r.stdout.split('\n')[0], USAGE_LINE[command], 'its own usage line first');
    t.notOk(r.stdout.includes(GLOBAL_USAGE), 'not the global usage');
    t.match(r.stdout, /\nexit: /, 'says its exit codes');
    t.equal(r.stderr, '', 'nothing on stderr');
    t.same(r.commandModules, [], 'the command\'s module is not loaded');
  });
});

t.test('pullgate help COMMAND prints the same as COMMAND --help', async (t) => {
  const viaHelp = await runAll(COMMANDS.map((command) => () => runCommand(process.execPath, [BIN, 'help', command], 30_000)));
  COMMANDS.forEach((command, i) => {
    t.equal(viaHelp[i]!.code, 0);
    t.equal(viaHelp[i]!.stdout, helpRuns[helpCases.findIndex((c) => c.command === command)]!.stdout, `help ${command}`);
  });
  const unknown = await runCommand(process.execPath, [BIN, 'help', 'frobnicate'], 30_000);
  t.equal(unknown.code, 2, 'an unknown topic is a usage error');
  t.match(unknown.stderr, /unknown command "frobnicate"/);
});

t.test('the global usage: --help, -h and help exit 0; no command exits 2', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = await runCommand(process.execPath, [BIN, ...args], 30_000);
    t.equal(r.code, 0, args.join(' '));
    t.ok(r.stdout.startsWith(GLOBAL_USAGE), `${args.join(' ')}: the overview`);
    for (const command of COMMANDS) t.match(r.stdout, new RegExp(`\\n  ${command} `), `lists ${command}`);
  }
  const none = await runCommand(process.execPath, [BIN], 30_000);
  t.equal(none.code, 2);
  t.ok(none.stdout.startsWith(GLOBAL_USAGE));
});

t.test('--version and -v print package.json\'s version and load no command', async (t) => {
  for (const flag of ['--version', '-v']) {
    const r = await pullgate([flag]);
    t.equal(r.code, 0, flag);
    t.equal(r.stdout, `${PACKAGE.version}\n`, `${flag}: ${PACKAGE.version}`);
    t.same(r.commandModules, [], 'no command module');
  }
});

t.test('--help after -- is an argument, not a request for help', async (t) => {
  const r = await runCommand(process.execPath, [BIN, 'verify', '--config', MISSING, '--', '--help'], 30_000);
  t.equal(r.code, 2, 'verify ran and refused the missing config');
  t.equal(r.stdout, '');
});
