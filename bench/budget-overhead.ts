/**
 * What the issue 12.5 bounds cost a normal pull: the gate before them against the gate of this tree, both real
 * `pullgate serve` processes in front of one distribution registry on loopback, with one strict Notation trust
 * policy and Notation-signed images (one signature each, well inside every budget).
 *
 * The baseline is a private git worktree of `--baseline` (default `994e899^`: the per-decision budget, the
 * cold-decision cap and the manifest GET deadline landed in 994e899, whose message speaks of `hosts --default`;
 * 3097202, whose message names them, only changed a test, so `3097202^` already has them). It runs with this
 * tree's node_modules (the old package.json needs a subset of them).
 *
 * Cases, sampled one request at a time and interleaved (old, new, new, old, … so neither always goes first):
 * - cold: HEAD by digest of a signed manifest neither gate has seen (manifest GET, signature discovery, signature
 *   manifest and envelope fetched, verified): each sample has its own image;
 * - warm GET by digest of a manifest already verified (answered from the verified store);
 * - warm HEAD by tag of the same image (one upstream HEAD to resolve the tag, the digest already verified).
 * Reported: median and p90 of each, new/old, and whether new/old lies inside the band that relabelling the pooled
 * samples at random gives (the spread that noise alone produces here); the old samples' even-vs-odd-round ratio
 * as a second view of that spread; CPU time of each gate process per request (robust to load from other
 * processes); registry requests per sample (the registry's access log, user agent `pullgate`). No assertion on
 * speed.
 *
 *   node bench/budget-overhead.ts [--quick] [--baseline=<git ref>] [--candidate=<git ref>] [--rounds=N]
 *   npm run bench -- --only=budget-overhead      (baseline 994e899^ against this tree)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MANIFEST_ACCEPT, MEDIA, pushTestImage, type PushedImage } from '../test/harness/images.ts';
import { startRegistry, type AccessLogEntry, type RegistryPeer } from '../test/harness/registry.ts';
import { startPullgate, VECTORS, type PullgateProcess } from '../test/e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';
import type { BenchRow } from './pull-path.ts';
import { worktreeOf, type Worktree } from './git-worktree.ts';
import { describeCpu, describeSpread, median, quantile } from './budget-stats.ts';

export interface BudgetBenchOptions {
  /** Rounds; each takes one cold sample per gate (a fresh image each). */
  readonly rounds: number;
  /** Warm GETs by digest per gate per round. */
  readonly warmPerRound: number;
  /** Warm HEADs by tag per gate per round. */
  readonly tagPerRound: number;
  /** Git ref of the gate before the budgets. */
  readonly baseline: string;
  /** Git ref to compare instead of this tree (e.g. the budgets' own commit, to isolate them from later work). */
  readonly candidate?: string;
}

export const BUDGET_BENCH_FULL: BudgetBenchOptions = { rounds: 40, warmPerRound: 25, tagPerRound: 10, baseline: '994e899^' };
export const BUDGET_BENCH_QUICK: BudgetBenchOptions = { rounds: 4, warmPerRound: 5, tagPerRound: 3, baseline: '994e899^' };

const KINDS = ['cold', 'warm', 'tag'] as const;
type Kind = (typeof KINDS)[number];
const WHAT: Record<Kind, string> = {
  cold: 'cold decide: HEAD by digest of a signed manifest nobody asked for yet',
  warm: 'warm GET by digest of a verified manifest',
  tag: 'warm HEAD by tag (tag resolved upstream, digest already verified)',
};

interface Gate { readonly name: 'old' | 'new'; readonly proc: PullgateProcess }
interface Samples { ms: number[]; cpuMs: number[]; round: number[] }

/**
 * CPU time of a process in ms, all its threads (JS, GC helpers, libuv pool): the first field of each
 * /proc/<pid>/task/<tid>/schedstat, in ns. Ticks (/proc/<pid>/stat, 10 ms) are too coarse for a 5 ms decision.
 */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/**
 * The gate's requests in the registry's access log (user agent `pullgate`). The registry writes a line after
 * answering, so the log is read until two reads 50 ms apart agree (at most 2 s).
 */
