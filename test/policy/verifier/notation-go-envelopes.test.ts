// The notation-go envelope cases of test/vectors/expected-verdicts.json (kind notation-envelope, README §3.1):
// each mock envelope wrapped in a legacy-form signature manifest on the case's artifact descriptor, verified
// through PolicyEngine.decide with notation-go's own test trust store tree and the case's statement, at every
// level the case lists — and at the other levels with the README's "logged under permissive/audit" verdicts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionReason } from '../../../policy/decision.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, attachSignature, descriptorTarget, engineFor, notationDir } from './fixtures.ts';

interface EnvelopeCase {
  id: string;
  kind: string;
  envelope: string;
  envelopeMediaType: string;
  artifactDescriptor: { mediaType: string; digest: string; size: number };
  trustStoreRoot: string;
  trustPolicyStatement: { name: string; registryScopes: string[]; signatureVerification: { level: string }; trustStores: string[]; trustedIdentities: string[] };
  levels: string;
  clock: string;
  expected: 'valid' | 'invalid';
}

const verdicts = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: EnvelopeCase[] };
const cases = verdicts.cases.filter((c) => c.kind === 'notation-envelope');

type Expect = { allow: false; reason: DecisionReason; says?: RegExp } | { allow: true; logged?: string };
const ok: Expect = { allow: true };
const logged = (check: string): Expect => ({ allow: true, logged: check });
const denied = (reason: DecisionReason, says?: RegExp): Expect => (says ? { allow: false, reason, says } : { allow: false, reason });

/** Per case, per level: README §3.1 ("strict/permissive/audit unless noted", "logged in audit"). */
const EXPECT: Record<string, Record<string, Expect>> = {
  'ng-ca-valid': { strict: ok, permissive: ok, audit: ok },
  'ng-sa-valid': { strict: ok, permissive: ok, audit: ok },
  'ng-ca-invalid': { strict: denied('signature_invalid'), permissive: denied('signature_invalid'), audit: denied('signature_invalid') },
  'ng-sa-invalid': { strict: denied('signature_invalid'), permissive: denied('signature_invalid'), audit: denied('signature_invalid') },
  'ng-ca-expired': { strict: denied('expired', /signature expired at 2022-07-29T23:59:00Z/), permissive: logged('expiry'), audit: logged('expiry') },
  'ng-sa-expired': { strict: denied('expired', /signature expired at 2022-07-29T23:59:00Z/), permissive: logged('expiry'), audit: logged('expiry') },
  'ng-ca-untrusted': { strict: denied('untrusted', /not trusted by store ca:valid-trust-store-2/), permissive: denied('untrusted'), audit: logged('authenticity') },
  'ng-ca-identity-mismatch': { strict: denied('identity_not_trusted', /identity "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US" not in trustedIdentities/), permissive: denied('identity_not_trusted'), audit: logged('trustedIdentity') },
  'ng-ca-plugin-missing': { strict: denied('signature_invalid', /unknown critical header|verification plugin/), permissive: denied('signature_invalid'), audit: denied('signature_invalid') },
  'ng-sa-plugin-missing': { strict: denied('signature_invalid', /unknown critical header|verification plugin/), permissive: denied('signature_invalid'), audit: denied('signature_invalid') },
};

t.equal(cases.length, 10, 'all notation-envelope cases');

for (const c of cases) {
  t.test(c.id, async (t) => {
    const listed = c.levels.split(',');
    const perLevel = EXPECT[c.id]!;
    for (const level of ['strict', 'permissive', 'audit']) {
      const expect = perLevel[level]!;
      if (listed.includes(level)) t.equal(expect.allow, c.expected === 'valid', `${level} is one of the case's levels: expected ${c.expected}`);
      const statement = { ...c.trustPolicyStatement, signatureVerification: { level } };
      const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [statement] }, x509Root: join(VECTORS, c.trustStoreRoot) });
      const registry = new MemoryRegistry();
      attachSignature(registry, readFileSync(join(VECTORS, c.envelope)), c.envelopeMediaType, c.artifactDescriptor);
      const engine = await engineFor(dir, registry, { clock: new Date(c.clock) });
      const [host, ...repo] = c.trustPolicyStatement.registryScopes[0]!.split('/');
      const d = await engine.decide(descriptorTarget(host!, repo.join('/'), c.artifactDescriptor));
      const what = `${level}: ${d.reason}: ${d.message}`;
      t.equal(d.allow, expect.allow, what);
      if (expect.allow) {
        t.equal(d.reason, 'verified', what);
        if (expect.logged) t.ok(d.warnings?.some((w) => w.startsWith(`${expect.logged} failure logged`)), `${expect.logged} logged: ${JSON.stringify(d.warnings)}`);
        else t.same(d.warnings ?? [], [], 'nothing logged');
      } else {
        t.equal(d.reason, expect.reason, what);
        if (expect.says) t.match(d.message, expect.says, 'message');
      }
    }
  });
}

t.test('ng-ca-invalid: padded base64url is an integrity failure, not a lenient decode', async (t) => {
  const c = cases.find((x) => x.id === 'ng-ca-invalid')!;
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [c.trustPolicyStatement] }, x509Root: join(VECTORS, c.trustStoreRoot) });
  const registry = new MemoryRegistry();
  attachSignature(registry, readFileSync(join(VECTORS, c.envelope)), c.envelopeMediaType, c.artifactDescriptor);
  const d = await (await engineFor(dir, registry)).decide(descriptorTarget('registry.acme-rockets.io', 'software/net-monitor', c.artifactDescriptor));
  t.notOk(d.allow);
  t.same(d.checks.map((r) => [r.check, r.action, r.result]), [['integrity', 'enforce', 'failed']]);
});

t.test('ca_valid_sig_env on another digest of the same repository: the payload binds the artifact', async (t) => {
  const c = cases.find((x) => x.id === 'ng-ca-valid')!;
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [c.trustPolicyStatement] }, x509Root: join(VECTORS, c.trustStoreRoot) });
  const registry = new MemoryRegistry();
  const other = { ...c.artifactDescriptor, digest: `sha256:${'1'.repeat(64)}` };
  attachSignature(registry, readFileSync(join(VECTORS, c.envelope)), c.envelopeMediaType, other);
  const d = await (await engineFor(dir, registry)).decide(descriptorTarget('registry.acme-rockets.io', 'software/net-monitor', other));
  t.notOk(d.allow);
  t.equal(d.reason, 'signature_invalid');
  t.match(d.message, `the signature is for ${c.artifactDescriptor.digest}, not ${other.digest}`);
});
