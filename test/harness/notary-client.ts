/**
 * The real `notary` client (Debian's notary 0.7.0) against the loopback notary-server (notary.ts), one trust
 * directory per client: the commands `docker trust` runs under the hood (REAL-PEERS §7). Passphrases come from
 * notary's NOTARY_*_PASSPHRASE variables, every run is bounded in time, and the environment is minimal (HOME is the
 * client's own directory) so nothing is read from or written to the real user's ~/.notary or ~/.docker.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDelegationKey, type DelegationKey, type DelegationKeyOptions } from './notary-pki.ts';

/** Test-only passphrases, one per key kind notary asks about. */
export const NOTARY_PASSPHRASES = {
  NOTARY_ROOT_PASSPHRASE: 'pullgate-test-root',
  NOTARY_TARGETS_PASSPHRASE: 'pullgate-test-targets',
  NOTARY_SNAPSHOT_PASSPHRASE: 'pullgate-test-snapshot',
  NOTARY_DELEGATION_PASSPHRASE: 'pullgate-test-delegation',
} as const;

export type NotaryCommandErrorCode = 'exit' | 'timeout' | 'spawn';

export class NotaryCommandError extends Error {
  readonly code: NotaryCommandErrorCode;
  readonly args: readonly string[];
  readonly output: string;
  constructor(code: NotaryCommandErrorCode, args: readonly string[], output: string) {
    super(`notary ${args.join(' ')}: ${code}\n${output.trimEnd()}`);
    this.name = 'NotaryCommandError';
    this.code = code;
    this.args = args;
    this.output = output;
  }
}

export interface NotaryRunResult { code: number; stdout: string; stderr: string }

export interface ListedTarget { name: string; sha256Hex: string; size: number; role: string }

/** `-p` publishes right away (as docker trust does); `publish: false` only stages, for a later publish(). */
export interface PublishOption { publish?: boolean }

export interface NotaryClient {
  readonly gun: string;
  /** The client's directory: client.json, its trust_dir (`trust/`) and the keys made by makeDelegationKey. */
  readonly dir: string;
  init(opts?: PublishOption): Promise<void>;
  /** A target by hash: exactly what `docker trust sign` writes for an image (manifest sha256 and byte length). */
  addHash(tag: string, size: number, sha256Hex: string, opts?: PublishOption & { role?: string }): Promise<void>;
  /** `delegation add` with the key's certificate or bare public key; all paths unless `paths` is given. */
  addDelegation(role: string, key: DelegationKey, opts?: PublishOption & { paths?: readonly string[] }): Promise<void>;
  importKey(privateKeyFile: string, role: string): Promise<void>;
  remove(tag: string, opts?: PublishOption & { role?: string }): Promise<void>;
  /** `echo yes | notary key rotate GUN root`: a new root key, the new root signed by the old and the new key. */
  rotateRoot(): Promise<void>;
  /** `notary key rotate GUN snapshot -r`: the server holds the snapshot key from now on, as after `docker push`. */
  rotateSnapshotToServer(): Promise<void>;
  publish(): Promise<void>;
  /** `notary list` (the client's view after verifying the server's data), in `role` or the default order. */
  list(role?: string): Promise<ListedTarget[]>;
  /** A fresh delegation key pair in this client's directory. */
  makeDelegationKey(name: string, opts: DelegationKeyOptions): Promise<DelegationKey>;
  /** Any notary command line (after `-c client.json`); resolves with a non-zero code instead of throwing. */
  run(args: readonly string[], input?: string): Promise<NotaryRunResult>;
}

export interface NotaryClientOptions {
  serverUrl: string;
  caFile: string;
  /** The directory to create the client in (must not exist yet, or be empty). */
  dir: string;
  /** Per-command bound; default 30 s (a command takes 50–300 ms on an idle machine). */
  timeoutMs?: number;
  /** Basic credentials for a token-auth server's realm, passed as notary's NOTARY_AUTH (base64 `user:password`). */
  auth?: { username: string; password: string };
}

const HEX64 = /^[0-9a-f]{64}$/;
// Arguments that start with '-' would be read as flags; notary has no `--` for positional arguments.
function positional(what: string, value: string): string {
  if (value === '' || value.startsWith('-') || value.length > 1024 || /[\0\n]/.test(value)) throw new Error(`notary client: bad ${what} ${JSON.stringify(value)}`);
  return value;
}

