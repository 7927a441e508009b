/**
 * Soak (issue 16.4), for `npm run bench`, not for tests: a few minutes of mixed traffic against one `pullgate
 * serve` (the bundle, with the image's V8 flags) whose upstream misbehaves (bench/soak-upstream.ts: resets,
 * stalls, 503s, blobs cut short), while its config file and trust policy are rewritten every few seconds so it
 * reloads them. Short cache lifetimes make it decide again and again instead of serving one cached answer.
 *
 * Reported: RSS, open file descriptors and event-loop delay (p99 over a window, the gate's own prom-client
 * metric) near the start and at the end — flat means no leak of memory, sockets or timers — and the answers:
 * a wrong answer is a 200 for an unsigned image, or a 200 whose bytes do not match their digest. Refusals of
 * signed images while the upstream fails are fail-closed answers, counted apart.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle, IMAGE_NODE_FLAGS } from '../scripts/build.ts';
import { startRegistry } from './peers.ts';
import type { BenchRow } from './pull-path.ts';
import { startFaultyUpstream } from './soak-upstream.ts';
import { MANIFEST_ACCEPT, MEDIA, pushTestImage, pushLargeBlob, type PushedImage } from '../test/harness/images.ts';
import { startPullgate, VECTORS } from '../test/e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';

const ROOT = new URL('../', import.meta.url).pathname;

interface Sample {
  readonly rssMiB: number;
  /** From the gate's prom-client metrics: where the RSS is (V8 heap used / committed, memory outside it). */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly fds: number;
  readonly loopP99Ms: number;
}

function rssMiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

async function gateMetrics(adminUrl: string): Promise<(name: string) => number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return (name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]);
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchSoak(opts: { seconds: number; workers: number }): Promise<BenchRow[]> {
  await buildBundle();
  const registry = await startRegistry({ quiet: true });
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
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
      entry: join(ROOT, 'dist/pullgate.mjs'),
      // As the pod runs it: the image's flags plus the DaemonSet's NODE_OPTIONS heap cap.
      nodeArgs: [...IMAGE_NODE_FLAGS, '--max-old-space-size=256'],
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

    const sample = async (): Promise<Sample> => {
      await gateMetrics(gate.adminUrl); // prom-client resets the event-loop histogram at each scrape: open a window
      await sleep(5000);
      const m = await gateMetrics(gate.adminUrl);
      const mib = (name: string) => m(name) / 2 ** 20;
      return {
        rssMiB: rssMiB(gate.pid),
        heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
        heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
        externalMiB: mib('nodejs_external_memory_bytes'),
        fds: readdirSync(`/proc/${gate.pid}/fd`).length,
        loopP99Ms: m('nodejs_eventloop_lag_p99_seconds') * 1000,
      };
    };
    await sleep(10_000); // caches, pools and JIT settle
    const start = await sample();
    const started = performance.now();
    // A middle sample tells a cache filling up to its bound (flat from the middle on) from a leak (still rising).
    const half = Math.max(0, opts.seconds * 1000 - 35_000) / 2;
    await sleep(half);
    const middle = await sample();
    await sleep(half);
    const end = await sample();
    const minutes = (performance.now() - started) / 60_000;
    running = false;
    await Promise.all([...workers, reloader]);
    await sleep(1000);
    const alive = gate.logLines().length >= 0 && (await fetch(`${gate.adminUrl}/healthz`)).status === 200;

    const group = `soak: ${opts.workers} clients, ${(opts.seconds / 60).toFixed(1)} min of mixed pulls, denials, reloads and upstream faults (start → end)`;
    const faults = upstream.counts;
    const row = (target: string, pick: (x: Sample) => number, unit: string): BenchRow => {
      const [s, m, e] = [pick(start), pick(middle), pick(end)];
      const f = (v: number) => v.toFixed(unit === 'fds' ? 0 : 1);
      return { group, target, value: e, unit, ratio: s === 0 ? undefined : e / s, note: `start ${f(s)} → middle ${f(m)} → end ${f(e)} ${unit} over ${minutes.toFixed(1)} min; ratio = end / start` };
    };
    return [
      row('RSS', (x) => x.rssMiB, 'MiB'),
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
