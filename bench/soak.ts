/**
 * Soak (issue 16.4), for `npm run bench`, not for tests: a few minutes of mixed traffic against one `pullgate
 * serve` (the bundle, with the image's V8 flags) whose upstream misbehaves (bench/soak-upstream.ts: resets,
 * stalls, 503s, blobs cut short), while its config file and trust policy are rewritten every few seconds so it
 * reloads them. Short cache lifetimes make it decide again and again instead of serving one cached answer.
 *
 * Reported: RSS (and its anonymous part), the V8 heap, memory held outside it, open file descriptors and
 * event-loop delay (p99 over a window, the gate's own prom-client metric), sampled every 30 s; the rows give
 * the raw first sample, then start (after the warm-up, WARM_UP_SECONDS), middle and end — flat from start to
 * end means no leak of memory, sockets or timers — and the answers:
 * a wrong answer is a 200 for an unsigned image, or a 200 whose bytes do not match their digest. Refusals of
 * signed images while the upstream fails are fail-closed answers, counted apart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gateBuild } from './image-gate.ts';
import { startRegistry } from './peers.ts';
import type { BenchRow } from './pull-path.ts';
import { startFaultyUpstream } from './soak-upstream.ts';
import { MANIFEST_ACCEPT, MEDIA, pushTestImage, pushLargeBlob, type PushedImage } from '../test/harness/images.ts';
import { startPullgate, VECTORS } from '../test/e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';

interface Sample {
  /** Seconds since the traffic started. */
  readonly at: number;
  readonly rssMiB: number;
  /** From /proc/<pid>/smaps_rollup: anonymous (heap, malloc arenas, Buffers) vs file-backed (code, libraries). */
  readonly anonMiB: number;
  /** From the gate's prom-client metrics: where the RSS is (V8 heap used / committed, memory outside it). */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly fds: number;
  /** Open descriptors by kind (socket, anon_inode:[eventpoll], pipe, /dev/null, files). */
  readonly fdKinds: Readonly<Record<string, number>>;
  readonly loopP99Ms: number;
}

function rssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

function anonMiB(pid: number): number {
  return Number(/^Anonymous:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) / 1024;
}

function fdKinds(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the readlink
    }
    const kind = target.startsWith('socket:') ? 'socket' : target.startsWith('pipe:') ? 'pipe' : target.startsWith('anon_inode:') ? target : target.startsWith('/dev/') ? target : 'file';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

