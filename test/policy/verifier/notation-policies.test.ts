// The trust-policy cases of test/vectors/expected-verdicts.json (kind notation-trust-policy, README §2.2, ERRATA 1
// and 7) at the entry point the gate uses: loadPolicyState refuses every broken document for its reason, and the
// two documents that are valid but fail at verify time deny there (a missing store is an authenticity failure; a
// repository without a statement has no applicable policy).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrustPolicyError } from '../../../verifiers/notation/trust/errors.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, engineFor, notationDir, targetOf } from './fixtures.ts';

interface PolicyCase {
  id: string;
  kind: string;
  trustPolicy: string;
  expected: 'policy-error' | 'invalid';
  reason: string;
  layout?: string;
  tag?: string;
  scope?: string;
  trustStores?: Record<string, string[]>;
  clock?: string;
}

const verdicts = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: PolicyCase[] };
const cases = verdicts.cases.filter((c) => c.kind === 'notation-trust-policy');
const E2E_LAYOUT = 'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature';
const E2E_CERT = 'notation/test/e2e/testdata/config/localkeys/e2e.crt';
const loose = (s: string): string => s.replace(/\\/g, '');

t.equal(cases.length, 22);
for (const c of cases) {
  t.test(c.id, async (t) => {
    const stores = Object.fromEntries(Object.entries(c.trustStores ?? { 'ca:e2e': [E2E_CERT] }).map(([k, v]) => [k, v.map((f) => join(VECTORS, f))]));
    const dir = notationDir(t, { policy: readFileSync(join(VECTORS, c.trustPolicy), 'utf8'), stores });
    const registry = MemoryRegistry.fromLayout(join(VECTORS, c.layout ?? E2E_LAYOUT));
    if (c.expected === 'policy-error') {
      let err: unknown;
      try {
        await engineFor(dir, registry);
      } catch (e) {
        err = e;
      }
      t.type(err, TrustPolicyError, 'rejected at load');
      // invalid_format: `notation verify` says "malformed trust policy" (ERRATA 7); the case quotes `policy import`.
      const want = c.id === 'policy-invalid_format' ? 'malformed trust policy' : loose(c.reason);
      t.ok(loose((err as Error).message).includes(want), `${(err as Error).message} ⊇ ${want}`);
      return;
    }
    const engine = await engineFor(dir, registry, c.clock ? { clock: new Date(c.clock) } : {});
    const scope = c.scope ?? 'localhost:5000/e2e-valid-signature';
    const [host, ...repo] = scope.split('/');
    const d = await engine.decide(targetOf(registry, host!, repo.join('/'), c.tag ?? 'v1'));
    t.notOk(d.allow, `${d.reason}: ${d.message}`);
    if (c.id === 'policy-invalid_trust_store') {
      t.equal(d.reason, 'untrusted');
      t.match(d.message, 'the trust store "invalid_store" of type "ca" does not exist');
      t.same(d.checks.map((r) => [r.check, r.action, r.result]), [['integrity', 'enforce', 'passed'], ['authenticity', 'enforce', 'failed']]);
    } else {
      t.equal(d.reason, 'no_policy_statement');
    }
  });
}

t.test('invalid_trust_store under audit: the missing store is only logged (ERRATA 1)', async (t) => {
  const policy = JSON.parse(readFileSync(join(VECTORS, 'notation/test/e2e/testdata/config/trustpolicies/invalid_trust_store_trustpolicy.json'), 'utf8')) as { trustPolicies: { signatureVerification: { level: string } }[] };
  policy.trustPolicies[0]!.signatureVerification.level = 'audit';
  const dir = notationDir(t, { policy, stores: { 'ca:e2e': [join(VECTORS, E2E_CERT)] } });
  const registry = MemoryRegistry.fromLayout(join(VECTORS, E2E_LAYOUT));
  const d = await (await engineFor(dir, registry)).decide(targetOf(registry, 'localhost:5000', 'e2e-valid-signature', 'v1'));
  t.ok(d.allow, d.message);
  t.match(d.warnings?.[0] ?? '', /authenticity failure logged .*invalid_store/);
});