async function settledLog(registry: RegistryPeer): Promise<AccessLogEntry[]> {
  let last = -1;
  for (const deadline = Date.now() + 2000; ;) {
    const mine = (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate');
    if (mine.length === last || Date.now() > deadline) return mine;
    last = mine.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function request(gate: Gate, method: 'GET' | 'HEAD', path: string, expectDigest: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${gate.proc.url}${path}`, { method, headers: { accept: MANIFEST_ACCEPT } });
  if (method === 'GET') await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 200 || res.headers.get('docker-content-digest') !== expectDigest) {
    throw new Error(`${gate.name} gate: ${method} ${path}: ${res.status} ${res.headers.get('docker-content-digest')} (expected ${expectDigest})`);
  }
  return ms;
}

async function signedImage(registry: RegistryPeer, repo: string): Promise<PushedImage> {
  const img = await pushTestImage(registry.url, repo, 'v1', `budget bench ${repo}`);
  await signInRegistry(registry.url, repo, { mediaType: MEDIA.manifest, digest: img.manifest.digest, size: img.manifest.size }, e2eSigner());
  return img;
}

export async function benchBudgetOverhead(opts: BudgetBenchOptions): Promise<BenchRow[]> {
  const tree = worktreeOf(opts.baseline);
  const stops: (() => Promise<void>)[] = [];
  let candidate: Worktree | undefined;
  try {
    if (opts.candidate !== undefined) candidate = worktreeOf(opts.candidate);
    const registry = await startRegistry();
    stops.push(() => registry.stop());
    const H = registry.host;
    // Every gate has its own repositories (names of equal length), so the registry's access log tells whose
    // request each line is: a warm-up image, one image per cold sample, and the image of the warm cases.
    const images = { old: { warmup: [] as PushedImage[], cold: [] as PushedImage[], warm: [] as PushedImage[] }, new: { warmup: [] as PushedImage[], cold: [] as PushedImage[], warm: [] as PushedImage[] } };
    for (const [g, tag] of [['old', 'a'], ['new', 'b']] as const) {
      images[g].warmup.push(await signedImage(registry, `bench/budget-${tag}-warmup`));
      images[g].warm.push(await signedImage(registry, `bench/budget-${tag}-warm`));
    }
    for (let i = 0; i < opts.rounds; i++) {
      const n = String(i).padStart(3, '0');
      images.old.cold.push(await signedImage(registry, `bench/budget-a-cold${n}`));
      images.new.cold.push(await signedImage(registry, `bench/budget-b-cold${n}`));
    }

    const setup = {
      registries: [{ host: H, endpoint: registry.url }],
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: { logLevel: 'warn' },
    };
    const old: Gate = { name: 'old', proc: await startPullgate({ ...setup, entry: join(tree.dir, 'bin/pullgate.ts') }) };
    stops.push(() => old.proc.stop());
    const cur: Gate = { name: 'new', proc: await startPullgate(candidate === undefined ? setup : { ...setup, entry: join(candidate.dir, 'bin/pullgate.ts') }) };
    stops.push(() => cur.proc.stop());
    const ns = `?ns=${encodeURIComponent(H)}`;
    const byDigest = (img: PushedImage) => `/v2/${img.repo}/manifests/${img.manifest.digest}${ns}`;
    const byTag = (img: PushedImage) => `/v2/${img.repo}/manifests/v1${ns}`;

    // Warm-up: each gate's first decision (JIT, trust store, the registry found without the referrers API), and
    // its warm image decided.
    for (const g of [old, cur]) {
      const { warmup: [w], warm: [v] } = images[g.name];
      await request(g, 'HEAD', byDigest(w!), w!.manifest.digest);
      await request(g, 'GET', byDigest(v!), v!.manifest.digest);
      await request(g, 'HEAD', byTag(v!), v!.manifest.digest);
    }
    const warmedUp = await settledLog(registry);

    const samples = { old: {} as Record<Kind, Samples>, new: {} as Record<Kind, Samples> };
    for (const g of ['old', 'new'] as const) for (const k of KINDS) samples[g][k] = { ms: [], cpuMs: [], round: [] };
    const sample = async (g: Gate, kind: Kind, round: number, method: 'GET' | 'HEAD', path: string, digest: string) => {
      const cpu0 = cpuMs(g.proc.pid);
      const ms = await request(g, method, path, digest);
      const s = samples[g.name][kind];
      s.cpuMs.push(cpuMs(g.proc.pid) - cpu0);
      s.ms.push(ms);
      s.round.push(round);
    };
    const load = [loadavg()[0]!];
    const started = Date.now();
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? [old, cur] : [cur, old];
      for (const g of order) {
        const img = images[g.name].cold[round]!;
        await sample(g, 'cold', round, 'HEAD', byDigest(img), img.manifest.digest);
      }
      for (const [kind, count] of [['warm', opts.warmPerRound], ['tag', opts.tagPerRound]] as const) {
        for (let k = 0; k < count; k++) {
          for (const g of k % 2 === 0 ? order : [...order].reverse()) {
            const v = images[g.name].warm[0]!;
            await sample(g, kind, round, kind === 'warm' ? 'GET' : 'HEAD', kind === 'warm' ? byDigest(v) : byTag(v), v.manifest.digest);
          }
        }
      }
    }
    load.push(loadavg()[0]!);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);

    // What each sample sent upstream, from the access log's lines after the warm-up (user agent pullgate).
    const log = (await settledLog(registry)).slice(warmedUp.length);
    const upstream = (g: 'old' | 'new', kind: Kind): string => {
      if (kind === 'cold') {
        const counts = images[g].cold.map((img) => log.filter((e) => e.path.startsWith(`/v2/${img.repo}/`)).length);
        return `${[...new Set(counts)].sort((a, b) => a - b).join('/')} registry requests each`;
      }
      const v = images[g].warm[0]!;
      const mine = log.filter((e) => e.path.startsWith(`/v2/${v.repo}/manifests/${kind === 'warm' ? 'sha256:' : 'v1'}`)).length;
      return `${(mine / samples[g][kind].ms.length).toFixed(2)} registry requests each`;
    };
    if (process.env.BUDGET_BENCH_VERBOSE !== undefined) {
      for (const g of ['old', 'new'] as const) {
        const repo = images[g].cold[0]!.repo;
        const lines = log.filter((e) => e.path.startsWith(`/v2/${repo}/`)).map((e) => `${e.method} ${e.path.split('?')[0]} ${e.status}`);
        process.stderr.write(`${g} gate, registry requests of one cold decision (${repo}):\n  ${lines.join('\n  ')}\n`);
      }
    }

    const group = `budget overhead on the normal path (issue 12.5): gate before the budgets (${tree.commit}) vs ${candidate === undefined ? 'this tree' : candidate.commit}, one signed image, strict Notation policy`;
    const rows: BenchRow[] = [];
    for (const kind of KINDS) {
      const o = samples.old[kind];
      const n = samples.new[kind];
      const cpu = (s: Samples) => median(s.cpuMs).toFixed(2);
      const head = kind === 'cold' ? `\`npm run bench -- --only=budget-overhead\` (${new Date().toISOString().slice(0, 10)}, ${opts.rounds} interleaved rounds in ${minutes} min, 1-min load ${load.map((l) => l.toFixed(1)).join(' → ')}); ` : '';
      rows.push({
        group, target: `${WHAT[kind]}: before the budgets`, value: median(o.ms), unit: 'ms p50', ratio: undefined,
        note: `${head}n=${o.ms.length}, p90 ${quantile(o.ms, 0.9).toFixed(2)} ms; gate CPU p50 ${cpu(o)} ms; ${upstream('old', kind)}`,
      });
      rows.push({
        group, target: `${WHAT[kind]}: with the budgets`, value: median(n.ms), unit: 'ms p50', ratio: undefined,
        note: `n=${n.ms.length}, p90 ${quantile(n.ms, 0.9).toFixed(2)} ms; gate CPU p50 ${cpu(n)} ms (${describeCpu(o.cpuMs, n.cpuMs)}); ${upstream('new', kind)}; ${describeSpread(o.ms, n.ms, o.round)}`,
      });
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    tree.remove();
    candidate?.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const [baseline, candidate, rounds] = [flag('baseline'), flag('candidate'), flag('rounds')];
  const opts = {
    ...(quick ? BUDGET_BENCH_QUICK : BUDGET_BENCH_FULL),
    ...(baseline === undefined ? {} : { baseline }),
    ...(candidate === undefined ? {} : { candidate }),
    ...(rounds === undefined ? {} : { rounds: Math.min(500, Math.max(2, Number.parseInt(rounds, 10) || 2)) }),
  };
  benchBudgetOverhead(opts).then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${r.target}: ${r.value.toFixed(2)} ${r.unit} — ${r.note ?? ''}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${String((err as Error).stack)}\n`);
      process.exit(1);
    },
  );
}
