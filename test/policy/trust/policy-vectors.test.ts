// Every trust policy among the vectors (notation e2e config/trustpolicies/*, blob/trustpolicies/*) is accepted
// or rejected as notation does, for the same reason (vectors README §2.2, ERRATA 1/6/7), and every
// policy-related case of expected-verdicts.json gets its verdict at the layer that owns it.
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TrustPolicyError } from '../../../verifiers/notation/trust/errors.ts';
import type { TrustPolicyErrorCode } from '../../../verifiers/notation/trust/errors.ts';
import { parseTrustPolicyDocument, statementFor } from '../../../verifiers/notation/trust/trust-policy.ts';
import type { TrustPolicyDocument } from '../../../verifiers/notation/trust/trust-policy.ts';
import { TrustStore } from '../../../verifiers/notation/trust/trust-store.ts';
import { policyErrorOf } from './helpers.ts';

const VECTORS = join(import.meta.dirname, '../../vectors');
const OCI_DIR = join(VECTORS, 'notation/test/e2e/testdata/config/trustpolicies');
const BLOB_DIR = join(VECTORS, 'notation/test/e2e/testdata/blob/trustpolicies');

type Expectation = { readonly ok: true } | { readonly code: TrustPolicyErrorCode; readonly says: string };
const valid: Expectation = { ok: true };
const bad = (code: TrustPolicyErrorCode, says: string): Expectation => ({ code, says });

/** README §2.2, with notation's error text (the part notation's e2e tests match on). */
const EXPECTED: Record<string, Expectation> = {
  'trustpolicy.json': valid,
  'any_registry_scope_trust_policy.json': valid,
  'permissive_trustpolicy.json': valid,
  'audit_trustpolicy.json': valid,
  'skip_trustpolicy.json': valid, // skip + `*`: accepted as notation-go does for OCI policies (ERRATA 6)
  'registry_scope_trustpolicy.json': valid,
  'multiple_registry_scope_trustpolicy.json': valid,
  'multiple_trust_store_trustpolicy.json': valid,
  'multiple_trusted_identity_trustpolicy.json': valid,
  'valid_trusted_identity_trustpolicy.json': valid,
  'invalid_trusted_identity_trustpolicy.json': valid, // C=USB is a well-formed DN; it fails at verify time
  'multi_statements_with_wildcard_registry_scope_trustpolicy.json': valid,
  'timestamp_trustpolicy.json': valid,
  'timestamp_after_cert_expiry_trustpolicy.json': valid,
  'override_strict_trustpolicy.json': valid,
  'override_permissive_trustpolicy.json': valid,
  'override_audit_trustpolicy.json': valid,
  'quickstart_trustpolicy.json': valid,
  'generate_test_trustpolicy.json': valid,
  'invalid_registry_scope_trustpolicy.json': valid, // valid document; the artifact just has no statement
  'invalid_trust_store_trustpolicy.json': valid, // valid document; the store is missing at verify time (ERRATA 1)
  'overlapped_trust_store_trustpolicy.json': valid, // accepted and de-duplicated (ERRATA 7)
  'invalid_format_trustpolicy.json': bad('POLICY_MALFORMED', 'malformed trust policy'),
  'empty_registry_scope_trustpolicy.json': bad('SCOPE_MISSING', 'trust policy statement "e2e" has zero registry scopes'),
  'malformed_registry_scope_trustpolicy.json': bad('SCOPE_INVALID', 'registry scope "localhost:5000\\\\test-repo" is not valid, make sure it is a fully qualified repository'),
  'overlapped_registry_scope_trustpolicy.json': bad('SCOPE_DUPLICATE', 'registry scope "localhost:5000/test-repo6" is present in multiple oci trust policy statements'),
  'multi_statements_with_the_same_registry_scope_trustpolicy.json': bad('SCOPE_DUPLICATE', 'registry scope "localhost:5000/test-repo8" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement'),
  'multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json': bad('SCOPE_DUPLICATE', 'registry scope "*" is present in multiple oci trust policy statements'),
  'multi_statements_with_the_same_name_trustpolicy.json': bad('STATEMENT_NAME_DUPLICATE', 'multiple oci trust policy statements use the same name "e2e", statement names must be unique'),
  'wildcard_plus_other_registry_scope_trustpolicy.json': bad('SCOPE_WILDCARD_MIXED', `uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`),
  'unset_trust_store_trustpolicy.json': bad('TRUST_MISSING', 'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified'),
  'unset_trusted_identity_trustpolicy.json': bad('TRUST_MISSING', 'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified'),
  'malformed_trust_store_trustpolicy.json': bad('TRUST_STORE_NAME', 'unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format'),
  'wildcard_trust_store_trustpolicy.json': bad('TRUST_STORE_MALFORMED', 'has malformed trust store value "*". The required format is <TrustStoreType>:<TrustStoreName>'),
  'malformed_trusted_identity_trustpolicy.json': bad('IDENTITY_SEPARATOR', 'trust policy statement "e2e" has trusted identity "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" missing separator'),
  'empty_trusted_identity_trustpolicy.json': bad('IDENTITY_EMPTY', 'trust policy statement "e2e" has an empty trusted identity'),
  'overlapped_trusted_identity_trustpolicy.json': bad('IDENTITY_OVERLAP', 'trust policy statement "e2e" has overlapping x509 trustedIdentities'),
  'wildcard_plus_other_trusted_identity_trustpolicy.json': bad('IDENTITY_WILDCARD_MIXED', `trust policy statement "e2e" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`),
  'missing_organization_trusted_identity_trustpolicy.json': bad('IDENTITY_DN_INVALID', `distinguished name (DN) " CN=e2e,L=Seattle,ST=WA,C=US" has no mandatory RDN attribute for "O"`),
  'missing_state_trusted_identity_trustpolicy.json': bad('IDENTITY_DN_INVALID', `distinguished name (DN) " CN=e2e,O=Notary,L=Seattle,C=US" has no mandatory RDN attribute for "ST"`),
  'missing_country_trusted_identity_trustpolicy.json': bad('IDENTITY_DN_INVALID', `distinguished name (DN) " CN=e2e,O=Notary,L=Seattle,ST=WA" has no mandatory RDN attribute for "C"`),
  'override_integrity_for_permissive_trustpolicy.json': bad('OVERRIDE_INTEGRITY', '"integrity" verification can not be overridden in custom signature verification'),
  // Blob policies (`notation blob verify`) have no registryScopes: as an OCI policy notation-go rejects them too.
  'blob_trust_policy.json': bad('SCOPE_MISSING', 'oci trust policy statement "wabbit-networks-policy" has zero registry scopes'),
};
const BLOB_EXPECTED: Record<string, Expectation> = {
  'trustpolicy.blob.json': bad('SCOPE_MISSING', 'oci trust policy statement "test-blob-statement" has zero registry scopes'),
};

