/**
 * The notation config directory as the rendered projected volume lays it out in a pod. kubelet's atomic
 * writer builds it as symlinks — `trustpolicy.oci.json -> ..data/trustpolicy.oci.json`,
 * `truststore -> ..data/truststore`, `..data -> ..<timestamp>` — which notation itself refuses. This builds
 * that layout from the rendered volume's items (ConfigMap and Secret data) and loads it with pullgate's
 * loader as the gate does (symlinks allowed inside the directory): the shipped policy must find its store.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNotationConfig } from '../../verifiers/notation/trust/notation-config.ts';
import { ROOT, find, rendered } from './rendered.ts';
import type { K8sObject } from './kustomize.ts';

const E2E_CERT = path.join(ROOT, 'test/vectors/notation/test/e2e/testdata/config/localkeys/e2e.crt');

interface Item { key: string; path: string }
interface Source { configMap?: { name: string; items: Item[] }; secret?: { name: string; optional?: boolean; items: Item[] } }

/** What kubelet writes for a projected volume: `..<ts>/<item paths>`, `..data`, and top-level symlinks. */
function materialize(objects: K8sObject[], sources: Source[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-projected-'));
  const payload = path.join(dir, '..2025_01_01_00_00_00.000000001');
  for (const source of sources) {
    const ref = source.configMap ?? source.secret!;
    const object = objects.find((o) => o.kind === (source.configMap ? 'ConfigMap' : 'Secret') && o.metadata.name === ref.name)!;
    for (const item of ref.items) {
      const value = object.data?.[item.key] as string | undefined;
      if (value === undefined) {
        if (source.secret?.optional === true) continue; // an optional key that is absent is skipped
        throw new Error(`${ref.name} has no key ${item.key} and the source is not optional`);
      }
      mkdirSync(path.dirname(path.join(payload, item.path)), { recursive: true });
      writeFileSync(path.join(payload, item.path), source.configMap ? value : Buffer.from(value, 'base64'));
    }
  }
  symlinkSync(path.basename(payload), path.join(dir, '..data'));
  const top = new Set(sources.flatMap((s) => (s.configMap ?? s.secret!).items.map((i) => i.path.split('/')[0]!)));
  for (const name of top) symlinkSync(path.join('..data', name), path.join(dir, name));
  return dir;
}

const base = rendered('daemonset');
const sources = (find(base, 'DaemonSet', 'pullgate').spec.template.spec.volumes as { name: string; projected?: { sources: Source[] } }[]).find((v) => v.name === 'notation')!.projected!.sources;

t.test('as shipped (no CA in the Secret): the policy loads, its store is missing, so pulls are denied', async (t) => {
  const dir = materialize(base, sources);
  await t.rejects(loadNotationConfig(dir), /symlink|regular file/i, 'notation\'s own rule refuses the volume');
  const config = await loadNotationConfig(dir, { allowSymlinks: true });
  t.same(config.policy.statements.map((s) => s.name), ['bootstrap', 'signed-by-our-ca']);
  const store = config.trustStore.get('ca', 'pullgate');
  t.equal(store.ok, false, 'no certificates: the strict statement cannot verify anything (fail closed)');
});

t.test('with a CA in the Secret: the store the policy names is read through the symlinks', async (t) => {
  const objects = structuredClone(base);
  find(objects, 'Secret', 'pullgate-truststore').data = { 'ca.crt': readFileSync(E2E_CERT).toString('base64') };
  const dir = materialize(objects, sources);
  const config = await loadNotationConfig(dir, { allowSymlinks: true });
  const store = config.trustStore.get('ca', 'pullgate');
  t.ok(store.ok, store.ok ? 'ca:pullgate loaded' : store.error.message);
  if (store.ok) t.equal(store.certificates.length, 1);
  t.same(config.trustStore.problems(), []);
});
