// The Connaisseur mock-registry Notation cases of test/vectors/expected-verdicts.json (kind notation-registry-mock,
// README §8): a docker v2 image signed with notation-go 1.3, whose signature is found only through the
// referrers tag schema (`manifests/sha256-<hex>.json`), verified with the trust roots of 07_selfsigned_cert.yaml.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DecisionReason } from '../../../policy/decision.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, engineFor, notationDir, targetOf } from './fixtures.ts';

interface MockCase {
  id: string;
  kind: string;
  registryRoot: string;
  image: string;
  trustRootConfig: string;
  expected: 'valid' | 'invalid';
  reason: string;
}

const verdicts = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: MockCase[] };
const cases = verdicts.cases.filter((c) => c.kind.startsWith('notation-registry-mock'));

/** The mock registry's file tree as a registry without the Referrers API. */
function mockRegistry(root: string, repository: string): MemoryRegistry {
  const reg = new MemoryRegistry({ referrersApi: false });
  const base = join(root, repository);
  for (const f of readdirSync(join(base, 'manifests'))) {
    const name = f.replace(/\.json$/, '');
    const { digest } = reg.putManifest(readFileSync(join(base, 'manifests', f)), name.startsWith('sha256:') ? undefined : name);
    if (name.startsWith('sha256:') && name !== digest) throw new Error(`${f} does not hash to its name`);
  }
  for (const f of readdirSync(join(base, 'blobs'))) reg.putBlob(readFileSync(join(base, 'blobs', f)));
  return reg;
}

function trustRoot(ref: string): Buffer {
  const [file, name] = ref.split('#') as [string, string];
  const config = parseYaml(readFileSync(join(VECTORS, file), 'utf8')) as { trustRoots: { name: string; cert: string }[] };
  return Buffer.from(config.trustRoots.find((r) => r.name === name)!.cert);
}

const REASON: Record<string, DecisionReason> = { 'cn-notation-wrong-cert': 'untrusted', 'cn-notation-unsigned': 'no_signature' };

t.equal(cases.length, 3);
for (const c of cases) {
  t.test(c.id, async (t) => {
    const [repository, tag] = c.image.split(':') as [string, string];
    for (const level of c.expected === 'valid' ? ['strict', 'audit'] : ['strict']) {
      const dir = notationDir(t, {
        policy: { version: '1.0', trustPolicies: [{ name: 'connaisseur', registryScopes: ['*'], signatureVerification: { level }, trustStores: ['ca:default'], trustedIdentities: ['*'] }] },
        stores: { 'ca:default': [trustRoot(c.trustRootConfig)] },
      });
      const registry = mockRegistry(join(VECTORS, c.registryRoot), repository);
      const target = targetOf(registry, 'ghcr.io', repository, tag);
      const d = await (await engineFor(dir, registry)).decide(target);
      if (c.expected === 'valid') {
        t.ok(d.allow, `${level}: ${d.message}`);
        t.equal(target.digest.text, c.reason.replace('digest ', ''), 'the verified digest');
        t.same(d.warnings ?? [], [], 'nothing logged');
      } else {
        t.notOk(d.allow, `${level}: ${d.message}`);
        t.equal(d.reason, REASON[c.id]);
      }
      t.equal(registry.calls.referrers, 1, 'asked the Referrers API once');
    }
  });
}
