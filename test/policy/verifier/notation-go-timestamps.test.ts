// The notation-go timestamp cases of test/vectors/expected-verdicts.json (kind notation-envelope-authentic-
// timestamp, README §3.2, ERRATA 2–4), through PolicyEngine.decide with the pinned clock:
//  - full verification with the case's statement (ERRATA 3: four cases fail authenticity first there), and
//  - the authenticTimestamp step verdict the README tables (upstream calls that step directly): the same
//    statement with `override: {authenticity: log}`, so the pipeline reaches the step whatever authenticity says.
// The TSA chain's revocation (step 5) needs GlobalSign's OCSP/CRL servers: these tests STUB it as "ok" (a
// RevocationChecker passed to NotationVerifier), as the README asks offline tests to do and say. A last test
// shows the offline truth without the stub: the step is inconclusive and strict denies, as notation-go does.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision, DecisionReason } from '../../../policy/decision.ts';
import type { RevocationChecker } from '../../../verifiers/notation/verifier/index.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, attachSignature, descriptorTarget, engineWith, notationDir, type Teardown } from './fixtures.ts';

interface TsCase {
  id: string;
  kind: string;
  envelope: string;
  envelopeMediaType: string;
  artifactDescriptor: { mediaType: string; digest: string; size: number };
  trustStoreRoot: string;
  trustPolicyStatement: { name: string; registryScopes: string[]; signatureVerification: Record<string, unknown>; trustStores: string[]; trustedIdentities: string[] };
  clock: string;
  expected: 'valid' | 'invalid';
  reason: string;
}

const verdicts = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: TsCase[] };
const cases = verdicts.cases.filter((c) => c.kind === 'notation-envelope-authentic-timestamp');
const TS_DIR = join(VECTORS, 'notation-go/verifier/testdata/timestamp');

/** TSA-chain revocation stub: "good" (see file comment). */
const TSA_GOOD: RevocationChecker = { checkChain: async () => ({ result: 'ok' }) };

/** Full-verification verdicts (ERRATA 3: the signer of these is not in ca:valid-trust-store). */
const FULL: Record<string, { allow: true } | { allow: false; reason: DecisionReason }> = {
  'ngts-jws-ok': { allow: true },
  'ngts-cose-ok': { allow: true },
  'ngts-jws-expired-cert-ts-ok': { allow: false, reason: 'untrusted' },
  'ngts-cose-expired-cert-ts-ok': { allow: false, reason: 'untrusted' },
  'ngts-cose-expired-cert-no-tsa': { allow: false, reason: 'untrusted' },
  'ngts-before-notbefore': { allow: false, reason: 'timestamp_invalid' },
  'ngts-after-notafter': { allow: false, reason: 'untrusted' },
  'ngts-no-timestamp': { allow: false, reason: 'timestamp_invalid' },
  'ngts-tsa-untrusted': { allow: false, reason: 'timestamp_invalid' },
  'ngts-after-cert-expiry-unexpired': { allow: true },
};

/** What the step's message says for the invalid ones (README §3.2 wording, ours where notation's is Go's). */
const STEP_SAYS: Record<string, RegExp> = {
  'ngts-cose-expired-cert-no-tsa': /verification time is after certificate "CN=testTSA,.*" validity period, it was expired at "Tue, 18 Jun 2024 07:30:31 \+0000"/,
  'ngts-before-notbefore': /timestamp can be before certificate .* it will be valid from "Fri, 18 Sep 2099 11:54:34 \+0000"/,
  'ngts-after-notafter': /timestamp can be after certificate .* it was expired at "Tue, 18 Sep 2001 11:54:34 \+0000"/,
  'ngts-no-timestamp': /no timestamp countersignature was found in the signature envelope/,
  'ngts-tsa-untrusted': /failed to verify the timestamp countersignature/,
};

async function decide(t: Teardown, c: TsCase, statement: TsCase['trustPolicyStatement'], envelope: Uint8Array, tsa: RevocationChecker | undefined): Promise<Decision> {
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [statement] }, x509Root: join(VECTORS, c.trustStoreRoot) });
  const registry = new MemoryRegistry();
  attachSignature(registry, envelope, c.envelopeMediaType, c.artifactDescriptor);
  const engine = await engineWith(dir, registry, { clock: new Date(c.clock), ...(tsa ? { revocation: { timestamping: tsa } } : {}) });
  return engine.decide(descriptorTarget('localhost:5000', 'timestamp/test', c.artifactDescriptor));
}

