/**
 * Pull-path benchmarks (issue 3): the registry direct vs through pullgate vs nginx vs distribution's
 * pull-through cache, in one run on one machine, reported as ratios to direct. Cold decisions through the gate
 * (eight at once, then one at a time); manifest GET by digest with wrk and HEAD by tag with a keep-alive Node
 * client; 64 MiB blob throughput with concurrent curl clients in interleaved rounds, with socat as the bare-relay
 * ceiling and a redirecting upstream whose storage redirect pullgate relays; pullgate's CPU and RSS while it
 * streams.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startNginx, startRegistry, startSocatRelay } from './peers.ts';
import { pushLargeImage, pushTestImage, MANIFEST_ACCEPT } from '../test/harness/images.ts';
import { join } from 'node:path';
import { startPullgate, VECTORS } from '../test/e2e/pullgate-process.ts';
import type { GateBuild } from './image-gate.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';
import { MEDIA } from '../test/harness/images.ts';
import { curlThroughput, nodeRate, wrkRate } from './load.ts';

export interface BenchRow {
  readonly group: string;
  readonly target: string;
  readonly value: number;
  readonly unit: string;
  /** value relative to the group's baseline (direct), higher is better. */
  readonly ratio: number | undefined;
  readonly note?: string;
}

const BLOB_MIB = 64;
/** Signed images decided one at a time through the gate (cold decide latency). */
const SERIAL_COLD = 16;

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function rssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/** `rounds`: downloads per curl client in one measurement; `blobRounds`: interleaved measurements per target. */
export async function benchPullPath(opts: { seconds: number; clients: number; rounds: number; blobRounds: number; coldImages: number; gate: GateBuild }): Promise<BenchRow[]> {
  const registry = await startRegistry({ quiet: true });
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
  try {
    const small = await pushTestImage(registry.url, 'bench/app', 'v1');
    const large = await pushLargeImage(registry.url, 'bench/big', 'v1', BLOB_MIB * 1024 * 1024);
    // Real enforcement: the images are Notation-signed (the notation e2e key) and the policy is strict, so the
    // warm numbers are those of verified digests, not of a skip statement.
    const signer = e2eSigner();
    await signInRegistry(registry.url, 'bench/app', { mediaType: MEDIA.manifest, digest: small.manifest.digest, size: small.manifest.size }, signer);
    const cold = [];
    // One to warm the process up, coldImages decided at once, then SERIAL_COLD decided one at a time.
    for (let i = 0; i <= opts.coldImages + SERIAL_COLD; i++) {
      const img = await pushTestImage(registry.url, `bench/cold${i}`, 'v1', `cold image ${i}`);
      await signInRegistry(registry.url, `bench/cold${i}`, { mediaType: MEDIA.manifest, digest: img.manifest.digest, size: img.manifest.size }, signer);
      cold.push(img);
    }
    const nginx = await startNginx(registry.host);
    stops.push(() => nginx.stop());
    const cache = await startRegistry({ proxyRemoteUrl: registry.url, quiet: true });
    stops.push(() => cache.stop());
    const socat = await startSocatRelay(registry.host);
    stops.push(() => socat.stop());
    // A registry front that redirects blob GETs to "storage" (here: the registry itself), as Docker Hub does.
    const redirector = createServer((req, res) => {
      res.writeHead(307, { location: `${registry.url}${req.url!.split('?')[0]}` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    stops.push(async () => void redirector.close());
    const redirectHost = `127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    const gate = await startPullgate({
      registries: [
        { host: registry.host, endpoint: registry.url },
        { host: redirectHost, endpoint: `http://${redirectHost}`, blobRedirects: 'relay' },
      ],
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: { logLevel: 'warn' },
      ...opts.gate.setup,
    });
    stops.push(() => gate.stop());

    const ns = `?ns=${encodeURIComponent(registry.host)}`;
    const targets: [string, string, string][] = [
      ['direct registry', registry.url, ''],
      ['pullgate', gate.url, ns],
      ['nginx', nginx.url, ''],
      ['pull-through cache', cache.url, ''],
    ];
    const rows: BenchRow[] = [];
    const group = (name: string, results: [string, number, string?][], unit: string) => {
      const base = results[0]![1];
      for (const [target, value, note] of results) rows.push({ group: name, target, value, unit, ratio: value / base, ...(note ? { note } : {}) });
    };

    // Cold decisions: 8 signed images nobody pulled yet, resolved and verified concurrently (HEAD by tag, as
    // containerd resolves; the gate fetches the manifest, discovers, fetches and verifies the signature).
    // The first decision of a new process also pays for JIT compilation and the trust store's first use: warm
    // the process up with one image, then measure images nobody asked for yet.
    const [warmup, ...rest] = cold;
    const measured = rest.slice(0, opts.coldImages);
    const serial = rest.slice(opts.coldImages);
    await fetch(`${gate.url}/v2/${warmup!.repo}/manifests/v1${ns}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
    const coldLatencies = await Promise.all(measured.map(async (img) => {
      const started = performance.now();
      const res = await fetch(`${gate.url}/v2/${img.repo}/manifests/v1${ns}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
      if (res.headers.get('docker-content-digest') !== img.manifest.digest) throw new Error(`cold decide of ${img.repo} was not allowed`);
      return performance.now() - started;
    }));
    coldLatencies.sort((x, y) => x - y);
    rows.push({
      group: `cold verification, ${measured.length} distinct signed images at once`,
      target: 'pullgate HEAD by tag → verified digest',
      value: coldLatencies[Math.floor(coldLatencies.length / 2)]!,
      unit: 'ms p50',
      ratio: undefined,
      note: `max ${coldLatencies.at(-1)!.toFixed(1)} ms; resolve + signature discovery (2.8: referrers 404 → tag index) + envelope fetch + verify`,
    });
    // One at a time, as a node pulling a new image sees it: the HEAD by tag containerd sends, answered only after
    // the digest's manifest and signature were fetched and verified. The baseline is the same HEAD direct.
    const headOnce = async (base: string, repo: string, q: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(`${base}/v2/${repo}/manifests/v1${q}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
      if (res.status !== 200) throw new Error(`HEAD ${repo} via ${base}: ${res.status}`);
      return performance.now() - started;
    };
    const directHeads: number[] = [];
    const serialCold: number[] = [];
    for (const img of serial) {
      serialCold.push(await headOnce(gate.url, img.repo, ns));
      directHeads.push(await headOnce(registry.url, img.repo, ''));
    }
    const directP50 = median(directHeads);
    const serialGroup = `cold decide through the gate, ${serial.length} signed images one at a time`;
    rows.push({ group: serialGroup, target: 'baseline: HEAD by tag direct (one round trip)', value: directP50, unit: 'ms p50', ratio: undefined, note: `max ${Math.max(...directHeads).toFixed(1)} ms` });
    rows.push({
      group: serialGroup,
      target: 'pullgate HEAD by tag → verified digest',
      value: median(serialCold),
      unit: 'ms p50',
      ratio: undefined,
      note: `max ${Math.max(...serialCold).toFixed(1)} ms; ${(median(serialCold) / directP50).toFixed(1)} round trips' worth: HEAD, then manifest GET alongside discovery (referrers probe, tag index), signature manifest, envelope`,
    });

    const digestPath = `/v2/bench/app/manifests/${small.manifest.digest}`;
    const byDigest: [string, number, string?][] = [];
    for (const [name, url, q] of targets) {
      const r = await wrkRate(`${url}${digestPath}${q}`, { method: 'GET', accept: MANIFEST_ACCEPT, connections: 8, seconds: opts.seconds });
      byDigest.push([name, r.requestsPerSec, `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`]);
    }
    group('manifest GET by digest, warm (8 connections)', byDigest, 'req/s');

    const headByTag: [string, number, string?][] = [];
    for (const [name, url, q] of targets) {
      const r = await nodeRate(`${url}/v2/bench/app/manifests/v1${q}`, { method: 'HEAD', accept: MANIFEST_ACCEPT, connections: 8, seconds: opts.seconds });
      headByTag.push([name, r.requestsPerSec, `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`]);
    }
    group('manifest HEAD by tag (8 connections, node client)', headByTag, 'req/s');

    // Blob throughput, interleaved: every round measures every target once, in the same order, so a slow
    // stretch of this shared machine hits all of them alike; each target reports its median round, and its
    // ratios are the medians of the per-round ratios (each taken between measurements seconds apart).
    const blobPath = `/v2/bench/big/blobs/${large.layer.digest}`;
    const expectBytes = large.layer.size;
    const blobTargets: [string, string][] = [
      ...targets.map(([name, url, q]): [string, string] => [name, `${url}${blobPath}${q}`]),
      ['bare TCP relay (socat, 1 MiB buffers; the ceiling of any proxy)', `${socat.url}${blobPath}`],
      ['pullgate, storage redirect relayed', `${gate.url}${blobPath}?ns=${encodeURIComponent(redirectHost)}`],
    ];
    const perRound: number[][] = blobTargets.map(() => []);
    const rssBefore = rssKiB(gate.pid);
    let rssPeak = rssBefore.rss;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssKiB(gate.pid).rss)), 50);
    let gateCpu = 0;
    let gateBytes = 0;
    for (let round = 0; round < opts.blobRounds; round++) {
      for (const [i, [name, url]] of blobTargets.entries()) {
        const cpuBefore = cpuSeconds(gate.pid);
        const r = await curlThroughput(url, { clients: opts.clients, rounds: opts.rounds, expectBytes });
        if (name === 'pullgate') {
          gateCpu += cpuSeconds(gate.pid) - cpuBefore;
          gateBytes += r.bytes;
        }
        perRound[i]!.push(r.mibPerSec);
      }
    }
    clearInterval(sampler);
    const nginxAt = blobTargets.findIndex(([name]) => name === 'nginx');
    const blobGroup = `${BLOB_MIB} MiB blob GET (${opts.clients} concurrent clients, median of ${opts.blobRounds} interleaved rounds)`;
    for (const [i, [target]] of blobTargets.entries()) {
      const mine = perRound[i]!;
      const vsDirect = median(mine.map((v, r) => v / perRound[0]![r]!));
      const vsNginx = median(mine.map((v, r) => v / perRound[nginxAt]![r]!));
      rows.push({
        group: blobGroup,
        target,
        value: median(mine),
        unit: 'MiB/s',
        ratio: vsDirect,
        note: `${i === nginxAt ? '' : `${vsNginx.toFixed(2)}× nginx; `}rounds ${mine.map((v) => v.toFixed(0)).join(' / ')} MiB/s`,
      });
    }
    const gateCpuPerGiB = gateCpu / (gateBytes / 2 ** 30);
    rows.push({
      group: 'pullgate CPU cost of streaming blobs',
      target: 'CPU seconds per GiB streamed',
      value: gateCpuPerGiB,
      unit: 's/GiB',
      ratio: undefined,
      note: 'user + system time of the pullgate process; robust to load from other processes',
    });
    rows.push({
      group: 'pullgate memory while streaming blobs',
      target: 'RSS growth (peak − before)',
      value: (rssPeak - rssBefore.rss) / 1024,
      unit: 'MiB',
      ratio: undefined,
      note: `RSS before ${(rssBefore.rss / 1024).toFixed(0)} MiB, peak ${(rssPeak / 1024).toFixed(0)} MiB, while streaming ${(gateBytes / 2 ** 30).toFixed(1)} GiB through it`,
    });
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
