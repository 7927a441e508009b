/**
 * Node audit benchmark (issue 15): `runAudit` (cli/audit.ts) over a real containerd holding 200 images in 200
 * repositories of the real registry on loopback — per image: Images/List entry, Content/Read of the manifest
 * (sha256 checked), Content/Info of the manifest, its config and its kept layer (content check), signature
 * discovery at the registry (referrers 404 → tag fallback: the images are unsigned, so every one is a full deny
 * path), decision; per pass: namespaces, CRI ListContainers and, for k8s.io, CRI ListImages. "cold" is the first pass of a fresh process-level state (new
 * upstream connections, trust policy parsed); "warm" a second pass right after (same work, warm JIT and OS caches;
 * audit keeps no decision cache between passes by design: each pass is today's policy).
 *
 *   node bench/audit.ts
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildConfig } from '../config/load.ts';
import { runAudit } from '../cli/audit.ts';
import { startRegistry } from '../test/harness/registry.ts';
import { startContainerd } from '../test/harness/containerd.ts';
import { pushTestImage } from '../test/harness/images.ts';
import { writeNotationDir } from '../test/e2e/pullgate-process.ts';
import type { BenchRow } from './pull-path.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const IMAGES = 200;

export async function benchAudit(): Promise<BenchRow[]> {
  const registry = await startRegistry();
  const containerd = await startContainerd();
  const dir = mkdtempSync(join(tmpdir(), 'pullgate-bench-audit-'));
  try {
    const base = `${registry.host}/bench/base:v1`;
    await pushTestImage(registry.url, 'bench/base', 'v1', 'audit bench');
    const pulled = await containerd.ctrPull(base);
    if (pulled.code !== 0) throw new Error(`ctr pull: ${pulled.stderr}`);
    // 200 names in 200 repositories: 200 decisions (audit groups by repository and digest).
    for (let i = 0; i < IMAGES; i += 8) {
      await Promise.all(Array.from({ length: Math.min(8, IMAGES - i) }, (_, k) => containerd.ctr(['-n', 'default', 'images', 'tag', base, `${registry.host}/bench/app${i + k}:v1`])));
    }
    const notation = writeNotationDir(dir, { version: '1.0', trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:none'], trustedIdentities: ['*'] }] }, { 'ca/none': [] });
    const config = buildConfig({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: notation } }, join(dir, 'config.json'));
    const pass = async () => {
      const run = await runAudit(config, { socket: containerd.socket, remove: false });
      if (run.entries.length !== IMAGES + 1) throw new Error(`audit saw ${run.entries.length} images, expected ${IMAGES + 1}`);
      return run.durationMs;
    };
    const cold = await pass();
    const warm = await pass();
    const group = `node audit (pullgate audit), ${IMAGES + 1} images in containerd, one pass`;
    const note = 'unsigned: manifest read and hashed, content check, full signature discovery at the registry per image';
    return [
      { group, target: 'cold (first pass of the process)', value: cold, unit: 'ms', ratio: undefined, note: `${(cold / (IMAGES + 1)).toFixed(2)} ms per image; ${note}` },
      { group, target: 'warm (second pass)', value: warm, unit: 'ms', ratio: undefined, note: `${(warm / (IMAGES + 1)).toFixed(2)} ms per image` },
    ];
  } finally {
    await containerd.stop();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchAudit().then((rows) => { for (const r of rows) process.stdout.write(`${r.group} | ${r.target}: ${r.value.toFixed(0)} ${r.unit} (${r.note ?? ''})\n`); process.exit(0); }, (err: unknown) => { process.stderr.write(`${String((err as Error).stack)}\n`); process.exit(1); });
}
