// Long-running real peers (registry, containerd, nginx) as child processes we own.
// Each peer runs in its own process group (detached), logs by appending to a file, and is tracked
// in a global set so that it is killed by PID on stop(), on test teardown and, as a safety net,
// when this node process exits or is terminated by a signal (tap sends SIGTERM on timeout).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PeerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM to the PID, then SIGKILL to its process group if still alive after graceMs. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

const live = new Set<PeerProcess>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  // The peer is a group leader (detached), so -pid reaches it and only its own children
  // (e.g. nginx workers, which would otherwise survive a SIGKILLed master).
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

const stateDirs = new Set<string>();

function killAllNow(): void {
  for (const peer of live) killGroup(peer.pid, 'SIGKILL');
  live.clear();
  // Best effort: a SIGKILLed peer may still hold files for a moment; rm retries on ENOTEMPTY.
  for (const dir of [...stateDirs]) {
    try { removeStateDir(dir); } catch { /* leave it; it is under tmpdir */ }
  }
}

let hooksInstalled = false;

/** Installed on the first start, so merely importing the harness changes no signal behaviour. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow();
      // Any listener disables node's default "die on this signal". If ours was the only one, restore
      // the default and re-raise now. Otherwise (tap's signal-exit hooks are loaded into every test
      // process and child) each side would wait for the other to re-raise and the process would hang,
      // so give the others a moment for their own cleanup, then re-raise anyway.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      else setTimeout(() => process.kill(process.pid, signal), 1000).unref();
    };
    process.on(signal, onSignal);
  }
}

export async function startProcess(opts: StartProcessOptions): Promise<PeerProcess> {
  installExitHooks();
  const fd = openSync(opts.logFile, 'a');
  writeSync(fd, `--- ${new Date().toISOString()} start: ${opts.command} ${opts.args.join(' ')}\n`);
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`${opts.name}: cannot start ${opts.command}: ${err.message}`);
  }
  // Unref: a test that forgets stop() must not hang; the exit hook above kills the peer instead.
  child.unref();
  const pid = child.pid;
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(peer);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const peer: PeerProcess = {
    name: opts.name,
    pid,
    logFile: opts.logFile,
    exited,
    isRunning: () => running,
    async stop(graceMs = 5000) {
      if (running) {
        try { process.kill(pid, 'SIGTERM'); } catch { /* raced with exit */ }
        const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
        if (!gone) {
          killGroup(pid, 'SIGKILL');
          await Promise.race([exited, sleep(2000)]);
        }
      }
      live.delete(peer);
    },
  };
  live.add(peer);
  return peer;
}

/**
 * Whether a PID is a live process. A zombie counts as dead: an orphaned peer killed after its parent
 * exited waits for PID 1 to reap it, and kill(pid, 0) still succeeds on it until then.
 */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return '(no log)'; }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Poll `probe` until it returns true. Fails fast if the peer exits, and after timeoutMs; both errors
 * carry the log tail because "did not become ready" alone is useless when a daemon refuses a config.
 */
export async function waitUntilReady(peer: PeerProcess, what: string, probe: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    if (!peer.isRunning()) {
      const status = await peer.exited;
      throw new Error(`${peer.name} exited (${status}) before ${what}; log ${peer.logFile}:\n${logTail(peer.logFile)}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${peer.name}: ${what} not reached within ${timeoutMs} ms; log ${peer.logFile}:\n${logTail(peer.logFile)}`);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/** True when GET url answers with the expected status (default 200). */
export function httpProbe(url: string, expectStatus = 200): () => Promise<boolean> {
  return () => new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === expectStatus);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** True when a unix socket accepts a connection. */
export function socketProbe(path: string): () => Promise<boolean> {
  return () => connects(() => connect(path));
}

/** True when a TCP port on loopback accepts a connection (a TLS listener, before any HTTP can be asked). */
export function tcpProbe(port: number, host = '127.0.0.1'): () => Promise<boolean> {
  return () => connects(() => connect({ host, port }));
}

function connects(open: () => Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = open();
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

export interface ReadyPeer {
  readonly proc: PeerProcess;
  /** Stops the process and removes its state directory. */
  stop(): Promise<void>;
}

/**
 * startProcess, then each readiness check in order. A peer that never gets ready is stopped and its state
 * directory removed before the error is rethrown, so a failed start leaves nothing behind.
 */
export async function startReadyPeer(opts: StartProcessOptions, stateDir: string, checks: readonly (readonly [what: string, probe: () => Promise<boolean>])[]): Promise<ReadyPeer> {
  const proc = await startProcess(opts);
  const stop = async (): Promise<void> => {
    await proc.stop();
    removeStateDir(stateDir);
  };
  try {
    for (const [what, probe] of checks) await waitUntilReady(proc, what, probe);
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, stop };
}

export interface CommandResult { code: number; stdout: string; stderr: string; timedOut: boolean }

/** Run a short command with a hard time bound. code is -1 on timeout or spawn failure. */
export function runCommand(command: string, args: string[], timeoutMs = 60000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let spawnError = '';
    child.on('error', (e) => { spawnError = `${command}: ${e.message}\n`; });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: spawnError !== '' ? -1 : code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError + Buffer.concat(err).toString('utf8') + (timedOut ? `\n(timed out after ${timeoutMs} ms)` : ''),
        timedOut,
      });
    });
  });
}

/** A fresh scratch directory for one peer start. */
export function makeStateDir(prefix: string): string {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), `pullgate-${prefix}-`));
  stateDirs.add(dir);
  return dir;
}

/** Remove a peer's scratch directory unless PULLGATE_KEEP_PEER_STATE is set (for post-mortems). */
export function removeStateDir(dir: string): void {
  stateDirs.delete(dir);
  if (process.env.PULLGATE_KEEP_PEER_STATE) {
    process.stderr.write(`pullgate harness: keeping peer state in ${dir}\n`);
    return;
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
