/**
 * What `webhook.verifyCachedDigests` (issue 12, item 4) costs an admission: a Pod whose one container names a
 * signed image by digest with imagePullPolicy IfNotPresent, through `/validate` of an in-process webhook
 * (plain HTTP on loopback), the real distribution registry on loopback behind it. Standalone:
 * `node bench/webhook-digest.ts`.
 *
 *   floor  — the same Pod with imagePullPolicy Always: the rules alone, no registry (what a digest cost before);
 *   cold   — a digest and repository the webhook has not decided on yet (manifest fetch, signature discovery,
 *            envelope fetch, verification), one at a time, each in its own repository: the first admission of
 *            a new image, or the first one after webhook.cacheTtlMs;
 *   warm   — the same digest again within webhook.cacheTtlMs (the resolver's cache).
 * The first cold admission of the process is reported apart (TCP connect, trust-store load).
 */
import { join } from 'node:path';
import { writeNotationDir } from '../test/e2e/pullgate-process.ts';
import { fileURLToPath } from 'node:url';
import { rmSync, writeFileSync } from 'node:fs';
import { buildConfig } from '../config/load.ts';
import { startWebhook } from '../cli/webhook.ts';
import { createLogger } from '../telemetry/logger.ts';
import { startRegistry } from './peers.ts';
import { pushOciLayout } from '../test/harness/images.ts';
import { makeStateDir } from '../test/harness/processes.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const VECTORS = join(ROOT, 'test/vectors');
const SIGNED = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const REPOS = 24;
const WARM = 1000;

const registry = await startRegistry({ quiet: true });
const dir = makeStateDir('pullgate-webhook-digest-bench');
try {
  const layout = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature');
  for (let i = 0; i < REPOS; i++) await pushOciLayout(registry.url, `bench/signed-${i}`, layout, { rebuildReferrersTags: true });
  const notation = writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [{ name: 'bench', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
  }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
  const config = buildConfig({
    registries: [{ host: registry.host, endpoint: registry.url }],
    notation: { configDir: notation },
    webhook: { listen: '127.0.0.1:0', timeoutMs: 10_000 },
  }, join(dir, 'config.json'));
  const webhook = await startWebhook(config, { logger: createLogger('warn') });
  try {
    const review = (image: string, policy: string) => JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'bench', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
        namespace: 'default', operation: 'CREATE',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [{ name: 'app', image, imagePullPolicy: policy }] } },
      },
    });
    const admit = async (body: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(`${webhook.url}/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answer = (await res.json()) as { response: { allowed: boolean; status?: { message: string } } };
      const ms = performance.now() - started;
      if (!answer.response.allowed) throw new Error(`bench: denied: ${answer.response.status?.message}`);
      return ms;
    };
    const image = (i: number) => `${registry.host}/bench/signed-${i}@${SIGNED}`;
    const first = await admit(review(image(0), 'IfNotPresent'));
    const cold: number[] = [];
    // CPU time of this process (webhook and client) per admission: unlike latency, it does not grow when other
    // work shares the machine.
    const cpu = { floor: 0, warm: 0, cold: 0 };
    const charge = async (key: keyof typeof cpu, body: string): Promise<number> => {
      const before = process.cpuUsage();
      const ms = await admit(body);
      const used = process.cpuUsage(before);
      cpu[key] += (used.user + used.system) / 1000;
      return ms;
    };
    for (let i = 1; i < REPOS; i++) cold.push(await charge('cold', review(image(i), 'IfNotPresent')));
    const warmBody = review(image(1), 'IfNotPresent');
    const floorBody = review(image(1), 'Always');
    const warm: number[] = [];
    const floor: number[] = [];
    // Interleaved, so a slow stretch of the shared machine hits both alike.
    for (let i = 0; i < WARM; i++) {
      floor.push(await charge('floor', floorBody));
      warm.push(await charge('warm', warmBody));
    }
    const line = (name: string, xs: number[]) => `${name.padEnd(44)} p50 ${q(xs, 0.5).toFixed(2)} ms  p99 ${q(xs, 0.99).toFixed(2)} ms  max ${Math.max(...xs).toFixed(2)} ms  n=${xs.length}`;
    console.log(`node ${process.version}; registry ${registry.host} (distribution on loopback)`);
    console.log(line('floor: digest, Always (no verification)', floor));
    console.log(line('warm: digest, IfNotPresent, decided before', warm));
    console.log(line('cold: digest, IfNotPresent, new repository', cold));
    console.log(`${'first admission of the process (cold + connect)'.padEnd(44)} ${first.toFixed(2)} ms`);
    console.log(`CPU per admission (webhook + client): floor ${(cpu.floor / WARM).toFixed(2)} ms, warm ${(cpu.warm / WARM).toFixed(2)} ms, cold ${(cpu.cold / cold.length).toFixed(2)} ms; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
    console.log(`upstream manifest GETs: ${await upstreamManifestGets(webhook.metrics.registry.metrics(), registry.host)} for ${REPOS} digests and ${WARM * 2 + REPOS} admissions`);
  } finally {
    await webhook.close();
  }
} finally {
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}

function q(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function upstreamManifestGets(text: Promise<string>, host: string): Promise<number> {
  let n = 0;
  for (const line of (await text).split('\n')) {
    if (line.startsWith('pullgate_upstream_requests_total{') && line.includes(`registry="${host}"`) && line.includes('kind="manifest"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}
