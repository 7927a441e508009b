/**
 * cosign at the gate (issue 14): what a cosign decision costs a pull, against a direct HEAD by tag to the registry
 * measured in the same run. Real peers on loopback: the distribution registry and `pullgate serve` with an image
 * policy whose rules require `verifier: cosign` — by a P-256 key, and keyless under the trusted root of an
 * in-process Sigstore (test/e2e/cosign-mini-sigstore.ts: Fulcio-like certificate with an embedded SCT, Rekor SET).
 * Signatures in cosign's tag layout (`sha256-<hex>.sig`), as `cosign sign` writes them.
 *
 * - baseline: HEAD by tag straight to the registry, interleaved with every gate sample;
 * - cold: a new image, HEAD by tag through the gate: manifest fetched and hashed, the `.sig` manifest and its
 *   payload blob fetched (plus the referrers probe), the signature verified, decided;
 * - warm: the same HEAD again (decision in the verified store);
 * - in process: the verifier alone on signatures already fetched (`judgeCosign` / `judgeKeyless`), i.e. the cost
 *   per verification of the key check and of @sigstore/verify's chain + SCT + SET work.
 * - before/after early lookup: with `--baseline <ref>` (default: ec95bcf, the commit before the cosign adapter's
 *   prepare()), a second `pullgate serve` runs from a private git worktree of that commit on the same registry, and
 *   every round takes one cold sample from each gate (alternating which goes first), each on its own new image.
 * Medians; no assertion on speed.
 *
 * `--rtt <ms>` puts the registry that far away (bench/wan-relay.ts), for gates and direct HEADs alike.
 *
 *   node bench/cosign.ts [--quick] [--baseline <ref> | --no-baseline] [--rtt <ms>]   (or npm run bench -- --only=cosign)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MANIFEST_ACCEPT, pushTestImage } from '../test/harness/images.ts';
import { startRegistry } from '../test/harness/registry.ts';
import { startPullgate, VECTORS } from '../test/e2e/pullgate-process.ts';
import { cosignKey, pushCosignSignatures, signPayload, simpleSigningPayload } from '../test/e2e/cosign-sign.ts';
import { MiniSigstore } from '../test/e2e/cosign-mini-sigstore.ts';
import { judgeCosign, judgeKeyless, prepareCosignPolicy, prepareTrustedRoot } from '../verifiers/cosign/index.ts';
import { parseRekorBundle } from '../verifiers/cosign/rekor-set.ts';
import type { BenchRow } from './pull-path.ts';
import { worktreeOf, type Worktree } from './git-worktree.ts';
import { startDelayRelay } from './wan-relay.ts';

export interface CosignBenchOptions {
  readonly rounds: number;
  readonly warmPerRound: number;
  /** Verifications per in-process measurement. */
  readonly inProcess: number;
  /** A commit to run as a second gate for before/after cold samples (a git worktree); undefined: none. */
  readonly baseline?: string;
  /** Round-trip time put between the gates (and the direct HEADs) and the registry (bench/wan-relay.ts); 0: loopback. */
  readonly rttMs?: number;
}
/** The commit before the cosign adapter's early lookup (prepare) landed. */
export const COSIGN_PREPARE_BASELINE = 'ec95bcf';
export const COSIGN_BENCH_FULL: CosignBenchOptions = { rounds: 20, warmPerRound: 3, inProcess: 300, baseline: COSIGN_PREPARE_BASELINE };
export const COSIGN_BENCH_QUICK: CosignBenchOptions = { rounds: 3, warmPerRound: 2, inProcess: 50, baseline: COSIGN_PREPARE_BASELINE };

