/**
 * Notary v1 at the gate (issue 13): what a Docker Content Trust decision costs a pull, against a direct HEAD by tag
 * to the registry measured in the same run. Real peers on loopback: the distribution registry, Debian's
 * notary-server + notary-signer (images signed with the real `notary` client in the `targets` role), `pullgate
 * serve` with an image policy whose rules require `notaryv1` (root key pinned) for each signed repository.
 *
 * - baseline: HEAD by tag straight to the registry (one round trip), interleaved with every gate sample below;
 * - cold: a GUN nobody asked about yet, HEAD by tag through the gate: trust data fetched (root, timestamp, snapshot,
 *   targets) and verified, the manifest fetched by the signed digest, hashed and decided;
 * - warm: the same HEAD again: trust data within its max-age, decision in the verified store;
 * - new tag, warm trust data: another signed tag of a GUN whose trust data is cached: verify against the cached
 *   data, fetch the manifest by digest, decide;
 * - ctr pull of a fresh signed image through the gate vs a ctr pull of a fresh image straight from the registry.
 *
 * Requests the gate sends upstream are counted per sample: the registry's access log (user agent `pullgate`) and
 * notary-server's request log. Medians; no assertion on speed.
 *
 *   node bench/notaryv1.ts            (or npm run bench -- --only=notaryv1)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MANIFEST_ACCEPT, pushTestImage } from '../test/harness/images.ts';
import { notaryRepo, type NotaryRepo, type NotaryTarget } from '../test/harness/notary-images.ts';
import { startNotary, type NotaryPeers } from '../test/harness/notary.ts';
import { startRegistry, type RegistryPeer } from '../test/harness/registry.ts';
import { startContainerd } from '../test/harness/containerd.ts';
import { startPullgate, VECTORS, type PullgateProcess } from '../test/e2e/pullgate-process.ts';
import type { BenchRow } from './pull-path.ts';

export interface NotaryBenchOptions {
  /** Rounds: each decides one new GUN cold and one new tag of a GUN whose trust data is cached. */
  readonly rounds: number;
  /** Warm HEADs per round (decision cached). */
  readonly warmPerRound: number;
  /** ctr pulls each way (0: no ctr row). */
  readonly ctrPulls: number;
}

export const NOTARY_BENCH_FULL: NotaryBenchOptions = { rounds: 20, warmPerRound: 3, ctrPulls: 8 };
export const NOTARY_BENCH_QUICK: NotaryBenchOptions = { rounds: 3, warmPerRound: 2, ctrPulls: 1 };

const GROUP = 'Notary v1 through the gate (notary-server + notary-signer, targets role, pinned root key)';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** notary-server logs one JSON line per request it answered ("response completed"); the gate's carry its user agent. */
function notaryRequestsFromGate(notary: NotaryPeers): number {
  let n = 0;
  for (const line of readFileSync(notary.serverLogFile, 'utf8').split('\n')) {
    if (!line.startsWith('{') || !line.includes('"response completed"')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry['http.request.useragent'] === 'pullgate' && String(entry['http.request.uri']).includes('/_trust/tuf/')) n++;
  }
  return n;
}

/** What one gate sample made the gate send upstream: registry requests and trust-server requests. */
interface Upstream { registry: number; notary: number }