t.equal(cases.length, 10, 'all authentic-timestamp cases');

for (const c of cases) {
  t.test(c.id, async (t) => {
    const envelope = readFileSync(join(VECTORS, c.envelope));
    const full = await decide(t, c, c.trustPolicyStatement, envelope, TSA_GOOD);
    const expect = FULL[c.id]!;
    t.equal(full.allow, expect.allow, `full verification: ${full.reason}: ${full.message}`);
    if (!expect.allow) t.equal(full.reason, expect.reason, 'full verification reason');

    const stepStatement = { ...c.trustPolicyStatement, signatureVerification: { ...c.trustPolicyStatement.signatureVerification, override: { authenticity: 'log' } } };
    const step = await decide(t, c, stepStatement, envelope, TSA_GOOD);
    const ts = step.checks.find((r) => r.check === 'authenticTimestamp');
    t.ok(ts, `the pipeline reached authenticTimestamp: ${step.reason}: ${step.message}`);
    t.equal(ts?.result, c.expected === 'valid' ? 'passed' : 'failed', `authenticTimestamp step: ${ts?.message ?? 'passed'}`);
    if (c.expected === 'invalid') {
      t.notOk(step.allow, 'strict enforces the step');
      t.match(ts?.message ?? '', STEP_SAYS[c.id]!, 'step message');
    }
  });
}

t.test('countersignature tokens spliced into withoutTimestamp.sig (README §3.2, ERRATA 2)', async (t) => {
  const c = cases.find((x) => x.id === 'ngts-no-timestamp')!;
  const base = JSON.parse(readFileSync(join(VECTORS, c.envelope), 'utf8')) as { header: Record<string, unknown> };
  const tokens: Record<string, RegExp> = {
    'TimeStampTokenWithInvalideContentType.p7s': /content type|1\.2\.840\.113549\.1\.7\.1/,
    'TimeStampTokenWithInvalidTSTInfo.p7s': /TSTInfo/,
    'TimeStampToken.p7s': /invalid TSTInfo: mismatched message/,
    'TimeStampTokenWithoutCertificate.p7s': /invalid TSTInfo: mismatched message/,
  };
  for (const [file, says] of Object.entries(tokens)) {
    const spliced = { ...base, header: { ...base.header, 'io.cncf.notary.timestampSignature': readFileSync(join(TS_DIR, 'countersignature', file)).toString('base64') } };
    const d = await decide(t, c, c.trustPolicyStatement, Buffer.from(JSON.stringify(spliced)), TSA_GOOD);
    t.notOk(d.allow, file);
    t.equal(d.reason, 'timestamp_invalid', `${file}: ${d.message}`);
    t.match(d.checks.find((r) => r.check === 'authenticTimestamp')?.message ?? '', says, `${file} says why`);
  }
});

t.test('tsa:does-not-exist fails the step (ERRATA 4): strict denies, permissive logs', async (t) => {
  const c = cases.find((x) => x.id === 'ngts-jws-ok')!;
  const envelope = readFileSync(join(VECTORS, c.envelope));
  const missing = { ...c.trustPolicyStatement, trustStores: ['ca:valid-trust-store', 'tsa:does-not-exist'] };
  const strict = await decide(t, c, missing, envelope, TSA_GOOD);
  t.notOk(strict.allow);
  t.equal(strict.reason, 'timestamp_invalid');
  t.match(strict.checks.at(-1)?.message ?? '', 'failed to load tsa trust store with error: the trust store "does-not-exist" of type "tsa" does not exist');
  const permissive = await decide(t, c, { ...missing, signatureVerification: { level: 'permissive', verifyTimestamp: 'always' } }, envelope, TSA_GOOD);
  t.ok(permissive.allow, permissive.message);
  t.ok(permissive.warnings?.some((w) => w.startsWith('authenticTimestamp failure logged')));
});

t.test('without the stub, offline: TSA revocation is unknown, the step is inconclusive and strict denies (as notation-go)', async (t) => {
  const c = cases.find((x) => x.id === 'ngts-jws-ok')!;
  const d = await decide(t, c, c.trustPolicyStatement, readFileSync(join(VECTORS, c.envelope)), undefined);
  t.notOk(d.allow);
  t.equal(d.reason, 'revocation_inconclusive', d.message);
  t.match(d.message, /revocation status of timestamping certificate ".*GlobalSign.*" is unknown/);
  const ts = d.checks.find((r) => r.check === 'authenticTimestamp');
  t.equal(ts?.result, 'inconclusive', 'inconclusive, not failed');
});
