/**
 * Pull-path benchmarks (issue 3): the registry direct vs through pullgate vs nginx vs distribution's
 * pull-through cache, in one run on one machine, reported as ratios to direct. Manifest GET by digest and HEAD
 * by tag with wrk; 64 MiB blob throughput with concurrent curl clients; a redirecting upstream whose storage
 * redirect pullgate relays; pullgate's RSS sampled while it streams.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startNginx, startRegistry } from './peers.ts';
import { pushLargeImage, pushTestImage, MANIFEST_ACCEPT } from '../test/harness/images.ts';
import { startPullgate } from '../test/e2e/pullgate-process.ts';
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

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssKiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

export async function benchPullPath(opts: { seconds: number; clients: number; rounds: number }): Promise<BenchRow[]> {
  const registry = await startRegistry({ quiet: true });
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
  try {
    const small = await pushTestImage(registry.url, 'bench/app', 'v1');
    const large = await pushLargeImage(registry.url, 'bench/big', 'v1', BLOB_MIB * 1024 * 1024);
    const nginx = await startNginx(registry.host);
    stops.push(() => nginx.stop());
    const cache = await startRegistry({ proxyRemoteUrl: registry.url, quiet: true });
    stops.push(() => cache.stop());
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
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
      extra: { logLevel: 'warn' },
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

    const digestPath = `/v2/bench/app/manifests/${small.manifest.digest}`;
    const byDigest: [string, number, string?][] = [];
    for (const [name, url, q] of targets) {
      const r = await wrkRate(`${url}${digestPath}${q}`, { method: 'GET', accept: MANIFEST_ACCEPT, connections: 8, seconds: opts.seconds });
      byDigest.push([name, r.requestsPerSec, `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`]);
    }
    group('manifest GET by digest (8 connections)', byDigest, 'req/s');

    const headByTag: [string, number, string?][] = [];
    for (const [name, url, q] of targets) {
      const r = await nodeRate(`${url}/v2/bench/app/manifests/v1${q}`, { method: 'HEAD', accept: MANIFEST_ACCEPT, connections: 8, seconds: opts.seconds });
      headByTag.push([name, r.requestsPerSec, `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ''}`]);
    }
    group('manifest HEAD by tag (8 connections, node client)', headByTag, 'req/s');

    const blobPath = `/v2/bench/big/blobs/${large.layer.digest}`;
    const expectBytes = large.layer.size;
    const blob: [string, number, string?][] = [];
    const rssBefore = rssKiB(gate.pid);
    let rssPeak = rssBefore.rss;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssKiB(gate.pid).rss)), 50);
    let gateCpuPerGiB = 0;
    for (const [name, url, q] of targets) {
      const cpuBefore = cpuSeconds(gate.pid);
      const r = await curlThroughput(`${url}${blobPath}${q}`, { clients: opts.clients, rounds: opts.rounds, expectBytes });
      if (name === 'pullgate') gateCpuPerGiB = (cpuSeconds(gate.pid) - cpuBefore) / (r.bytes / 2 ** 30);
      blob.push([name, r.mibPerSec]);
    }
    const relayed = await curlThroughput(`${gate.url}${blobPath}?ns=${encodeURIComponent(redirectHost)}`, { clients: opts.clients, rounds: opts.rounds, expectBytes });
    blob.push(['pullgate, storage redirect relayed', relayed.mibPerSec]);
    clearInterval(sampler);
    group(`${BLOB_MIB} MiB blob GET (${opts.clients} concurrent clients)`, blob, 'MiB/s');
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
      note: `RSS before ${(rssBefore.rss / 1024).toFixed(0)} MiB, peak ${(rssPeak / 1024).toFixed(0)} MiB, while streaming ${opts.clients * opts.rounds * BLOB_MIB} MiB through it`,
    });
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
