/**
 * `pullgate serve` as a real child process (the installed bin, as the DaemonSet runs it), on free loopback
 * ports with its config, notation folder and log in a fresh state dir.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/ports.ts';
import { httpProbe, makeStateDir, startProcess, waitUntilReady, runCommand, type CommandResult } from '../harness/processes.ts';
import { metricValue } from '../proxy/gate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VECTORS = join(ROOT, 'test/vectors');
const BIN = join(ROOT, 'bin/pullgate.ts');

export interface TrustStoreFiles {
  /** `ca/e2e` → certificate files copied into truststore/x509/ca/e2e/. */
  readonly [typeAndName: string]: readonly string[];
}

export interface PullgateProcess {
  readonly url: string;
  readonly host: string;
  readonly adminUrl: string;
  readonly dir: string;
  readonly configFile: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  metric(name: string, labels: Record<string, string>): Promise<number>;
  logLines(): Record<string, unknown>[];
  /** `pullgate <args> --config <configFile>` with the same binary. */
  cli(args: string[]): Promise<CommandResult>;
  stop(): Promise<void>;
}

export interface PullgateSetup {
  readonly registries: readonly { host: string; endpoint: string; blobRedirects?: string; caFile?: string }[];
  readonly trustPolicy: unknown;
  readonly trustStores?: TrustStoreFiles;
  readonly extra?: Record<string, unknown>;
  /** The script node runs (default bin/pullgate.ts, the sources); e.g. the bundle, dist/pullgate.mjs. */
  readonly entry?: string;
  /** Node flags before the script (e.g. V8 heap sizing), as the container image passes them. */
  readonly nodeArgs?: readonly string[];
  /** The process's environment (default: this process's), e.g. to try a malloc tunable. */
  readonly env?: NodeJS.ProcessEnv;
}

export function writeNotationDir(dir: string, trustPolicy: unknown, stores: TrustStoreFiles = {}): string {
  const notation = join(dir, 'notation');
  mkdirSync(notation, { recursive: true });
  writeFileSync(join(notation, 'trustpolicy.oci.json'), JSON.stringify(trustPolicy, null, 2));
  for (const [typeAndName, files] of Object.entries(stores)) {
    const target = join(notation, 'truststore/x509', typeAndName);
    mkdirSync(target, { recursive: true });
    for (const f of files) cpSync(f, join(target, f.split('/').pop()!));
  }
  return notation;
}

export async function startPullgate(setup: PullgateSetup): Promise<PullgateProcess> {
  const dir = makeStateDir('pullgate');
  const [port, adminPort] = [await freePort(), await freePort()];
  writeNotationDir(dir, setup.trustPolicy, setup.trustStores);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({
    listen: `127.0.0.1:${port}`,
    admin: `127.0.0.1:${adminPort}`,
    registries: setup.registries,
    notation: { configDir: './notation' },
    logLevel: 'debug',
    ...setup.extra,
  }, null, 2));
  const logFile = join(dir, 'pullgate.log');
  const entry = setup.entry ?? BIN;
  const proc = await startProcess({ name: 'pullgate', command: process.execPath, args: [...(setup.nodeArgs ?? []), entry, 'serve', '--config', configFile], logFile, ...(setup.env === undefined ? {} : { env: setup.env }) });
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitUntilReady(proc, 'pullgate', httpProbe(`${adminUrl}/healthz`), 15_000);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    adminUrl,
    dir,
    configFile,
    pid: proc.pid,
    exited: proc.exited,
    metric: (name, labels) => metricValue(adminUrl, name, labels),
    logLines: () => readFileSync(logFile, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    cli: (args) => runCommand(process.execPath, [...(setup.nodeArgs ?? []), entry, ...args, '--config', configFile], 30_000),
    stop: () => proc.stop(),
  };
}
