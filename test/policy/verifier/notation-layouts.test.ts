// Every notation e2e OCI-layout case of test/vectors/expected-verdicts.json (kind notation-oci-layout, README
// §2.1, ERRATA 6) gets its verdict through the public API — loadPolicyState → PolicyEngine.decide — with the
// layout served by an in-memory registry, once through a Referrers API and once (where the layout has the
// `sha256-<hex>` index) through the tag-schema fallback, with the case's pinned clock.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision, DecisionReason } from '../../../policy/decision.ts';
import { TrustPolicyError } from '../../../verifiers/notation/trust/errors.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, engineFor, notationDir, targetOf } from './fixtures.ts';

interface LayoutCase {
  id: string;
  kind: string;
  layout: string;
  tag: string;
  scope: string;
  trustStores: Record<string, string[]>;
  trustPolicy: string;
  clock: string;
  expected: 'valid' | 'valid-with-warning' | 'invalid' | 'skipped' | 'policy-error';
  reason: string;
}

const verdicts = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: LayoutCase[] };
const cases = verdicts.cases.filter((c) => c.kind === 'notation-oci-layout');

/** Why each denied case is denied, as a DecisionReason (README §2.1 "expected" column). */
const REASON: Record<string, DecisionReason> = {
  'n-valid-identity-mismatch': 'identity_not_trusted',
  'n-untrusted-strict': 'untrusted',
  'n-untrusted-permissive': 'untrusted',
  'n-untrusted-override-audit': 'untrusted',
  'n-expired-sig-strict': 'expired',
  'n-expired-sig-override-permissive': 'expired',
  'n-expired-sig-override-audit': 'expired',
  'n-expired-cert-strict': 'certificate_expired',
  'n-invalid-sig-strict': 'signature_invalid',
  'n-invalid-sig-permissive': 'signature_invalid',
  'n-invalid-sig-audit': 'signature_invalid',
  'n-unsigned': 'no_signature',
  'n-timestamped-strict': 'expired',
};

/** The words of the denial (`pullgate: <ref>: <message>`). */
const MESSAGE: Record<string, string | RegExp> = {
  'n-valid-identity-mismatch': 'identity "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" not in trustedIdentities',
  'n-untrusted-strict': 'certificate chain not trusted by store ca:e2e',
  'n-expired-sig-strict': 'signature expired at 2023-06-27T05:21:21Z',
  'n-expired-cert-strict': /certificate "O=Internet Widgits Pty Ltd.*" expired at 2023-06-27T06:10:00Z/,
  'n-invalid-sig-strict': /signature verification failed: .*not a signature envelope/,
  'n-unsigned': 'no signature found',
  'n-timestamped-strict': 'signature expired at 2025-01-21T12:39:46Z',
};

/** The check a valid-with-warning case logs. */
const LOGGED: Record<string, string> = {
  'n-untrusted-audit': 'authenticity',
  'n-untrusted-override-strict': 'authenticity',
  'n-untrusted-override-permissive': 'authenticity',
  'n-expired-sig-permissive': 'expiry',
  'n-expired-sig-audit': 'expiry',
  'n-expired-sig-override-strict': 'expiry',
  'n-expired-cert-permissive': 'authenticTimestamp',
  'n-expired-cert-audit': 'authenticTimestamp',
  'n-expired-cert-override-strict': 'authenticTimestamp',
};

/** "<extract x5c[0] from the envelope>": the leaf certificate of the layout's (only) JWS envelope. */
function leafOfLayout(layoutDir: string): Uint8Array {
  const registry = MemoryRegistry.fromLayout(layoutDir);
  for (const [digest, m] of registry.manifests) {
    const layer = m.doc['layers']?.[0];
    if (m.doc['subject'] === undefined || layer?.mediaType !== 'application/jose+json') continue;
    const jws = JSON.parse(registry.blobs.get(layer.digest)!.toString('utf8')) as { header: { x5c: string[] } };
    void digest;
    return Buffer.from(jws.header.x5c[0]!, 'base64');
  }
  throw new Error(`no JWS envelope in ${layoutDir}`);
}

t.ok(cases.length >= 27, `${cases.length} notation-oci-layout cases`);