export function notaryClient(gun: string, opts: NotaryClientOptions): NotaryClient {
  positional('GUN', gun);
  const dir = opts.dir;
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'client.json');
  // Absolute paths: notary resolves a relative trust_dir against the working directory, not the config's.
  writeFileSync(config, JSON.stringify({ trust_dir: join(dir, 'trust'), remote_server: { url: opts.serverUrl, root_ca: opts.caFile } }) + '\n');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const notaryAuth: Record<string, string> = opts.auth ? { NOTARY_AUTH: Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64') } : {};

  const run = (args: readonly string[], input?: string): Promise<NotaryRunResult & { timedOut: boolean; spawnError?: string }> =>
    new Promise((resolve) => {
      const child = spawn('notary', ['-c', config, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...NOTARY_PASSPHRASES, ...notaryAuth },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      // Always an answer or EOF on stdin: a prompt we did not expect must fail, not wait for a terminal.
      child.stdin.on('error', () => { /* the child exited without reading */ });
      child.stdin.end(input ?? '');
      let spawnError: string | undefined;
      child.on('error', (e) => { spawnError = e.message; });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: spawnError !== undefined ? -1 : code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, spawnError });
      });
    });

  /** Runs and fails closed: anything but exit code 0 throws with notary's own output. */
  const must = async (args: string[], input?: string): Promise<string> => {
    const res = await run(args, input);
    if (res.spawnError !== undefined) throw new NotaryCommandError('spawn', args, res.spawnError);
    if (res.timedOut) throw new NotaryCommandError('timeout', args, `no exit within ${timeoutMs} ms\n${res.stdout}${res.stderr}`);
    if (res.code !== 0) throw new NotaryCommandError('exit', args, `exit ${res.code}\n${res.stdout}${res.stderr}`);
    return res.stdout;
  };
  const p = (o?: PublishOption): string[] => (o?.publish === false ? [] : ['-p']);
  const r = (role?: string): string[] => (role === undefined ? [] : ['-r', positional('role', role)]);

  return {
    gun,
    dir,
    async init(o) { await must(['init', gun, ...p(o)]); },
    async addHash(tag, size, sha256Hex, o) {
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`notary client: bad size ${size}`);
      if (!HEX64.test(sha256Hex)) throw new Error(`notary client: sha256 must be 64 lowercase hex digits, got ${JSON.stringify(sha256Hex)}`);
      await must(['addhash', gun, positional('tag', tag), String(size), '--sha256', sha256Hex, ...r(o?.role), ...p(o)]);
    },
    async addDelegation(role, key, o) {
      const paths = o?.paths === undefined ? ['--all-paths'] : o.paths.map((path) => `--paths=${path}`);
      await must(['delegation', 'add', gun, positional('role', role), key.publicFile, ...paths, ...p(o)]);
    },
    async importKey(privateKeyFile, role) { await must(['key', 'import', privateKeyFile, '-r', positional('role', role)]); },
    async remove(tag, o) { await must(['remove', gun, positional('tag', tag), ...r(o?.role), ...p(o)]); },
    // notary asks "Are you sure you want to proceed? (yes/no)" on the terminal and reads the answer from stdin.
    async rotateRoot() { await must(['key', 'rotate', gun, 'root'], 'yes\n'); },
    async rotateSnapshotToServer() { await must(['key', 'rotate', gun, 'snapshot', '-r']); },
    async publish() { await must(['publish', gun]); },
    async list(role) {
      const text = await must(['list', gun, ...r(role)]);
      // NAME  DIGEST  SIZE (BYTES)  ROLE, then a dashes line; "No targets present in this repository." when empty.
      return text.split('\n').slice(2).map((line) => line.trim().split(/\s+/)).filter((cols) => cols.length === 4 && HEX64.test(cols[1]!))
        .map(([name, sha256Hex, size, listedRole]) => ({ name: name!, sha256Hex: sha256Hex!, size: Number(size), role: listedRole! }));
    },
    makeDelegationKey: (name, o) => makeDelegationKey(dir, name, o),
    async run(args, input) {
      const res = await run(args, input);
      return { code: res.code, stdout: res.stdout, stderr: res.stderr + (res.spawnError ?? '') + (res.timedOut ? `\n(timed out after ${timeoutMs} ms)` : '') };
    },
  };
}
