/**
 * Footprint and start-up of `pullgate serve` (issue 16): idle RSS, RSS while it streams blobs and verifies new
 * signed images, and the time from exec to `/healthz` 200 on the admin port — for the TypeScript sources (what
 * `npm start` and the tests run), the bundle (`npm run build` → dist/pullgate.mjs) and the bundle with the V8
 * flags the container image passes, each next to a bare `node -e` HTTP server measured in the same run.
 *
 * RSS is resident memory from /proc (anonymous + file-backed pages of the node binary it touched); a pod's
 * memory limit counts the same pages. Start-up is the median of several execs of the same config.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle, IMAGE_ENV, IMAGE_NODE_FLAGS } from '../scripts/build.ts';
import { IMAGE_ENV_TEXT } from './image-gate.ts';
import { startRegistry } from './peers.ts';
import { curlThroughput } from './load.ts';
import type { BenchRow } from './pull-path.ts';
import { MANIFEST_ACCEPT, MEDIA, pushLargeImage, pushTestImage, type PushedImage } from '../test/harness/images.ts';
import { startPullgate, VECTORS, type PullgateProcess } from '../test/e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';
import { freePort } from '../test/harness/ports.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BLOB_MIB = 64;

interface Variant {
  readonly name: string;
  readonly entry: string;
  readonly nodeArgs: readonly string[];
  /** Added to this process's environment (the image's malloc tunables). */
  readonly env?: Readonly<Record<string, string>>;
}

function residentKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** utime + stime of a process in ms (/proc/<pid>/stat fields 14 and 15, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function healthz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Spawns `args` under node and polls `/healthz` on `port` every 2 ms until 200 (or 60 s); returns the ms from
 * spawn to the first 200, the process's RSS once it has settled for `settleMs`, and stops it.
 */
async function execToReady(args: readonly string[], port: number, settleMs: number, env: Readonly<Record<string, string>> = {}): Promise<{ readyMs: number; cpuMs: number; rssKiB: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  const keep = (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    // Generous: on a shared, busy machine the sources have taken 7 s to start.
    const deadline = started + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode}: ${stderr}`);
      if ((await healthz(port)) === 200) break;
      if (performance.now() > deadline) throw new Error(`${args.join(' ')}: no /healthz 200 within 60 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    const readyMs = performance.now() - started;
    // CPU time to ready does not depend on what else the shared cores run; wall time does.
    const cpu = cpuMs(child.pid!);
    await new Promise((r) => setTimeout(r, settleMs));
    return { readyMs, cpuMs: cpu, rssKiB: residentKiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

/** The floor: Node itself with one HTTP server answering /healthz, nothing else loaded. */
function baselineArgs(port: number): string[] {
  return ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`];
}

async function pushSignedImages(registryUrl: string, prefix: string, n: number): Promise<PushedImage[]> {
  const signer = e2eSigner();
  const images: PushedImage[] = [];
  for (let i = 0; i < n; i++) {
    const img = await pushTestImage(registryUrl, `${prefix}${i}`, 'v1', `footprint image ${prefix}${i}`);
    await signInRegistry(registryUrl, img.repo, { mediaType: MEDIA.manifest, digest: img.manifest.digest, size: img.manifest.size }, signer);
    images.push(img);
  }
  return images;
}

/**
 * The load: `clients` curl clients streaming the 64 MiB layer through the gate, while new signed images are
 * decided (resolved, discovered, fetched, verified) one after another alongside. Returns the peak RSS.
 */
async function underLoad(gate: PullgateProcess, ns: string, blobPath: string, blobBytes: number, fresh: readonly PushedImage[]): Promise<number> {
  let peak = residentKiB(gate.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, residentKiB(gate.pid))), 25);
  try {
    const decide = async () => {
      for (const img of fresh) {
        const res = await fetch(`${gate.url}/v2/${img.repo}/manifests/v1${ns}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
        if (res.headers.get('docker-content-digest') !== img.manifest.digest) throw new Error(`${img.repo} was not allowed (${res.status})`);
      }
    };
    await Promise.all([curlThroughput(`${gate.url}${blobPath}${ns}`, { clients: 4, rounds: 3, expectBytes: blobBytes }), decide(), decide()]);
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, residentKiB(gate.pid));
}

