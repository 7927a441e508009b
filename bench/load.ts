/**
 * Load generators for the benchmarks, run as separate processes so the client does not share the event loop
 * of anything it measures: wrk for request rates, curl for blob throughput (curl's C loop costs far less CPU
 * per byte than any Node client, which matters on a 2-core machine where client, proxy and registry compete).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface RateResult {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err || out}`));
    });
  });
}

const LUA = `
wrk.method = os.getenv("WRK_METHOD") or "GET"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %f %f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
`;

/** wrk with `connections` keep-alive connections for `seconds`; method GET or HEAD. */
export async function wrkRate(url: string, opts: { method: 'GET' | 'HEAD'; accept: string; connections: number; seconds: number }): Promise<RateResult> {
  const script = join(tmpdir(), 'pullgate-bench.lua');
  writeFileSync(script, LUA);
  process.env.WRK_METHOD = opts.method;
  const out = await run('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '5s', '-s', script, '-H', `Accept: ${opts.accept}`, url], (opts.seconds + 30) * 1000);
  const m = /RESULT (\S+) (\S+) (\S+) (\d+)/.exec(out);
  if (!m) throw new Error(`unexpected wrk output: ${out}`);
  return { requestsPerSec: Number(m[1]), p50Ms: Number(m[2]), p99Ms: Number(m[3]), non2xx: Number(m[4]) };
}

const PACED_LUA = `
local path = os.getenv("PACED_BODY") or ""
if path ~= "" then
  local f = assert(io.open(path, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
local gap = tonumber(os.getenv("PACED_DELAY_MS"))
delay = function() return gap end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("PACED %d %f %f %f %f %d %d\\n", summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
`;

export interface PacedResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

/**
 * A fixed request rate from wrk: `connections` keep-alive connections, each sending its next request `delayMs`
 * after the previous answer (so the rate is connections × 1000 / (delayMs + latency)). Latency runs from a
 * request's write to its complete response, in wrk's C event loop, so the client adds microseconds, not the
 * milliseconds a Node client adds on this machine. `bodyFile` makes it a POST of that file as JSON.
 */
export async function wrkPaced(url: string, opts: { bodyFile?: string; connections: number; delayMs: number; seconds: number }): Promise<PacedResult> {
  const script = join(tmpdir(), 'pullgate-bench-paced.lua');
  writeFileSync(script, PACED_LUA);
  process.env.PACED_BODY = opts.bodyFile ?? '';
  process.env.PACED_DELAY_MS = String(opts.delayMs);
  const out = await run('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '5s', '-s', script, url], (opts.seconds + 30) * 1000);
  const m = /PACED (\d+) (\S+) (\S+) (\S+) (\S+) (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`unexpected wrk output: ${out}`);
  return { requests: Number(m[1]), requestsPerSec: Number(m[2]), p50Ms: Number(m[3]), p99Ms: Number(m[4]), maxMs: Number(m[5]), non2xx: Number(m[6]), socketErrors: Number(m[7]) };
}

/** HEAD (and anything wrk cannot do) through bench/http-load.ts in a child process. */
export async function nodeRate(url: string, opts: { method: 'GET' | 'HEAD'; accept: string; connections: number; seconds: number }): Promise<RateResult> {
  const script = new URL('./http-load.ts', import.meta.url).pathname;
  const out = await run(process.execPath, [script, url, opts.method, opts.accept, String(opts.connections), String(opts.seconds)], (opts.seconds + 30) * 1000);
  const r = JSON.parse(out) as { requests: number; seconds: number; p50Ms: number; p99Ms: number; non2xx: number };
  return { requestsPerSec: r.requests / r.seconds, p50Ms: r.p50Ms, p99Ms: r.p99Ms, non2xx: r.non2xx };
}

export interface ThroughputResult {
  readonly mibPerSec: number;
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * `clients` concurrent curl processes, each downloading `url` `rounds` times (following redirects). Reports the
 * aggregate rate over the wall time of the whole run, and fails if any download came back short.
 */
export async function curlThroughput(url: string, opts: { clients: number; rounds: number; expectBytes: number }): Promise<ThroughputResult> {
  const started = performance.now();
  const one = async () => {
    let bytes = 0;
    for (let i = 0; i < opts.rounds; i++) {
      const out = await run('curl', ['-sfL', '-o', '/dev/null', '-w', '%{size_download}', url], 120_000);
      const size = Number(out.trim());
      if (size !== opts.expectBytes) throw new Error(`short download from ${url}: ${size} of ${opts.expectBytes}`);
      bytes += size;
    }
    return bytes;
  };
  const totals = await Promise.all(Array.from({ length: opts.clients }, one));
  const seconds = (performance.now() - started) / 1000;
  const bytes = totals.reduce((a, b) => a + b, 0);
  return { mibPerSec: bytes / 1024 / 1024 / seconds, bytes, seconds };
}