const GROUP_BASE = 'cosign through the gate (tag layout; key P-256, keyless under an in-process Sigstore root)';
const GH = 'https://token.actions.githubusercontent.com';
const IDENTITY = { uri: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1', issuer: GH };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function head(base: string, repo: string, query: string, expectDigest: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/v2/${repo}/manifests/v1${query}`, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } });
  const ms = performance.now() - started;
  if (res.status !== 200 || res.headers.get('docker-content-digest') !== expectDigest) throw new Error(`HEAD ${repo}:v1 via ${base}: ${res.status}`);
  return ms;
}

/** The verifier alone: µs per verification over signatures in memory (no registry, no gate). */
async function inProcess(n: number, sigstore: MiniSigstore): Promise<{ key: number; keyless: number; prepareRoot: number }> {
  const digest = `sha256:${'a'.repeat(64)}`;
  const payload = simpleSigningPayload('reg.example/app', digest);
  const key = cosignKey();
  const keySig = signPayload(key, payload);
  const policy = prepareCosignPolicy({ keys: [{ name: 'k', pem: key.publicPem }] });
  const legacyKey = [{ payload, signature: keySig.signature, certificatePem: undefined, chainPem: undefined, rekorBundle: undefined }];
  const s = await sigstore.sign(payload, IDENTITY, { notBefore: new Date(Date.now() - 60_000) });
  const a = s.annotations;
  const legacyKeyless = [{ payload, signature: s.signature, certificatePem: a['dev.sigstore.cosign/certificate'], chainPem: a['dev.sigstore.cosign/chain'], rekorBundle: parseRekorBundle(a['dev.sigstore.cosign/bundle']!) }];
  let t0 = performance.now();
  for (let i = 0; i < 20; i++) prepareTrustedRoot(sigstore.trustedRoot());
  const prepareRoot = ((performance.now() - t0) / 20) * 1000;
  const rule = { trust: prepareTrustedRoot(sigstore.trustedRoot()), identities: [{ subject: IDENTITY.uri, issuer: GH }], referenceMatch: 'ignore' as const, annotations: {} };
  const time = (f: () => { ok: boolean }) => {
    for (let i = 0; i < Math.min(20, n); i++) if (!f().ok) throw new Error('in-process verification failed');
    const start = performance.now();
    for (let i = 0; i < n; i++) f();
    return ((performance.now() - start) / n) * 1000;
  };
  return {
    key: time(() => judgeCosign(legacyKey, [], { repository: 'app', digest }, policy)),
    keyless: time(() => judgeKeyless(legacyKeyless, [], { digest }, rule)),
    prepareRoot,
  };
}