export async function benchFootprint(opts: { starts: number; freshImages: number; loads: number }): Promise<BenchRow[]> {
  await buildBundle();
  const variants: Variant[] = [
    { name: 'TypeScript sources: node bin/pullgate.ts', entry: join(ROOT, 'bin/pullgate.ts'), nodeArgs: [] },
    { name: 'bundle: node dist/pullgate.mjs', entry: join(ROOT, 'dist/pullgate.mjs'), nodeArgs: [] },
    {
      name: `the image: ${IMAGE_ENV_TEXT} node ${IMAGE_NODE_FLAGS.join(' ')} dist/pullgate.mjs`,
      entry: join(ROOT, 'dist/pullgate.mjs'),
      nodeArgs: IMAGE_NODE_FLAGS,
      env: IMAGE_ENV,
    },
  ];
  const registry = await startRegistry({ quiet: true });
  try {
    const large = await pushLargeImage(registry.url, 'footprint/big', 'v1', BLOB_MIB * 1024 * 1024);
    const blobPath = `/v2/footprint/big/blobs/${large.layer.digest}`;
    const ns = `?ns=${encodeURIComponent(registry.host)}`;
    const idle: [string, number, string][] = [];
    const loaded: [string, number, string][] = [];
    const ready: [string, number, string][] = [];

    // The floor, measured the same way: exec → first 200 and settled RSS of a bare node HTTP server.
    const basePort = await freePort();
    const baseRuns = [];
    for (let i = 0; i < opts.starts; i++) baseRuns.push(await execToReady(baselineArgs(basePort), basePort, 1000));
    const baseReady = median(baseRuns.map((r) => r.readyMs));
    const baseRss = median(baseRuns.map((r) => r.rssKiB)) / 1024;
    const floor = 'baseline: bare node -e with one HTTP server';
    idle.push([floor, baseRss, `node ${process.version}`]);
    ready.push([floor, baseReady, `median of ${opts.starts} execs; CPU to ready ${median(baseRuns.map((r) => r.cpuMs)).toFixed(0)} ms`]);

    for (const [i, v] of variants.entries()) {
      // One gate per load round: the peak that matters is a gate's first contact with load (pools, caches,
      // V8's code and heap growing), and one round's peak moves by several MiB from run to run, so the row is
      // the median of `loads` rounds with every round's peak beside it.
      const idles: number[] = [];
      const peaks: number[] = [];
      let configFile = '';
      let adminPort = 0;
      for (let round = 0; round < opts.loads; round++) {
        const fresh = await pushSignedImages(registry.url, `footprint/v${i}r${round}-`, opts.freshImages);
        const gate = await startPullgate({
          registries: [{ host: registry.host, endpoint: registry.url }],
          trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
          trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
          extra: { logLevel: 'warn' },
          entry: v.entry,
          nodeArgs: v.nodeArgs,
          ...(v.env === undefined ? {} : { env: { ...process.env, ...v.env } }),
        });
        try {
          await new Promise((r) => setTimeout(r, 1000));
          idles.push(residentKiB(gate.pid) / 1024);
          peaks.push((await underLoad(gate, ns, blobPath, large.layer.size, fresh)) / 1024);
        } finally {
          await gate.stop();
        }
        configFile = gate.configFile;
        adminPort = Number(new URL(gate.adminUrl).port);
      }
      const each = (xs: readonly number[]) => (xs.length > 1 ? `; median of ${xs.length} gates (each: ${xs.map((x) => x.toFixed(1)).join(' / ')} MiB)` : '; one gate');
      idle.push([v.name, median(idles), `trust policy and store loaded, no pull yet${each(idles)}`]);
      loaded.push([v.name, median(peaks), `peak while 4 clients stream ${BLOB_MIB} MiB × 3 each and ${opts.freshImages} new signed images are verified, 2 at a time${each(peaks)}`]);
      // Start-up with the same config (its ports are free again once the gate stopped).
      const runs = [];
      for (let n = 0; n < opts.starts; n++) runs.push(await execToReady([...v.nodeArgs, v.entry, 'serve', '--config', configFile], adminPort, 0, v.env));
      const times = runs.map((r) => r.readyMs);
      ready.push([v.name, median(times), `median of ${opts.starts} execs (${times.map((t) => t.toFixed(0)).join(' / ')} ms); CPU to ready ${median(runs.map((r) => r.cpuMs)).toFixed(0)} ms`]);
    }

    const rows: BenchRow[] = [];
    const group = (name: string, unit: string, results: [string, number, string][]) => {
      const base = results[0]![1];
      for (const [target, value, note] of results) rows.push({ group: name, target, value, unit, ratio: value / base, note });
    };
    group('serve idle RSS (target ≤ 64 MiB; ratio = × bare node)', 'MiB', idle);
    rows.push(...loaded.map(([target, value, note]) => ({ group: 'serve RSS under pull load (target ≤ 96 MiB; ratio = × bare node idle)', target, value, unit: 'MiB', ratio: value / baseRss, note })));
    group('serve start-up: exec → /healthz 200 (target ≤ 300 ms; ratio = × bare node)', 'ms', ready);
    return rows;
  } finally {
    await registry.stop();
  }
}