for (const c of cases) {
  t.test(c.id, async (t) => {
    const layoutDir = join(VECTORS, c.layout);
    const stores = Object.fromEntries(
      Object.entries(c.trustStores).map(([ref, files]) => [ref, files.map((f) => (f.startsWith('<') ? leafOfLayout(layoutDir) : join(VECTORS, f)))]),
    );
    const dir = notationDir(t, { policy: readFileSync(join(VECTORS, c.trustPolicy), 'utf8'), stores });
    const [host, ...rest] = c.scope.split('/');
    const repository = rest.join('/');
    const clock = new Date(c.clock);

    if (c.expected === 'policy-error') {
      await t.rejects(engineFor(dir, new MemoryRegistry(), { clock }), TrustPolicyError);
      await t.rejects(engineFor(dir, new MemoryRegistry(), { clock }), { message: /"integrity" verification can not be overridden/ });
      return;
    }

    const modes: { name: string; api: boolean }[] = [{ name: 'referrers API', api: true }];
    const probe = MemoryRegistry.fromLayout(layoutDir);
    const subject = probe.resolve(c.tag).digest;
    if (probe.tags.has(subject.replace(':', '-'))) modes.push({ name: 'referrers tag schema', api: false });

    for (const mode of modes) {
      const registry = MemoryRegistry.fromLayout(layoutDir, { referrersApi: mode.api });
      const engine = await engineFor(dir, registry, { clock });
      const decision: Decision = await engine.decide(targetOf(registry, host!, repository, c.tag));
      const what = `${mode.name}: ${decision.reason}: ${decision.message}`;
      switch (c.expected) {
        case 'valid':
          t.ok(decision.allow, what);
          t.equal(decision.reason, 'verified', what);
          t.same(decision.warnings ?? [], [], 'no logged failures');
          t.ok(decision.checks.length > 0 && decision.checks.every((r) => r.result === 'passed' || r.result === 'skipped'), 'every check of the deciding signature passed');
          break;
        case 'valid-with-warning': {
          t.ok(decision.allow, what);
          t.equal(decision.reason, 'verified', what);
          const check = LOGGED[c.id]!;
          t.ok(decision.warnings?.some((w) => w.startsWith(`${check} failure logged`)), `${check} failure logged: ${JSON.stringify(decision.warnings)}`);
          t.ok(decision.checks.some((r) => r.check === check && r.action === 'log' && r.result !== 'passed'), `${check} check has action log`);
          break;
        }
        case 'skipped':
          t.ok(decision.allow, what);
          t.equal(decision.reason, 'skip', what);
          break;
        case 'invalid':
          t.notOk(decision.allow, what);
          t.equal(decision.reason, REASON[c.id], what);
          if (MESSAGE[c.id] !== undefined) t.match(decision.message, MESSAGE[c.id]!, 'message in words');
          break;
      }
    }
  });
}

t.test('e2e-valid-multiple-signatures: the first signature that verifies decides (both discovery paths)', async (t) => {
  const layoutDir = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-multiple-signatures');
  const dir = notationDir(t, {
    policy: readFileSync(join(VECTORS, 'notation/test/e2e/testdata/config/trustpolicies/trustpolicy.json'), 'utf8'),
    stores: { 'ca:e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
  });
  const registry = MemoryRegistry.fromLayout(layoutDir);
  const engine = await engineFor(dir, registry);
  const d = await engine.decide(targetOf(registry, 'localhost:5000', 'e2e', 'v1'));
  t.ok(d.allow);
  t.ok((d.signatures?.length ?? 0) >= 1 && (d.signatures?.length ?? 0) <= 2, 'stops at the verified signature');
  const failedFirst = d.signatures!.find((s) => !s.verified);
  if (failedFirst) t.equal(failedFirst.reason, 'untrusted', 'the testcert11 signature is not trusted');
});

// Derived (README §2.1: upstream only `inspect`s these two layouts). With `timestamp_trustpolicy.json` (tsa:e2e =
// GlobalSign R6 + DigiCert G4) the countersignature is verified: the corrupt token fails to parse; the real one is
// from Microsoft's TSA, whose root is not in tsa:e2e. Clock inside the 1-day signer validity.
t.test('timestamped e2e layouts under timestamp_trustpolicy.json', async (t) => {
  const TIMESTAMP = join(VECTORS, 'notation/test/e2e/testdata/config/timestamp');
  const cases: [string, RegExp][] = [
    ['e2e-with-invalid-timestamped-signature', /failed to parse timestamp countersignature/],
    ['e2e-with-timestamped-signature', /certificate signed by unknown authority/],
  ];
  for (const [layout, says] of cases) {
    const layoutDir = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout', layout);
    const dir = notationDir(t, {
      policy: readFileSync(join(VECTORS, 'notation/test/e2e/testdata/config/trustpolicies/timestamp_trustpolicy.json'), 'utf8'),
      stores: { 'ca:e2e': [leafOfLayout(layoutDir)], 'tsa:e2e': [join(TIMESTAMP, 'globalsignTSARoot.cer'), join(TIMESTAMP, 'DigiCertTSARootSHA384.cer')] },
    });
    const registry = MemoryRegistry.fromLayout(layoutDir);
    const engine = await engineFor(dir, registry, { clock: new Date('2025-01-21T10:00:00Z') });
    const d = await engine.decide(targetOf(registry, 'localhost:5000', layout, 'v1'));
    t.notOk(d.allow, `${layout}: ${d.message}`);
    t.equal(d.reason, 'timestamp_invalid');
    t.match(d.checks.find((r) => r.check === 'authenticTimestamp')?.message ?? '', says);
  }
});