export async function benchCosign(opts: CosignBenchOptions): Promise<BenchRow[]> {
  const GROUP = (opts.rttMs ?? 0) > 0 ? `${GROUP_BASE}, registry ${opts.rttMs} ms RTT away` : GROUP_BASE;
  const registry = await startRegistry();
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
  const scratch = mkdtempSync(join(tmpdir(), 'pullgate-bench-cosign-'));
  let tree: Worktree | undefined;
  try {
    if (opts.baseline !== undefined) tree = worktreeOf(opts.baseline);
    const H = registry.host;
    const relay = (opts.rttMs ?? 0) > 0 ? await startDelayRelay(H, opts.rttMs!) : undefined;
    if (relay !== undefined) stops.push(() => relay.close());
    const R = registry.url;
    const upstreamUrl = relay?.url ?? R; // what the gates and the direct HEADs reach the registry through
    const key = cosignKey();
    const sigstore = await MiniSigstore.create('bench-fulcio');
    const rootFile = join(scratch, 'trusted_root.json');
    writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot()));
    // Image 0 of each kind warms the gate process up (JIT, connections); 1..rounds are measured.
    const keyImages: Awaited<ReturnType<typeof pushTestImage>>[] = [];
    const keylessImages: Awaited<ReturnType<typeof pushTestImage>>[] = [];
    const perGate = tree === undefined ? 1 : 2; // images 0..rounds for this gate, then rounds+1.. for the baseline's
    for (let i = 0; i < (opts.rounds + 1) * perGate; i++) {
      const k = await pushTestImage(R, `bench/key${i}`, 'v1', `cosign key ${i}`);
      await pushCosignSignatures(R, k.repo, k.manifest.digest, [signPayload(key, simpleSigningPayload(`${H}/${k.repo}`, k.manifest.digest))]);
      keyImages.push(k);
      const kl = await pushTestImage(R, `bench/keyless${i}`, 'v1', `cosign keyless ${i}`);
      const payload = simpleSigningPayload(`${H}/${kl.repo}`, kl.manifest.digest);
      const s = await sigstore.sign(payload, IDENTITY);
      await pushCosignSignatures(R, kl.repo, kl.manifest.digest, [{ payload, signature: s.signature, annotations: s.annotations }]);
      keylessImages.push(kl);
    }
    const setup = {
      registries: [{ host: H, endpoint: upstreamUrl }],
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: {
        logLevel: 'warn',
        policy: {
          rules: [
            ...keyImages.map((k) => ({ scope: `${H}/${k.repo}`, require: [{ verifier: 'cosign', publicKeys: [key.publicPem] }] })),
            ...keylessImages.map((k) => ({ scope: `${H}/${k.repo}`, require: [{ verifier: 'cosign', trustedRoot: rootFile, identities: [{ issuer: GH, subject: IDENTITY.uri }] }] })),
          ],
        },
      },
    };
    const gate = await startPullgate(setup);
    stops.push(() => gate.stop());
    const old = tree === undefined ? undefined : await startPullgate({ ...setup, entry: join(tree.dir, 'bin/pullgate.ts') });
    if (old !== undefined) stops.push(() => old.stop());
    const ns = `?ns=${encodeURIComponent(H)}`;
    const oldImage = (list: typeof keyImages, i: number) => list[opts.rounds + 1 + i]!;
    await head(gate.url, keyImages[0]!.repo, ns, keyImages[0]!.manifest.digest);
    await head(gate.url, keylessImages[0]!.repo, ns, keylessImages[0]!.manifest.digest);
    if (old !== undefined) {
      await head(old.url, oldImage(keyImages, 0).repo, ns, oldImage(keyImages, 0).manifest.digest);
      await head(old.url, oldImage(keylessImages, 0).repo, ns, oldImage(keylessImages, 0).manifest.digest);
    }
    const before = { keyCold: [] as number[], keylessCold: [] as number[] };

    const direct: number[] = [];
    const samples = { keyCold: [] as number[], keyWarm: [] as number[], keylessCold: [] as number[], keylessWarm: [] as number[] };
    const upstream = { key: [] as number[], keyless: [] as number[] };
    const gateRequests = async () => (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate').length;
    const sample = async (kind: keyof typeof samples, repo: string, digest: string): Promise<void> => {
      samples[kind].push(await head(gate.url, repo, ns, digest));
      direct.push(await head(upstreamUrl, repo, '', digest));
    };
    const load = [loadavg()[0]!];
    for (let i = 1; i <= opts.rounds; i++) {
      for (const [kind, img] of [['key', keyImages[i]!], ['keyless', keylessImages[i]!]] as const) {
        // The baseline gate's cold sample on its own new image, before or after this gate's (alternating by round).
        const oldCold = async () => {
          if (old === undefined) return;
          const o = oldImage(kind === 'key' ? keyImages : keylessImages, i);
          before[kind === 'key' ? 'keyCold' : 'keylessCold'].push(await head(old.url, o.repo, ns, o.manifest.digest));
          direct.push(await head(upstreamUrl, o.repo, '', o.manifest.digest));
        };
        if (i % 2 === 0) await oldCold();
        const requestsBefore = await gateRequests();
        await sample(kind === 'key' ? 'keyCold' : 'keylessCold', img.repo, img.manifest.digest);
        upstream[kind].push((await gateRequests()) - requestsBefore);
        if (i % 2 === 1) await oldCold();
        for (let w = 0; w < opts.warmPerRound; w++) await sample(kind === 'key' ? 'keyWarm' : 'keylessWarm', img.repo, img.manifest.digest);
      }
    }
    load.push(loadavg()[0]!);
    const inProc = await inProcess(opts.inProcess, sigstore);

    const base = median(direct);
    const counts = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b).join('/');
    const row = (target: string, xs: number[], what: string): BenchRow => ({
      group: GROUP, target, value: median(xs), unit: 'ms p50', ratio: undefined,
      note: `n=${xs.length}, max ${Math.max(...xs).toFixed(1)} ms; ${(median(xs) / base).toFixed(1)} direct HEADs' worth; ${what}`,
    });
    const vs = (kind: 'keyCold' | 'keylessCold'): BenchRow[] => (tree === undefined ? [] : [{
      group: `${GROUP}: before/after the early lookup`, target: `cold, ${kind === 'keyCold' ? 'key' : 'keyless'}: the gate at ${tree.commit} (no prepare)`, value: median(before[kind]), unit: 'ms p50', ratio: median(samples[kind]) / median(before[kind]),
      note: `n=${before[kind].length}, max ${Math.max(...before[kind]).toFixed(1)} ms; ${(median(before[kind]) / base).toFixed(1)} direct HEADs' worth; this tree ${median(samples[kind]).toFixed(1)} ms p50 in the same rounds (ratio new/old)`,
    }]);
    return [
      ...vs('keyCold'), ...vs('keylessCold'),
      { group: GROUP, target: 'baseline: HEAD by tag direct to the registry (one round trip)', value: base, unit: 'ms p50', ratio: undefined, note: `n=${direct.length}, one after each gate sample; ${opts.rounds} interleaved rounds; 1-min load average ${load.map((l) => l.toFixed(1)).join(' → ')} on this shared machine` },
      row('cold, key: HEAD by tag, new image', samples.keyCold, `${counts(upstream.key)} registry requests each, including the .sig manifest, its payload blob and the referrers probe`),
      row('warm, key: the same HEAD again', samples.keyWarm, 'decision from the verified store'),
      row('cold, keyless: HEAD by tag, new image', samples.keylessCold, `${counts(upstream.keyless)} registry requests each; Fulcio chain, SCT, Rekor SET and identity checked offline`),
      row('warm, keyless: the same HEAD again', samples.keylessWarm, 'decision from the verified store'),
      { group: `${GROUP}: the verifier alone, in process`, target: 'key (P-256, tag layout): judgeCosign', value: inProc.key, unit: 'µs / verification', ratio: undefined, note: `n=${opts.inProcess}; payload parse + ECDSA verify` },
      { group: `${GROUP}: the verifier alone, in process`, target: 'keyless: judgeKeyless (@sigstore/verify 4.1.3)', value: inProc.keyless, unit: 'µs / verification', ratio: undefined, note: `n=${opts.inProcess}; tag layout → v0.1 bundle, chain + SCT + SET + identity; preparing the trusted root once per rule: ${inProc.prepareRoot.toFixed(0)} µs` },
    ];
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    tree?.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const preset = process.argv.includes('--quick') ? COSIGN_BENCH_QUICK : COSIGN_BENCH_FULL;
  const at = process.argv.indexOf('--baseline');
  const baseline = process.argv.includes('--no-baseline') ? undefined : at >= 0 ? process.argv[at + 1] : preset.baseline;
  const { baseline: _unused, ...rest } = preset;
  const rtt = process.argv.indexOf('--rtt');
  const rttMs = rtt >= 0 ? Number(process.argv[rtt + 1]) : 0;
  if (!Number.isFinite(rttMs) || rttMs < 0 || rttMs > 500) throw new Error('--rtt takes 0..500 (ms)');
  benchCosign({ ...rest, rttMs, ...(baseline === undefined ? {} : { baseline }) }).then(
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
