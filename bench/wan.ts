/**
 * Pull latency over a network distance (issue 16.2): the registry behind a relay that adds a round-trip time
 * (bench/wan-relay.ts), and real containerd (`ctr images pull`) pulling a signed three-layer image either
 * straight through the relay or through pullgate (hosts.toml mirror) whose upstream is the same relay.
 *
 * Per RTT, each round takes one image nobody pulled yet and pulls it: direct; through the gate cold (the gate
 * has not verified it yet); through the gate warm (verified, containerd's copy removed with GC in between so
 * it refetches everything). Reported: median time to pulled, and the gate's overhead over direct in RTTs. The
 * relay's request log says what went over the distance: for the gate, the requests it made upstream, in
 * order, with their start times in RTTs after the first — the round trips a first pull waits for.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { startRegistry } from './peers.ts';
import type { BenchRow } from './pull-path.ts';
import { startDelayRelay, type RelayedRequest } from './wan-relay.ts';
import { MEDIA, blobOf, pushBlob, putManifest, sha256Digest, tarOneFile, hostPlatform } from '../test/harness/images.ts';
import { startContainerd, type ContainerdPeer } from '../test/harness/containerd.ts';
import { startPullgate, VECTORS } from '../test/e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../test/e2e/sign-and-push.ts';
import type { GateBuild } from './image-gate.ts';

const LAYERS = 3;
const LAYER_BYTES = 256 * 1024;

interface Pushed {
  readonly repo: string;
  readonly digest: string;
}

/** A runnable-shaped image of LAYERS gzip layers of incompressible bytes, pushed and Notation-signed. */
async function pushSignedMultiLayer(registryUrl: string, repo: string): Promise<Pushed> {
  const layers = Array.from({ length: LAYERS }, (_, i) => {
    const tar = tarOneFile(`layer${i}.bin`, randomBytes(LAYER_BYTES));
    return { diffId: sha256Digest(tar), blob: blobOf(MEDIA.layerGzip, gzipSync(tar, { level: 1 })) };
  });
  const platform = hostPlatform();
  const config = blobOf(MEDIA.config, Buffer.from(JSON.stringify({
    architecture: platform.architecture,
    os: platform.os,
    config: { Cmd: ['/layer0.bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  })));
  const desc = (b: { mediaType: string; digest: string; size: number }) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const manifest = blobOf(MEDIA.manifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: desc(config), layers: layers.map((l) => desc(l.blob)) })));
  await pushBlob(registryUrl, repo, config.bytes);
  for (const l of layers) await pushBlob(registryUrl, repo, l.blob.bytes);
  await putManifest(registryUrl, repo, manifest.digest, manifest.bytes, MEDIA.manifest);
  await putManifest(registryUrl, repo, 'v1', manifest.bytes, MEDIA.manifest);
  await signInRegistry(registryUrl, repo, desc(manifest), e2eSigner());
  return { repo, digest: manifest.digest };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** "HEAD manifests/v1 @0, GET manifests/sha256 @1.0 …": what crossed the distance, in RTTs after the first. */
function describe(requests: readonly RelayedRequest[], rttMs: number): string {
  if (requests.length === 0) return 'no upstream request';
  const first = requests[0]!.at;
  return requests.map((r) => {
    const kind = r.path.replace(/^\/v2\/[^?]*?\/(manifests|blobs|referrers)\/([^?]+).*$/, (_m, what: string, ref: string) => {
      if (ref.startsWith('sha256-')) return 'manifests/<referrers tag index>';
      if (ref.startsWith('sha256:')) return what === 'blobs' ? 'blob' : `${what}/<digest>`;
      return `${what}/${ref}`;
    });
    return `${r.method} ${kind} @${((r.at - first) / rttMs).toFixed(1)}`;
  }).join(', ');
}

export async function benchWan(opts: { rtts: readonly number[]; rounds: number; gate: GateBuild }): Promise<BenchRow[]> {
  const registry = await startRegistry({ quiet: true });
  const stops: (() => Promise<void>)[] = [() => registry.stop()];
  try {
    const relay = await startDelayRelay(registry.host, 0);
    stops.push(() => relay.close());
    const gate = await startPullgate({
      registries: [{ host: relay.host, endpoint: relay.url }],
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'wan', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
      trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
      extra: { logLevel: 'info' },
      ...opts.gate.setup,
    });
    stops.push(() => gate.stop());
    const containerd: ContainerdPeer = await startContainerd();
    stops.push(() => containerd.stop());
    const mirrorDir = join(containerd.certsDir, relay.host);
    const viaGate = (on: boolean) => {
      rmSync(mirrorDir, { recursive: true, force: true });
      if (!on) return;
      mkdirSync(mirrorDir, { recursive: true });
      writeFileSync(join(mirrorDir, 'hosts.toml'), `server = "${gate.url}"\n[host."${gate.url}"]\n  capabilities = ["pull", "resolve"]\n`);
    };
    const pull = async (img: Pushed, gated: boolean): Promise<{ ms: number; requests: RelayedRequest[]; connections: number }> => {
      viaGate(gated);
      relay.take();
      const ref = `${relay.host}/${img.repo}:v1`;
      const started = performance.now();
      const r = await containerd.ctrPull(ref, { timeoutMs: 120_000 });
      const ms = performance.now() - started;
      if (r.code !== 0) throw new Error(`ctr pull ${ref} (${gated ? 'gate' : 'direct'}): ${r.stderr.slice(-500)}`);
      const pulled = (await containerd.listImages()).find((i) => i.name === ref);
      if (pulled?.digest !== img.digest) throw new Error(`${ref}: pulled ${pulled?.digest}, pushed ${img.digest}`);
      const seen = relay.take();
      await containerd.removeImage(ref);
      return { ms, ...seen };
    };

    // Warm the processes (JIT, ctr, the gate's first trust-store use) on one image, unmeasured, at RTT 0.
    const warmup = await pushSignedMultiLayer(registry.url, 'wan/warmup');
    await pull(warmup, false);
    await pull(warmup, true);

    const rows: BenchRow[] = [];
    for (const rtt of opts.rtts) {
      relay.rttMs = rtt;
      const direct: number[] = [];
      const cold: number[] = [];
      const warm: number[] = [];
      let coldTrace = '';
      let warmTrace = '';
      let directTrace = '';
      let conns = { direct: 0, cold: 0, warm: 0 };
      for (let round = 0; round < opts.rounds; round++) {
        const img = await pushSignedMultiLayer(registry.url, `wan/rtt${rtt}-r${round}`);
        const d = await pull(img, false);
        const c = await pull(img, true);
        const w = await pull(img, true);
        direct.push(d.ms);
        cold.push(c.ms);
        warm.push(w.ms);
        conns = { direct: conns.direct + d.connections, cold: conns.cold + c.connections, warm: conns.warm + w.connections };
        if (round === opts.rounds - 1) {
          directTrace = describe(d.requests, rtt);
          coldTrace = describe(c.requests, rtt);
          warmTrace = describe(w.requests, rtt);
        }
      }
      const base = median(direct);
      const group = `containerd pull of a signed ${LAYERS}-layer image (${LAYERS} × ${LAYER_BYTES / 1024} KiB), registry ${rtt} ms RTT away (median of ${opts.rounds})`;
      const perPull = (n: number) => (n / opts.rounds).toFixed(1);
      rows.push({ group, target: 'baseline: direct through the relay', value: base, unit: 'ms', ratio: 1, note: `${perPull(conns.direct)} new upstream connections per pull; containerd's requests: ${directTrace}` });
      const overhead = (xs: number[]) => (median(xs) - base) / rtt;
      rows.push({ group, target: 'through pullgate, cold (not yet verified)', value: median(cold), unit: 'ms', ratio: base / median(cold), note: `${overhead(cold).toFixed(1)} RTT over direct (goal ≤ 2); ${perPull(conns.cold)} new upstream connections per pull; the gate's upstream requests: ${coldTrace}` });
      rows.push({ group, target: 'through pullgate, warm (verified, content removed)', value: median(warm), unit: 'ms', ratio: base / median(warm), note: `${overhead(warm).toFixed(1)} RTT over direct (goal 0); ${perPull(conns.warm)} new upstream connections per pull; the gate's upstream requests: ${warmTrace}` });
    }
    return rows;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}
