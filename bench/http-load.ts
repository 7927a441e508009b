/**
 * A small closed-loop HTTP load generator, run as its own process by bench/load.ts: `connections` workers on
 * an undici Pool each send the next request when the last one finished, for `seconds`. Used where wrk cannot
 * go: wrk waits for a body after a HEAD response that carries a Content-Length, and hangs. Connections are kept
 * alive across HEADs, as containerd's client does.
 * Prints one JSON line: {"requests", "seconds", "p50Ms", "p99Ms", "non2xx"}.
 */
import { Pool } from 'undici';

const [url, method, accept, connections, seconds] = process.argv.slice(2);
const target = new URL(url!);
const pool = new Pool(target.origin, { connections: Number(connections), pipelining: 1 });
const path = target.pathname + target.search;
const deadline = performance.now() + Number(seconds) * 1000;
const latencies: number[] = [];
let non2xx = 0;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    // reset: false: undici closes the connection after every HEAD by default; containerd's Go client does not, and
    // a reconnect per request would measure accept() rather than the proxy.
    const res = await pool.request({ path, method: method as 'GET' | 'HEAD', headers: { accept: accept! }, reset: false });
    await res.body.dump();
    latencies.push(performance.now() - started);
    if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
  }
}

const began = performance.now();
await Promise.all(Array.from({ length: Number(connections) }, worker));
const elapsed = (performance.now() - began) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ requests: latencies.length, seconds: elapsed, p50Ms: pct(50), p99Ms: pct(99), non2xx })}\n`);
await pool.close();
