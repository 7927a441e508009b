/**
 * The house's arrows (DESIGN.md "Layout for many verifiers", issue 13.2), checked on every import of every
 * source file: `proxy`, `webhook`, `cli` → `policy` → `verifiers/*` → `pki`, `oci`; `registry` is I/O the wiring
 * hands in, so neither `policy` nor a verifier imports it; the two front doors never import each other; a verifier
 * never imports another verifier; `errors` (the typed-error base) sits under everything and imports nothing of
 * ours. The one allowance: a verifier may import *types* from `policy/decision.ts`, the contract (Decision,
 * ImageTarget, SignatureVerifier) it answers in — erased at run time, so no cycle.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const SOURCES = ['proxy', 'webhook', 'cli', 'policy', 'verifiers', 'pki', 'oci', 'registry', 'telemetry', 'node', 'config', 'errors'];

/** Top-level layer of a path relative to the root: `verifiers/notation` for verifiers, else the first folder. */
function layerOf(rel: string): string {
  const parts = rel.split('/');
  return parts[0] === 'verifiers' ? `verifiers/${parts[1]}` : parts[0]!;
}

/** What each layer must not import (by layer prefix). */
const FORBIDDEN: Record<string, readonly string[]> = {
  proxy: ['webhook', 'cli', 'node'],
  webhook: ['proxy', 'cli', 'node'],
  policy: ['proxy', 'webhook', 'cli', 'registry', 'node'],
  verifiers: ['proxy', 'webhook', 'cli', 'registry', 'node', 'policy'],
  pki: ['proxy', 'webhook', 'cli', 'registry', 'node', 'policy', 'verifiers', 'oci', 'config'],
  oci: ['proxy', 'webhook', 'cli', 'registry', 'node', 'policy', 'verifiers', 'pki'],
  registry: ['proxy', 'webhook', 'cli', 'node', 'policy', 'verifiers'],
  telemetry: ['proxy', 'webhook', 'cli', 'registry', 'node', 'policy', 'verifiers'],
  // The bottom: the typed-error base every layer shares imports nothing of ours.
  errors: SOURCES.filter((s) => s !== 'errors'),
};

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (p.endsWith('.ts')) yield p;
  }
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

t.test('imports go one way', async (t) => {
  const violations: string[] = [];
  let checked = 0;
  for (const top of SOURCES) {
    for (const file of files(path.join(ROOT, top))) {
      const rel = path.relative(ROOT, file);
      const from = layerOf(rel);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const typeOnly = m[2] !== undefined;
        const spec = m[3] ?? m[4]!;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
        const to = layerOf(target);
        checked++;
        if (to === from) continue;
        const rules = FORBIDDEN[from.startsWith('verifiers/') ? 'verifiers' : from] ?? [];
        const hit = rules.find((r) => to === r || to.startsWith(`${r}/`));
        if (from.startsWith('verifiers/') && to.startsWith('verifiers/')) {
          violations.push(`${rel} → ${target} (a verifier imports another verifier)`);
          continue;
        }
        if (hit === 'policy' && from.startsWith('verifiers/') && typeOnly && target === 'policy/decision.ts') continue;
        if (hit !== undefined) violations.push(`${rel} → ${target}${typeOnly ? ' (type)' : ''}`);
      }
    }
  }
  t.ok(checked > 500, `${checked} imports checked`);
  t.same(violations, [], 'no import against the arrows');
});
