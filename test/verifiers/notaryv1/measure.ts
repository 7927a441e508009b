/**
 * Measurement, not a test (no assertions on time): one cold verification of a saved metadata set in a fresh process
 * (first call: key parsing, canonicalisation, every signature through node:crypto, JIT cold), then the warm mean.
 * Run: node test/verifiers/notaryv1/measure.ts
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { MetadataFetch } from '../../../verifiers/notaryv1/index.ts';
import { prepareNotaryV1Policy, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const sets = [
  { label: 'notary0.3 (x509 root, ecdsa roles, rsa-x509 PSS delegation), tag in targets/releases', dir: `${V}notary/fixtures/compatibility/notary0.3/tuf/docker.com/notary0.3/tst/metadata`, gun: 'docker.com/notary0.3/tst', tag: 'hello' },
  { label: 'notary0.1 (x509 root, ecdsa roles), tag in targets', dir: `${V}notary/fixtures/compatibility/notary0.1/tuf/docker.com/notary0.1/samplerepo/metadata`, gun: 'docker.com/notary0.1/samplerepo', tag: 'LICENSE' },
];
const now = new Date('2026-06-01T00:00:00Z');
for (const s of sets) {
  // bytes read up front: the measurement is the verifier, not the disk
  const files = new Map<string, Uint8Array>();
  for (const n of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']) {
    try { files.set(n, readFileSync(`${s.dir}/${n}.json`)); } catch { /* absent */ }
  }
  const source = { fetchRole: async (_g: string, n: string): Promise<MetadataFetch> => { const b = files.get(n); return b ? { bytes: b } : { notFound: true }; } };
  const policy = prepareNotaryV1Policy({ trust: { certificateRule: true } });
  const t0 = performance.now();
  const first = await verifyNotaryV1({ gun: s.gun, reference: { tag: s.tag }, policy, source, now });
  const cold = performance.now() - t0;
  const n = 200;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) await verifyNotaryV1({ gun: s.gun, reference: { tag: s.tag }, policy, source, now });
  const warm = (performance.now() - t1) / n;
  console.log(`${s.label}: ok=${first.ok} cold ${cold.toFixed(2)} ms, warm ${warm.toFixed(2)} ms`);
}