/** What `loadNotationConfig` does with a file's bytes: JSON.parse, then the document rules. */
function load(path: string): TrustPolicyDocument {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TrustPolicyError('POLICY_MALFORMED', `malformed trust policy (${(err as Error).message})`, { source: path });
  }
  return parseTrustPolicyDocument(json, path);
}

function check(t: Test, dir: string, expected: Record<string, Expectation>): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  t.same(files, Object.keys(expected).sort(), `every policy file in ${dir} has an expectation`);
  for (const file of files) {
    const want = expected[file] as Expectation;
    const path = join(dir, file);
    if ('ok' in want) {
      t.doesNotThrow(() => load(path), `${file} is a valid trust policy`);
      continue;
    }
    const err = policyErrorOf(() => load(path));
    if (typeof err === 'string') {
      t.fail(`${file} is rejected with a TrustPolicyError: ${err}`);
      continue;
    }
    t.equal(err.code, want.code, `${file}: code`);
    t.ok(err.message.includes(want.says), `${file}: says ${want.says}\n  got: ${err.message}`);
    t.ok(err.message.startsWith(path), `${file}: the message names the file`);
  }
}

t.test('notation e2e config/trustpolicies', async (t) => check(t, OCI_DIR, EXPECTED));
t.test('notation e2e blob/trustpolicies', async (t) => check(t, BLOB_DIR, BLOB_EXPECTED));

