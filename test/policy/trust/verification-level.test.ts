// The levels table (trust-store-trust-policy.md § "Signature Verification details") and overrides
// (§ "Custom Verification Level"), with notation-go's rules: trustpolicy_test.go TestGetVerificationLevel and
// TestCustomVerificationLevel, case for case.
import t from 'tap';
import { CHECK_NAMES, LEVEL_ACTIONS, resolveCheckActions } from '../../../verifiers/notation/trust/verification-level.ts';
import type { CheckAction, VerificationLevel } from '../../../verifiers/notation/trust/verification-level.ts';
import { parseTrustPolicyDocument } from '../../../verifiers/notation/trust/trust-policy.ts';
import { policyErrorOf } from './helpers.ts';

const E = 'enforce';
const L = 'log';
const S = 'skip';
/** Actions in the spec's column order: integrity, authenticity, authenticTimestamp, expiry, revocation. */
const row = (level: VerificationLevel, override: Record<string, string> = {}): CheckAction[] | string => {
  const r = resolveCheckActions(level, Object.entries(override));
  return r.ok ? CHECK_NAMES.map((c) => r.actions[c]) : r.code;
};

t.test('the spec table', async (t) => {
  t.same(CHECK_NAMES, ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation']);
  t.same(row('strict'), [E, E, E, E, E]);
  t.same(row('permissive'), [E, E, L, L, L]);
  t.same(row('audit'), [E, L, L, L, L]);
  t.same(row('skip'), [S, S, S, S, S]);
  t.ok(Object.isFrozen(LEVEL_ACTIONS) && Object.isFrozen(LEVEL_ACTIONS.strict), 'the table cannot be changed at run time');
});

t.test('overrides accepted (notation-go TestCustomVerificationLevel)', async (t) => {
  t.same(row('strict', { authenticity: 'log' }), [E, L, E, E, E]);
  t.same(row('permissive', { authenticity: 'log' }), [E, L, L, L, L]);
  t.same(row('audit', { authenticity: 'log' }), [E, L, L, L, L]);
  t.same(row('strict', { expiry: 'log' }), [E, E, E, L, E]);
  t.same(row('permissive', { expiry: 'log' }), [E, E, L, L, L]);
  t.same(row('audit', { expiry: 'log' }), [E, L, L, L, L]);
  t.same(row('strict', { revocation: 'log' }), [E, E, E, E, L]);
  t.same(row('permissive', { revocation: 'log' }), [E, E, L, L, L]);
  t.same(row('audit', { revocation: 'log' }), [E, L, L, L, L]);
  t.same(row('strict', { revocation: 'skip' }), [E, E, E, E, S]);
  t.same(row('permissive', { revocation: 'skip' }), [E, E, L, L, S]);
  t.same(row('audit', { revocation: 'skip' }), [E, L, L, L, S]);
  t.same(row('permissive', { authenticTimestamp: 'log' }), [E, E, L, L, L]);
  t.same(row('audit', { authenticTimestamp: 'log' }), [E, L, L, L, L]);
  t.same(row('strict', { authenticTimestamp: 'log' }), [E, E, L, E, E]);
  // the e2e override files
  t.same(row('strict', { revocation: 'log', expiry: 'log', authenticTimestamp: 'log', authenticity: 'log' }), [E, L, L, L, L]);
  t.same(row('permissive', { revocation: 'enforce', expiry: 'enforce', authenticTimestamp: 'enforce', authenticity: 'log' }), [E, L, E, E, E]);
  t.same(row('audit', { revocation: 'enforce', expiry: 'enforce', authenticTimestamp: 'enforce', authenticity: 'enforce' }), [E, E, E, E, E]);
  t.same(row('skip', {}), [S, S, S, S, S], 'an empty override on skip is no override');
});

t.test('overrides refused, with notation-go messages', async (t) => {
  t.equal(row('strict', { integrity: 'log' }), 'OVERRIDE_INTEGRITY');
  t.equal(row('strict', { integrity: 'enforce' }), 'OVERRIDE_INTEGRITY', 'integrity cannot even be restated');
  t.equal(row('strict', { authenticity: 'skip' }), 'OVERRIDE_SKIP_FORBIDDEN');
  t.equal(row('strict', { authenticTimestamp: 'skip' }), 'OVERRIDE_SKIP_FORBIDDEN');
  t.equal(row('strict', { expiry: 'skip' }), 'OVERRIDE_SKIP_FORBIDDEN');
  t.equal(row('skip', { authenticity: 'log' }), 'OVERRIDE_ON_SKIP');
  t.equal(row('strict', { invalid: 'log' }), 'OVERRIDE_CHECK_UNKNOWN');
  t.equal(row('strict', { Authenticity: 'log' }), 'OVERRIDE_CHECK_UNKNOWN', 'override keys are case-sensitive');
  t.equal(row('strict', { authenticity: 'invalid' }), 'OVERRIDE_ACTION_UNKNOWN');
  t.equal(row('strict', { authenticity: 'Log' }), 'OVERRIDE_ACTION_UNKNOWN', 'override values are case-sensitive');
  t.equal(row('strict', { authenticity: '' }), 'OVERRIDE_ACTION_UNKNOWN');

  const msg = (level: VerificationLevel, o: Record<string, string>): string => {
    const r = resolveCheckActions(level, Object.entries(o));
    return r.ok ? 'ok' : r.reason;
  };
  t.equal(msg('strict', { integrity: 'log' }), '"integrity" verification can not be overridden in custom signature verification');
  t.equal(msg('strict', { expiry: 'skip' }), '"expiry" verification can not be skipped in custom signature verification');
  t.equal(msg('skip', { expiry: 'log' }), `signature verification level "skip" can't be used to customize signature verification`);
  t.equal(msg('strict', { nope: 'log' }), 'verification type "nope" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]');
  t.equal(msg('strict', { expiry: 'nope' }), 'verification action "nope" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]');
});

const doc = (signatureVerification: unknown, extra: Record<string, unknown> = { trustStores: ['ca:x'], trustedIdentities: ['*'] }): unknown => ({
  version: '1.0',
  trustPolicies: [{ name: 'p', registryScopes: ['*'], signatureVerification, ...extra }],
});
const codeOf = (json: unknown): string => {
  const err = policyErrorOf(() => parseTrustPolicyDocument(json, 'test.json'));
  return typeof err === 'string' ? err : err.code;
};

t.test('levels and overrides inside a document', async (t) => {
  t.equal(codeOf(doc({ level: 'strict' })), 'did not throw');
  t.equal(codeOf(doc({})), 'LEVEL_MISSING');
  t.equal(codeOf(doc(null)), 'LEVEL_MISSING', 'null signatureVerification is the zero value');
  t.equal(codeOf(doc({ level: 'Strict' })), 'LEVEL_UNKNOWN', 'level names are case-sensitive');
  t.equal(codeOf(doc({ level: 'custom' })), 'LEVEL_UNKNOWN');
  t.equal(codeOf(doc({ level: 'skip', override: { revocation: 'skip' } }, {})), 'OVERRIDE_ON_SKIP');
  t.equal(codeOf(doc({ level: 'skip', override: {} }, {})), 'did not throw');
  t.equal(codeOf(doc({ level: 'skip', override: null }, {})), 'did not throw');
  t.equal(codeOf(doc({ level: 'audit', override: { expiry: null } })), 'OVERRIDE_ACTION_UNKNOWN', 'a null action is ""');
  t.equal(codeOf(doc({ level: 'audit', override: ['expiry'] })), 'POLICY_MALFORMED');
  t.equal(codeOf(doc({ level: 'audit', override: { expiry: 1 } })), 'POLICY_MALFORMED');

  const err = policyErrorOf(() => parseTrustPolicyDocument(doc({ level: 'permissive', override: { integrity: 'enforce' } }), 'test.json'));
  t.ok(typeof err !== 'string');
  if (typeof err !== 'string') {
    t.equal(err.statement, 'p');
    t.equal(err.path, 'trustPolicies[0].signatureVerification.override.integrity');
    t.equal(err.message, 'test.json: oci trust policy: trust policy statement "p" has invalid signatureVerification: "integrity" verification can not be overridden in custom signature verification (at trustPolicies[0].signatureVerification.override.integrity)');
  }
});

t.test('verifyTimestamp', async (t) => {
  const vt = (value: unknown): string => {
    try {
      return parseTrustPolicyDocument(doc({ level: 'strict', verifyTimestamp: value }), 't').statements[0]?.signatureVerification.verifyTimestamp ?? '?';
    } catch (err) {
      return (err as { code: string }).code;
    }
  };
  t.equal(vt(undefined), 'always', 'absent means always');
  t.equal(vt(null), 'always');
  t.equal(vt(''), 'always');
  t.equal(vt('always'), 'always');
  t.equal(vt('afterCertExpiry'), 'afterCertExpiry');
  t.equal(vt('aftercertexpiry'), 'VERIFY_TIMESTAMP_INVALID');
  t.equal(vt('never'), 'VERIFY_TIMESTAMP_INVALID');
  t.equal(vt(true), 'POLICY_MALFORMED');
  const err = policyErrorOf(() => parseTrustPolicyDocument(doc({ level: 'strict', verifyTimestamp: 'invalid' }), 't'));
  t.match(typeof err === 'string' ? err : err.message, 'trust policy statement "p" has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got "invalid"');
  t.equal(codeOf(doc({ level: 'skip', verifyTimestamp: 'invalid' }, {})), 'VERIFY_TIMESTAMP_INVALID', 'checked at every level');
});