async function upstreamCounter(registry: RegistryPeer, notary: NotaryPeers): Promise<() => Promise<Upstream>> {
  const r0 = (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate').length;
  const n0 = notaryRequestsFromGate(notary);
  return async () => ({
    registry: (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate').length - r0,
    notary: notaryRequestsFromGate(notary) - n0,
  });
}

async function head(base: string, repo: string, tag: string, query: string, expectDigest: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}${query}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
  const ms = performance.now() - started;
  if (res.status !== 200 || res.headers.get('docker-content-digest') !== expectDigest) {
    throw new Error(`HEAD ${repo}:${tag} via ${base}: ${res.status} ${res.headers.get('docker-content-digest')} (expected ${expectDigest})`);
  }
  return ms;
}

/** A GUN with its `v1` signed in `targets`, and the rule that pins its root key. */
async function signedGun(notary: NotaryPeers, registry: RegistryPeer, repo: string): Promise<{ gun: NotaryRepo; v1: NotaryTarget; rule: unknown }> {
  const gun = await notaryRepo(notary, registry, repo);
  const v1 = await gun.pushAndSign('v1');
  const rootKey = await gun.rootKeyPem();
  return { gun, v1, rule: { scope: gun.gun, require: [{ verifier: 'notaryv1', trustServer: 'notary', rootKeys: [rootKey] }] } };
}

const describe = (counts: readonly Upstream[]): string => {
  const all = (k: keyof Upstream) => [...new Set(counts.map((c) => c[k]))].sort((a, b) => a - b).join('/');
  return `${all('notary')} trust-server + ${all('registry')} registry requests`;
};

export async function benchNotaryV1(opts: NotaryBenchOptions): Promise<BenchRow[]> {
  const registry = await startRegistry();
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
  const scratch = mkdtempSync(join(tmpdir(), 'pullgate-bench-notary-'));
  try {
    const notary = await startNotary({ logLevel: 'info' });
    stops.push(() => notary.stop());
    const H = registry.host;
    // One GUN to warm the gate process up (JIT, the TLS session to notary-server), `coldGuns` measured, `ctrPulls`
    // for ctr, and one GUN with many signed tags for the warm-trust-data case.
    const prepared = [];
    for (let i = 0; i <= opts.rounds + opts.ctrPulls; i++) prepared.push(await signedGun(notary, registry, `bench/dct${i}`));
    const many = await notaryRepo(notary, registry, 'bench/many');
    const tags: NotaryTarget[] = [];
    for (let i = 0; i <= opts.rounds; i++) {
      const image = await many.push(`t${i}`, `bench/many t${i}`);
      await many.client.addHash(`t${i}`, image.manifest.size, image.manifest.digest.slice('sha256:'.length), { publish: false });
      tags.push({ tag: `t${i}`, role: 'targets', digest: image.manifest.digest, length: image.manifest.size, image });
    }
    await many.client.publish();
    const manyRule = { scope: many.gun, require: [{ verifier: 'notaryv1', trustServer: 'notary', rootKeys: [await many.rootKeyPem()] }] };

    const gate: PullgateProcess = await startPullgate({
      registries: [{ host: H, endpoint: registry.url }],
      // A strict Notation trust policy, as the gate tests run: no rule here hands an image to it.
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: {
        logLevel: 'warn',
        policy: { trustServers: { notary: { url: notary.url, caFile: notary.caFile } }, rules: [...prepared.map((p) => p.rule), manyRule, { scope: '*', deny: true }] },
      },
    });
    stops.push(() => gate.stop());
    const ns = `?ns=${encodeURIComponent(H)}`;
    const direct: number[] = [];

    const [warmup, ...rest] = prepared;
    await head(gate.url, warmup!.gun.repo, 'v1', ns, warmup!.v1.digest);
    const coldSet = rest.slice(0, opts.rounds);
    const ctrSet = rest.slice(opts.rounds);
    // bench/many's trust data is fetched once here (t0); notary-server's max-age (300 s) outlasts the rounds below.
    await head(gate.url, many.repo, 't0', ns, tags[0]!.digest);

    // Interleaved rounds, so that a busy stretch of this shared machine hits every case alike: per round one cold
    // GUN, the same HEAD again (warm), a new tag of bench/many, each followed by a direct HEAD of the same image.
    const samples = { cold: [] as number[], warm: [] as number[], newTag: [] as number[] };
    const counts = { cold: [] as Upstream[], warm: [] as Upstream[], newTag: [] as Upstream[] };
    const sample = async (kind: keyof typeof samples, repo: string, t: NotaryTarget): Promise<void> => {
      const count = await upstreamCounter(registry, notary);
      samples[kind].push(await head(gate.url, repo, t.tag, ns, t.digest));
      counts[kind].push(await count());
      direct.push(await head(registry.url, repo, t.tag, '', t.digest));
    };
    const load = [loadavg()[0]!];
    for (const [i, p] of coldSet.entries()) {
      await sample('cold', p.gun.repo, p.v1);
      for (let k = 0; k < opts.warmPerRound; k++) await sample('warm', p.gun.repo, p.v1);
      await sample('newTag', many.repo, tags[i + 1]!);
    }
    load.push(loadavg()[0]!);

    const base = median(direct);
    const rows: BenchRow[] = [{ group: GROUP, target: 'baseline: HEAD by tag direct to the registry (one round trip)', value: base, unit: 'ms p50', ratio: undefined, note: `n=${direct.length}, one after each gate sample below; max ${Math.max(...direct).toFixed(1)} ms; ${opts.rounds} interleaved rounds; 1-min load average ${load.map((l) => l.toFixed(1)).join(' → ')} on this shared machine` }];
    const row = (target: string, xs: number[], counts: Upstream[], what: string): BenchRow => ({
      group: GROUP,
      target,
      value: median(xs),
      unit: 'ms p50',
      ratio: undefined,
      note: `n=${xs.length}, max ${Math.max(...xs).toFixed(1)} ms; ${(median(xs) / base).toFixed(1)} direct HEADs' worth; ${describe(counts)} each; ${what}`,
    });
    rows.push(row('cold: HEAD by tag → signed digest, new GUN', samples.cold, counts.cold, 'root, timestamp, snapshot, targets fetched and verified, manifest GET by the signed digest'));
    rows.push(row('warm: the same HEAD again', samples.warm, counts.warm, 'trust data within max-age, decision from the verified store'));
    rows.push(row('new tag of a GUN whose trust data is cached', samples.newTag, counts.newTag, 'tag checked against cached trust data, manifest GET by the signed digest, decided'));

    if (opts.ctrPulls > 0) {
      // containerd in both cases, one hosts dir per path: the gate's (written by `pullgate hosts`) and an empty one
      // (loopback registries are plain HTTP to containerd), so only the route differs.
      const containerd = await startContainerd();
      stops.push(() => containerd.stop());
      const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
      if (hosts.code !== 0) throw new Error(`pullgate hosts: ${hosts.stderr}`);
      const emptyHosts = join(scratch, 'no-hosts');
      const pullMs = async (ref: string, hostsDir: string): Promise<number> => {
        const started = performance.now();
        const res = await containerd.ctr(['-n', 'default', 'images', 'pull', '--hosts-dir', hostsDir, ref], 120_000);
        if (res.code !== 0) throw new Error(`ctr pull ${ref}: ${res.stderr}`);
        return performance.now() - started;
      };
      const viaGate: number[] = [];
      const plain: number[] = [];
      for (const [i, p] of ctrSet.entries()) {
        viaGate.push(await pullMs(`${p.gun.gun}:v1`, containerd.certsDir));
        const fresh = await pushTestImage(registry.url, `bench/plain${i}`, 'v1', `plain ${i}`);
        plain.push(await pullMs(fresh.ref, emptyHosts));
      }
      const plainP50 = median(plain);
      const ctrGroup = `${GROUP}: ctr pull of a new one-layer image`;
      rows.push({ group: ctrGroup, target: 'baseline: ctr pull straight from the registry', value: plainP50, unit: 'ms p50', ratio: 1, note: `n=${plain.length}, max ${Math.max(...plain).toFixed(0)} ms` });
      rows.push({ group: ctrGroup, target: 'ctr pull through the gate, cold Notary v1 decision', value: median(viaGate), unit: 'ms p50', ratio: plainP50 / median(viaGate), note: `n=${viaGate.length}, max ${Math.max(...viaGate).toFixed(0)} ms; ${median(viaGate) >= plainP50 ? '+' : '−'}${Math.abs(median(viaGate) - plainP50).toFixed(0)} ms against direct` });
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  benchNotaryV1(quick ? NOTARY_BENCH_QUICK : NOTARY_BENCH_FULL).then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${r.target}: ${r.value.toFixed(2)} ${r.unit}${r.ratio === undefined ? '' : ` (${r.ratio.toFixed(2)}×)`} — ${r.note ?? ''}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${String((err as Error).stack)}\n`);
      process.exit(1);
    },
  );
}