async function gateMetrics(adminUrl: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Least-squares slope of [seconds, value] points, per minute (0 for fewer than two distinct times). */
export function slopePerMinute(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return sxx === 0 ? 0 : (sxy / sxx) * 60;
}

export interface SoakOptions {
  readonly seconds: number;
  readonly workers: number;
  /** Seconds of traffic before the `start` sample (see WARM_UP_SECONDS). */
  readonly warmUpSeconds?: number;
  /** Seconds between timeline samples (each also waits a 5 s loop-delay window). */
  readonly everySeconds?: number;
  /** Diagnostics: write the timeline and the gate's /proc/<pid>/smaps at every sample here. */
  readonly probeDir?: string;
  /**
   * Diagnostics, not for the README numbers: also a V8 heap snapshot into probeDir at the start and end samples
   * (a snapshot pauses the gate and inflates its RSS for the rest of the run).
   */
  readonly heapSnapshots?: boolean;
  /** Added to the gate's environment after the image's (IMAGE_ENV), e.g. to try another malloc tunable. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Why `start` is not the first sample. Measured (issue 16.4; a 10-minute run sampled every 30 s with the gate's
 * /proc/<pid>/smaps and heap snapshots at 1 and 5 minutes): RSS rises ~23 MiB in the first minute and ~9 MiB
 * more over the next four, then stays within ~1 MiB. None of it is held by JavaScript objects — the two heap
 * snapshots hold the same objects (one UpstreamClient per config reload still in its 30 s grace, ~16 pooled
 * splice connections, the in-flight requests) and V8's used heap stays at 15–17 MiB. It is bounded things
 * reaching their working size: glibc's main heap (brk) growing to the high-water mark of Buffers alive at once
 * (the blob splicer's 1 MiB rings, undici bodies; `nodejs_external_memory_bytes` swings 13–28 MiB) and not
 * giving fragmented space back, the thread arenas of libuv's and V8's workers, JIT code (2 → 5 MiB) and V8's
 * committed heap (17 → 22 MiB). `start` is therefore the first sample after a minute of traffic; the raw first
 * sample (10 s in) is reported beside it, and every sample in between in the note, so the warm-up stays visible.
 */
export const WARM_UP_SECONDS = 60;

export async function benchSoak(opts: SoakOptions): Promise<BenchRow[]> {
  const build = await gateBuild('image');
  const registry = await startRegistry({ quiet: true });
  const stops: (() => Promise<void>)[] = [async () => build.remove(), () => registry.stop()];
  try {
    const upstream = await startFaultyUpstream(registry.host, { reset: 0.03, stall: 0.02, status503: 0.04, cutBody: 0.1 });
    stops.push(() => upstream.close());
    const signer = e2eSigner();
    const signed: PushedImage[] = [];
    const unsigned: PushedImage[] = [];
    for (let i = 0; i < 12; i++) {
      const img = await pushTestImage(registry.url, `soak/signed${i}`, 'v1', `soak signed ${i}`);
      await signInRegistry(registry.url, img.repo, { mediaType: MEDIA.manifest, digest: img.manifest.digest, size: img.manifest.size }, signer);
      signed.push(img);
      unsigned.push(await pushTestImage(registry.url, `soak/unsigned${i}`, 'v1', `soak unsigned ${i}`));
    }
    const blob = await pushLargeBlob(registry.url, 'soak/signed0', 1024 * 1024, 'soak');
    const policy = (name: string) => ({ version: '1.0', trustPolicies: [{ name, registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] });
    const config = (denyTtlMs: number) => ({
      reloadIntervalMs: 500,
      upstream: { headersTimeoutMs: 1500, bodyTimeoutMs: 1500, manifestTimeoutMs: 2000, connectTimeoutMs: 1000 },
      cache: { allowTtlMs: 2000, denyTtlMs },
      logLevel: 'warn',
    });
    const gate = await startPullgate({
      registries: [{ host: upstream.host, endpoint: upstream.url }],
      trustPolicy: policy('soak-a'),
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: config(1000),
      // As the pod runs it: the image's flags and environment plus the DaemonSet's NODE_OPTIONS heap cap.
      entry: build.setup.entry,
      nodeArgs: [...build.setup.nodeArgs, ...(opts.probeDir === undefined || opts.heapSnapshots !== true ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${opts.probeDir}`])],
      env: { ...build.setup.env, ...opts.env },
    });
    stops.push(() => gate.stop());
    const ns = `?ns=${encodeURIComponent(upstream.host)}`;
    const baseConfig = JSON.parse(readFileSync(gate.configFile, 'utf8')) as Record<string, unknown>;

    const tally = { ops: 0, ok: 0, refusedSigned: 0, deniedUnsigned: 0, blobsVerified: 0, blobsCut: 0, wrong: 0, reloads: 0 };
    const wrong: string[] = [];
    const flagWrong = (what: string) => {
      tally.wrong++;
      if (wrong.length < 5) wrong.push(what);
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    /** A denial note's digest must never be served: its GET is refused (a 403 with the reason). */
    const noteIsRefused = async (repo: string, digest: string, signal: AbortSignal): Promise<boolean> => {
      const res = await fetch(`${gate.url}/v2/${repo}/manifests/${digest}${ns}`, { headers: { accept: MANIFEST_ACCEPT }, signal });
      await res.arrayBuffer();
      return res.status !== 200;
    };
    const one = async () => {
      const x = Math.random();
      const signal = AbortSignal.timeout(15_000);
      tally.ops++;
      try {
        if (x < 0.45) {
          const img = pick(signed);
          const method = x < 0.25 ? 'HEAD' : 'GET';
          const ref = x < 0.35 ? 'v1' : img.manifest.digest;
          const res = await fetch(`${gate.url}/v2/${img.repo}/manifests/${ref}${ns}`, { method, headers: { accept: MANIFEST_ACCEPT }, signal });
          const body = Buffer.from(await res.arrayBuffer());
          if (res.status !== 200) return void tally.refusedSigned++;
          const answered = res.headers.get('docker-content-digest');
          if (answered !== img.manifest.digest) {
            // A denied HEAD by tag answers a denial note's digest (proxy/denial-notes.ts): never servable.
            if (method === 'HEAD' && ref === 'v1' && answered !== null && (await noteIsRefused(img.repo, answered, signal))) return void tally.refusedSigned++;
            return flagWrong(`${method} ${img.repo}:${ref} answered digest ${answered}`);
          }
          if (method === 'GET' && `sha256:${createHash('sha256').update(body).digest('hex')}` !== img.manifest.digest) return flagWrong(`GET ${img.repo}:${ref} bytes do not match`);
          tally.ok++;
        } else if (x < 0.75) {
          const img = pick(unsigned);
          const method = x < 0.6 ? 'HEAD' : 'GET';
          const res = await fetch(`${gate.url}/v2/${img.repo}/manifests/v1${ns}`, { method, headers: { accept: MANIFEST_ACCEPT }, signal });
          await res.arrayBuffer();
          const answered = res.headers.get('docker-content-digest');
          if (res.status === 200 && (method === 'GET' || answered === img.manifest.digest)) return flagWrong(`${method} unsigned ${img.repo}:v1 was served`);
          if (res.status === 200 && (answered === null || !(await noteIsRefused(img.repo, answered, signal)))) return flagWrong(`HEAD unsigned ${img.repo}:v1 answered ${answered}, and its GET was served`);
          tally.deniedUnsigned++;
        } else {
          const res = await fetch(`${gate.url}/v2/soak/signed0/blobs/${blob.digest}${ns}`, { signal });
          if (res.status !== 200) {
            await res.arrayBuffer();
            return void tally.blobsCut++;
          }
          const hash = createHash('sha256');
          let bytes = 0;
          try {
            for await (const chunk of res.body!) {
              hash.update(chunk);
              bytes += chunk.length;
            }
          } catch {
            return void tally.blobsCut++; // cut short: the client sees an error, as containerd would
          }
          if (bytes !== blob.size) return void tally.blobsCut++;
          if (`sha256:${hash.digest('hex')}` !== blob.digest) return flagWrong('a complete blob did not match its digest');
          tally.blobsVerified++;
        }
      } catch {
        tally.refusedSigned++; // the gate cut or timed out the answer: fail closed
      }
    };

    let running = true;
    const workers = Array.from({ length: opts.workers }, async () => {
      while (running) await one();
    });
    // Reloads: the config (cache lifetime toggled) every 3 s, the trust policy (renamed) every 5 s.
    const reloader = (async () => {
      let n = 0;
      while (running) {
        await sleep(1000);
        n++;
        if (n % 3 === 0) {
          writeFileSync(gate.configFile, JSON.stringify({ ...baseConfig, cache: { allowTtlMs: 2000, denyTtlMs: n % 2 === 0 ? 1000 : 1500 } }, null, 2));
          tally.reloads++;
        }
        if (n % 5 === 0) {
          writeFileSync(join(gate.dir, 'notation/trustpolicy.oci.json'), JSON.stringify(policy(n % 2 === 0 ? 'soak-a' : 'soak-b'), null, 2));
          tally.reloads++;
        }
      }
    })();

    const t0 = performance.now();
    const sample = async (): Promise<Sample> => {
      await gateMetrics(gate.adminUrl); // prom-client resets the event-loop histogram at each scrape: open a window
      await sleep(5000);
      const m = await gateMetrics(gate.adminUrl);
      const mib = (name: string) => m(name) / 2 ** 20;
      const kinds = fdKinds(gate.pid);
      const s: Sample = {
        at: Math.round((performance.now() - t0) / 1000),
        rssMiB: rssMiB(gate.pid),
        anonMiB: anonMiB(gate.pid),
        heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
        heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
        externalMiB: mib('nodejs_external_memory_bytes'),
        fds: Object.values(kinds).reduce((a, b) => a + b, 0),
        fdKinds: kinds,
        loopP99Ms: m('nodejs_eventloop_lag_p99_seconds') * 1000,
      };
      if (opts.probeDir !== undefined) {
        writeFileSync(join(opts.probeDir, `smaps-${s.at}s.txt`), readFileSync(`/proc/${gate.pid}/smaps`, 'utf8'));
        writeFileSync(join(opts.probeDir, 'timeline.jsonl'), `${JSON.stringify({ ...s, tally })}\n`, { flag: 'a' });
      }
      return s;
    };
    /** A heap snapshot (diagnostics only): the gate writes it into probeDir on SIGUSR2. */
    const snapshot = async (): Promise<void> => {
      if (opts.probeDir === undefined || opts.heapSnapshots !== true) return;
      const dir = opts.probeDir;
      const count = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).length;
      const before = count();
      process.kill(gate.pid, 'SIGUSR2');
      const deadline = Date.now() + 120_000;
      while (count() === before && Date.now() < deadline) await sleep(500);
      await sleep(3000); // the file appears when writing starts
    };
    // A short (--quick) run keeps two thirds of its length after the warm-up.
    const warmUp = opts.warmUpSeconds ?? Math.min(WARM_UP_SECONDS, Math.floor(opts.seconds / 3));
    const every = (opts.everySeconds ?? 30) * 1000;
    await sleep(5000);
    const timeline: Sample[] = [await sample()];
    await sleep(Math.max(0, warmUp * 1000 - (performance.now() - t0)));
    timeline.push(await sample());
    const startIndex = timeline.length - 1;
    await snapshot();
    const endAt = opts.seconds * 1000 - 5000;
    while (performance.now() - t0 < endAt - every) {
      await sleep(Math.max(0, every - 5000));
      timeline.push(await sample());
    }
    await sleep(Math.max(0, endAt - (performance.now() - t0)));
    timeline.push(await sample());
    await snapshot();
    const first = timeline[0]!;
    const start = timeline[startIndex]!;
    const end = timeline[timeline.length - 1]!;
    const middle = timeline[Math.round((startIndex + timeline.length - 1) / 2)]!;
    const minutes = (end.at - start.at) / 60;
    running = false;
    await Promise.all([...workers, reloader]);
    await sleep(1000);
    const alive = (await fetch(`${gate.adminUrl}/healthz`)).status === 200;

    const group = `soak: ${opts.workers} clients, ${(opts.seconds / 60).toFixed(1)} min of mixed pulls, denials, reloads and upstream faults (after a ${warmUp} s warm-up: start → end)`;
    const faults = upstream.counts;
    const row = (target: string, pick: (x: Sample) => number, unit: string): BenchRow => {
      const [r, s, m, e] = [pick(first), pick(start), pick(middle), pick(end)];
      const f = (v: number) => v.toFixed(unit === 'fds' ? 0 : 1);
      const trend = timeline.slice(startIndex).map((x) => f(pick(x))).join(' ');
      // A trend, not two points: the least-squares slope over the second half (after the warm-up has settled).
      const late = timeline.slice(timeline.indexOf(middle));
      const slope = slopePerMinute(late.map((x) => [x.at, pick(x)]));
      return {
        group,
        target,
        value: e,
        unit,
        ratio: s === 0 ? undefined : e / s,
        note: `first sample (${first.at} s) ${f(r)}; start (${start.at} s) ${f(s)} → middle (${middle.at} s) ${f(m)} → end (${end.at} s) ${f(e)} ${unit} over ${minutes.toFixed(1)} min; ratio = end / start; slope over the second half ${slope >= 0 ? '+' : ''}${slope.toFixed(2)} ${unit}/min; every ${every / 1000} s: ${trend}`,
      };
    };
    return [
      row('RSS', (x) => x.rssMiB, 'MiB'),
      row('anonymous memory (smaps_rollup: V8 heap, malloc arenas, Buffers)', (x) => x.anonMiB, 'MiB'),
      // What Buffers alive at the sample do not explain: with memory given back on free, RSS follows the Buffers in
      // flight (external, which swings with the blobs being moved); a leak or fragmentation shows up here as a trend.
      row('anonymous memory less Buffers (anonymous − external)', (x) => x.anonMiB - x.externalMiB, 'MiB'),
      row('V8 heap used (nodejs_heap_size_used_bytes)', (x) => x.heapUsedMiB, 'MiB'),
      row('V8 heap committed (nodejs_heap_size_total_bytes)', (x) => x.heapTotalMiB, 'MiB'),
      row('memory outside the V8 heap held by JS objects (nodejs_external_memory_bytes)', (x) => x.externalMiB, 'MiB'),
      row('open file descriptors', (x) => x.fds, 'fds'),
      row('event-loop delay p99 (5 s window, nodejs_eventloop_lag_p99_seconds)', (x) => x.loopP99Ms, 'ms'),
      {
        group,
        target: 'wrong answers (unsigned served, or bytes not matching their digest)',
        value: tally.wrong,
        unit: 'answers',
        ratio: undefined,
        note: `${tally.ops} requests: ${tally.ok} signed manifests served and checked, ${tally.deniedUnsigned} unsigned refused, ${tally.blobsVerified} blobs (1 MiB) complete and checked, ${tally.refusedSigned} signed refused or cut while the upstream failed, ${tally.blobsCut} blobs cut; faults injected: ${faults.reset} resets, ${faults.stall} stalls, ${faults['503']} 503s, ${faults['cut-body']} bodies cut, ${faults.none} clean; ${tally.reloads} file rewrites; healthy at the end: ${alive}${wrong.length > 0 ? `; first wrong: ${wrong.join('; ')}` : ''}`,
      },
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