t.test('accepted documents carry the right statement data', async (t) => {
  const strict = load(join(OCI_DIR, 'trustpolicy.json'));
  const [s] = strict.statements;
  t.equal(strict.version, '1.0');
  t.equal(s?.name, 'e2e');
  t.same(s?.registryScopes, ['*']);
  t.same(s?.trustStores, [{ type: 'ca', name: 'e2e', text: 'ca:e2e' }]);
  t.same(s?.trustedIdentities, [{ kind: 'any', text: '*' }]);
  t.same(s?.signatureVerification, {
    level: 'strict',
    override: {},
    actions: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
    verifyTimestamp: 'always',
  });

  const skip = load(join(OCI_DIR, 'skip_trustpolicy.json')).statements[0];
  t.equal(skip?.signatureVerification.level, 'skip');
  t.same(skip?.trustStores, []);
  t.same(skip?.trustedIdentities, []);

  t.equal(load(join(OCI_DIR, 'timestamp_trustpolicy.json')).statements[0]?.signatureVerification.verifyTimestamp, 'always');
  t.equal(load(join(OCI_DIR, 'timestamp_after_cert_expiry_trustpolicy.json')).statements[0]?.signatureVerification.verifyTimestamp, 'afterCertExpiry');
  t.same(load(join(OCI_DIR, 'timestamp_trustpolicy.json')).statements[0]?.trustStores.map((r) => r.text), ['ca:e2e', 'tsa:e2e']);
  t.same(load(join(OCI_DIR, 'overlapped_trust_store_trustpolicy.json')).statements[0]?.trustStores.map((r) => r.text), ['ca:e2e'], 'duplicate store listed once');

  const overrideAudit = load(join(OCI_DIR, 'override_audit_trustpolicy.json')).statements[0]?.signatureVerification;
  t.same(overrideAudit?.override, { revocation: 'enforce', expiry: 'enforce', authenticTimestamp: 'enforce', authenticity: 'enforce' });
  t.same(overrideAudit?.actions, { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' });

  const identities = load(join(OCI_DIR, 'multiple_trusted_identity_trustpolicy.json')).statements[0]?.trustedIdentities ?? [];
  t.same(identities.map((i) => i.kind), ['x509.subject', 'x509.subject']);
  const first = identities[0];
  t.same(first?.kind === 'x509.subject' ? Object.fromEntries(first.dn.attributes) : undefined, { CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' });
});

interface VerdictCase {
  readonly id: string;
  readonly kind: string;
  readonly trustPolicy?: string;
  readonly expected: string;
  readonly reason?: string;
  readonly scope?: string;
}

t.test('expected-verdicts.json: every case with a trust policy file', async (t) => {
  const { cases } = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: VerdictCase[] };
  const withPolicy = cases.filter((c) => c.trustPolicy !== undefined);
  t.ok(withPolicy.length >= 30, `${withPolicy.length} cases name a trust policy`);
  const unslash = (s: string): string => s.replaceAll('\\', '');
  for (const c of withPolicy) {
    const path = join(VECTORS, c.trustPolicy as string);
    if (c.expected === 'policy-error') {
      const err = policyErrorOf(() => load(path));
      // ERRATA 7: "failed to parse OCI trust policy configuration" is `notation policy import`'s wording;
      // `notation verify` (and we) say "malformed trust policy".
      const reason = c.reason === 'failed to parse OCI trust policy configuration' ? 'malformed trust policy' : (c.reason as string);
      t.ok(typeof err !== 'string' && unslash(err.message).includes(unslash(reason)), `${c.id}: policy error "${reason}"\n  got: ${typeof err === 'string' ? err : err.message}`);
      continue;
    }
    // Every other verdict (valid / invalid / skipped, decided at verification) needs a usable document.
    t.doesNotThrow(() => load(path), `${c.id}: the policy document is valid (verdict ${c.expected} comes from verification)`);
  }
});

t.test('the two policy cases whose verdict is "invalid" at verify time', async (t) => {
  // policy-invalid-registry-scope: the artifact's repository has no statement and there is no `*` → untrusted.
  const scoped = load(join(OCI_DIR, 'invalid_registry_scope_trustpolicy.json'));
  t.equal(statementFor(scoped, 'localhost:5000/e2e-valid-signature'), undefined, 'no applicable statement');
  t.equal(statementFor(scoped, 'localhost:5000/invalid-test-repo')?.name, 'e2e');

  // policy-invalid_trust_store (ERRATA 1): a valid document; the store lookup fails when verifying, and that
  // failure is the authenticity result (enforced under strict).
  const doc = load(join(OCI_DIR, 'invalid_trust_store_trustpolicy.json'));
  const statement = statementFor(doc, 'localhost:5000/e2e-valid-signature');
  t.equal(statement?.signatureVerification.actions.authenticity, 'enforce');
  const store = new TrustStore([]);
  const lookup = store.certificates(statement?.trustStores ?? [], 'ca');
  t.equal(lookup.ok, false);
  if (!lookup.ok) {
    t.equal(lookup.error.code, 'STORE_NOT_FOUND');
    t.match(lookup.error.message, 'the trust store "invalid_store" of type "ca" does not exist');
  }
});

t.test('expected-verdicts.json: the statement and the action that decide each verification verdict', async (t) => {
  // The verdicts come from verification, but which statement applies and whether the failing check is
  // enforced or only logged is this layer's answer: "invalid" needs `enforce`, "valid-with-warning" `log`.
  const { cases } = JSON.parse(readFileSync(join(VECTORS, 'expected-verdicts.json'), 'utf8')) as { cases: VerdictCase[] };
  const checks = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry'] as const;
  let decided = 0;
  for (const c of cases) {
    if (c.trustPolicy === undefined || c.scope === undefined || c.expected === 'policy-error') continue;
    const statement = statementFor(load(join(VECTORS, c.trustPolicy)), c.scope);
    t.ok(statement, `${c.id}: a statement applies to ${c.scope}`);
    if (statement === undefined) continue;
    if (c.expected === 'skipped') {
      t.equal(statement.signatureVerification.level, 'skip', `${c.id}: skip`);
      decided++;
      continue;
    }
    const check = checks.find((name) => (c.reason ?? '').startsWith(name));
    if (check === undefined) continue;
    const want = c.expected === 'valid-with-warning' ? 'log' : 'enforce';
    t.equal(statement.signatureVerification.actions[check], want, `${c.id}: ${check} is ${want}d (${c.trustPolicy.split('/').pop()})`);
    decided++;
  }
  t.ok(decided >= 20, `${decided} verdicts tied to the levels table`);
});
