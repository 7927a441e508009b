// The document rules one by one (notation-go oci_test.go TestValidateInvalidPolicyDocument and
// trustpolicy_test.go TestValidatePolicyCore / TestValidateTrustStore), the order they apply in, and how the
// JSON is read (Go encoding/json: case-insensitive keys, null = zero value, type mismatch = malformed).
import t from 'tap';
import { parseTrustPolicyDocument } from '../../../verifiers/notation/trust/trust-policy.ts';
import { policyErrorOf } from './helpers.ts';

type Json = Record<string, unknown>;
const statement = (over: Json = {}): Json => ({
  name: 'test-statement-name',
  registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:valid-trust-store', 'signingAuthority:valid-trust-store'],
  trustedIdentities: ['x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US'],
  ...over,
});
const doc = (...statements: Json[]): Json => ({ version: '1.0', trustPolicies: statements.length > 0 ? statements : [statement()] });

function outcome(json: unknown): { code: string; message: string } {
  const err = policyErrorOf(() => parseTrustPolicyDocument(json, 'policy.json'));
  return typeof err === 'string' ? { code: err, message: err } : { code: err.code, message: err.detail };
}

t.test('a good document and each rule of notation-go, with its message', async (t) => {
  const cases: Array<[string, unknown, string, string?]> = [
    ['valid', doc(), 'did not throw'],
    ['version missing', { trustPolicies: [statement()] }, 'POLICY_VERSION', 'oci trust policy document has empty version, version must be specified'],
    ['version null', { version: null, trustPolicies: [statement()] }, 'POLICY_VERSION'],
    ['version unsupported', { ...doc(), version: 'invalid' }, 'POLICY_VERSION', 'oci trust policy document uses unsupported version "invalid"'],
    ['version 1.1', { ...doc(), version: '1.1' }, 'POLICY_VERSION'],
    ['no statements', { version: '1.0', trustPolicies: [] }, 'POLICY_EMPTY', 'oci trust policy document can not have zero trust policy statements'],
    ['statements absent', { version: '1.0' }, 'POLICY_EMPTY'],
    ['null document', null, 'POLICY_VERSION'],
    ['no name', doc(statement({ name: '' })), 'STATEMENT_NAME_MISSING', 'oci trust policy: a trust policy statement is missing a name, every statement requires a name'],
    ['no scopes', doc(statement({ registryScopes: null })), 'SCOPE_MISSING', 'oci trust policy statement "test-statement-name" has zero registry scopes, it must specify registry scopes with at least one value'],
    ['invalid level', doc(statement({ signatureVerification: { level: 'invalid' } })), 'LEVEL_UNKNOWN', 'oci trust policy: trust policy statement "test-statement-name" has invalid signatureVerification: invalid signature verification level "invalid"'],
    ['no level', doc(statement({ signatureVerification: {} })), 'LEVEL_MISSING', 'oci trust policy: trust policy statement "test-statement-name" has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement'],
    ['strict without stores', doc(statement({ trustStores: [] })), 'TRUST_MISSING', 'oci trust policy: trust policy statement "test-statement-name" is either missing trust stores or trusted identities, both must be specified'],
    ['strict without identities', doc(statement({ trustedIdentities: [] })), 'TRUST_MISSING'],
    ['audit without identities', doc(statement({ signatureVerification: { level: 'audit' }, trustedIdentities: null })), 'TRUST_MISSING'],
    ['skip with stores', doc(statement({ signatureVerification: { level: 'skip' } })), 'SKIP_WITH_TRUST', 'oci trust policy: trust policy statement "test-statement-name" is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped'],
    ['skip with identities only', doc(statement({ signatureVerification: { level: 'skip' }, trustStores: [] })), 'SKIP_WITH_TRUST'],
    ['skip bare', doc(statement({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })), 'did not throw'],
    ['empty identity', doc(statement({ trustedIdentities: [''] })), 'IDENTITY_EMPTY', 'oci trust policy: trust policy statement "test-statement-name" has an empty trusted identity'],
    ['null identity is ""', doc(statement({ trustedIdentities: [null] })), 'IDENTITY_EMPTY'],
    ['identity without separator', doc(statement({ trustedIdentities: ['x509.subject'] })), 'IDENTITY_SEPARATOR', 'oci trust policy: trust policy statement "test-statement-name" has trusted identity "x509.subject" missing separator'],
    ['identity without value', doc(statement({ trustedIdentities: ['x509.subject:'] })), 'IDENTITY_VALUE_EMPTY', 'oci trust policy: trust policy statement "test-statement-name" has trusted identity "x509.subject:" without an identity value'],
    ['unknown identity prefix', doc(statement({ trustedIdentities: ['unknown:my-trusted-identity'] })), 'did not throw'],
    ['store without separator', doc(statement({ trustStores: ['ca'] })), 'TRUST_STORE_MALFORMED', 'oci trust policy: trust policy statement "test-statement-name" has malformed trust store value "ca". The required format is <TrustStoreType>:<TrustStoreName>'],
    ['store empty', doc(statement({ trustStores: [''] })), 'TRUST_STORE_MALFORMED'],
    ['store type', doc(statement({ trustStores: ['invalid:test-trust-store'] })), 'TRUST_STORE_TYPE', 'oci trust policy: trust policy statement "test-statement-name" uses an unsupported trust store type "invalid" in trust store value "invalid:test-trust-store"'],
    ['store type case', doc(statement({ trustStores: ['CA:x'] })), 'TRUST_STORE_TYPE'],
    ['store type signingauthority', doc(statement({ trustStores: ['signingauthority:x'] })), 'TRUST_STORE_TYPE'],
    ['store name empty', doc(statement({ trustStores: ['ca:'] })), 'TRUST_STORE_NAME', 'oci trust policy: trust policy statement "test-statement-name" uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format'],
    ['store name charset', doc(statement({ trustStores: ['ca:#@$@$'] })), 'TRUST_STORE_NAME'],
    ['store name with slash', doc(statement({ trustStores: ['ca:a/b'] })), 'TRUST_STORE_NAME'],
    ['store name with colon', doc(statement({ trustStores: ['ca:a:b'] })), 'TRUST_STORE_NAME'],
    ['store names allowed', doc(statement({ trustStores: ['ca:A-z_0.9', 'tsa:x', 'signingAuthority:y'] })), 'did not throw'],
    ['wildcard identity with others', doc(statement({ trustedIdentities: ['*', 'test-identity'] })), 'IDENTITY_WILDCARD_MIXED', `oci trust policy: trust policy statement "test-statement-name" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`],
    ['wildcard scope with others', doc(statement({ registryScopes: ['*', 'registry.acme-rockets.io/software/net-monitor'] })), 'SCOPE_WILDCARD_MIXED', `oci trust policy statement "test-statement-name" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`],
    ['same scope in two statements', doc(statement(), statement({ name: 'test-statement-name-2' })), 'SCOPE_DUPLICATE', 'registry scope "registry.acme-rockets.io/software/net-monitor" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement'],
    ['same name twice', doc(statement(), statement({ registryScopes: ['registry.acme-rockets.io/software/legacy/metrics'] })), 'STATEMENT_NAME_DUPLICATE', 'multiple oci trust policy statements use the same name "test-statement-name", statement names must be unique'],
    ['two global statements', doc(statement({ registryScopes: ['*'] }), statement({ name: 'b', registryScopes: ['*'] })), 'SCOPE_DUPLICATE'],
    ['skip with the global scope (notation-go accepts it)', doc(statement({ registryScopes: ['*'], signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })), 'did not throw'],
  ];
  for (const [name, json, code, message] of cases) {
    const got = outcome(json);
    t.equal(got.code, code, name);
    if (message !== undefined) t.equal(got.message, message, `${name}: message`);
  }
});

t.test('rules apply in notation-go order', async (t) => {
  // Statement rules run statement by statement (name uniqueness first), then all scope rules.
  t.equal(outcome(doc(statement({ registryScopes: [] , trustStores: [] }))).code, 'TRUST_MISSING', 'core rules before scope rules');
  t.equal(outcome(doc(statement(), statement({ trustStores: [] }))).code, 'STATEMENT_NAME_DUPLICATE', 'a duplicate name before that statement’s own problems');
  t.equal(outcome(doc(statement({ name: '' }), statement({ name: '' }))).code, 'STATEMENT_NAME_MISSING');
  t.equal(outcome(doc(statement({ signatureVerification: { level: 'strict', override: { expiry: 'skip' }, verifyTimestamp: 'x' } }))).code, 'OVERRIDE_SKIP_FORBIDDEN', 'override before verifyTimestamp');
  t.equal(outcome(doc(statement({ signatureVerification: { level: 'strict', verifyTimestamp: 'x' }, trustStores: [] }))).code, 'VERIFY_TIMESTAMP_INVALID', 'verifyTimestamp before stores');
  t.equal(outcome(doc(statement({ trustStores: ['ca'], trustedIdentities: [''] }))).code, 'TRUST_STORE_MALFORMED', 'stores before identities');
  t.equal(outcome(doc(statement({ trustedIdentities: ['', '*'] }))).code, 'IDENTITY_WILDCARD_MIXED', 'the wildcard rule before each identity');
  t.equal(outcome(doc(statement({ registryScopes: ['bad', 'bad'] }))).code, 'SCOPE_INVALID', 'format before duplicates');
  t.equal(outcome(doc(statement({ registryScopes: ['a/b'] }), statement({ name: 'x', registryScopes: [] }))).code, 'SCOPE_MISSING');
});

t.test('errors name the file, the statement and the place', async (t) => {
  const err = policyErrorOf(() => parseTrustPolicyDocument(doc(statement(), statement({ name: 'second', trustStores: ['ca:ok', 'nope:x'] })), '/etc/notation/trustpolicy.oci.json'));
  t.ok(typeof err !== 'string');
  if (typeof err === 'string') return;
  t.equal(err.name, 'TrustPolicyError');
  t.equal(err.code, 'TRUST_STORE_TYPE');
  t.equal(err.source, '/etc/notation/trustpolicy.oci.json');
  t.equal(err.statement, 'second');
  t.equal(err.path, 'trustPolicies[1].trustStores[1]');
  t.match(err.message, /^\/etc\/notation\/trustpolicy\.oci\.json: oci trust policy: trust policy statement "second" uses an unsupported trust store type "nope"/);
  t.match(err.message, /\(at trustPolicies\[1\]\.trustStores\[1\]\)$/);
});

t.test('reading the JSON as Go encoding/json does', async (t) => {
  // Field names match case-insensitively, as Go's decoder does; unknown fields are ignored.
  const shouting = {
    Version: '1.0',
    TRUSTPOLICIES: [{ Name: 'p', RegistryScopes: ['a.io/b'], SignatureVerification: { LEVEL: 'audit', Override: { expiry: 'enforce' }, VerifyTimestamp: 'afterCertExpiry' }, TrustStores: ['ca:x'], trustedidentities: ['*'], globalPolicy: true, extra: { any: 1 } }],
    comment: 'ignored',
  };
  const parsed = parseTrustPolicyDocument(shouting, 'p.json');
  t.equal(parsed.statements[0]?.signatureVerification.level, 'audit');
  t.equal(parsed.statements[0]?.signatureVerification.actions.expiry, 'enforce');
  t.equal(parsed.statements[0]?.signatureVerification.verifyTimestamp, 'afterCertExpiry');
  t.same(parsed.statements[0]?.registryScopes, ['a.io/b']);
  // Several keys naming one field are applied in order: the last string wins, null changes nothing, objects
  // merge into the struct, null empties a list, and a wrong type in any of them is malformed.
  t.equal(parseTrustPolicyDocument({ ...doc(), version: '0.9', VERSION: '1.0' }, 'p').version, '1.0');
  t.equal(parseTrustPolicyDocument({ ...doc(), VERSION: null }, 'p').version, '1.0');
  t.equal(outcome({ ...doc(), version: 5, Version: '1.0' }).code, 'POLICY_MALFORMED');
  const merged = parseTrustPolicyDocument(doc(statement({ signatureVerification: { level: 'strict' }, SignatureVerification: { override: { expiry: 'log' } } })), 'p');
  t.same(merged.statements[0]?.signatureVerification.override, { expiry: 'log' }, 'repeated struct keys merge');
  t.equal(outcome(doc(statement({ TrustStores: null }))).code, 'TRUST_MISSING', 'null empties a list');
  // Go folds U+017F (ſ) onto s and U+212A (Kelvin) onto k.
  t.equal(parseTrustPolicyDocument({ ver\u017fion: '1.0', trustPolicies: [statement()] }, 'p').version, '1.0');
  t.equal(outcome({ version: '1.0', trustPolicies: [statement({ registryScopes: undefined, regi\u017ftry_scopes: ['a/b'] })] }).code, 'SCOPE_MISSING', 'only folding, not other normalisation');

  // A value of the wrong JSON type anywhere is "malformed", before any rule runs.
  for (const [what, json] of [
    ['array document', [doc()]],
    ['string document', '{"version":"1.0"}'],
    ['number version', { version: 1.0, trustPolicies: [statement()] }],
    ['object statements', { version: '1.0', trustPolicies: { a: statement() } }],
    ['string statement', { version: '1.0', trustPolicies: ['x'] }],
    ['string scopes', doc(statement({ registryScopes: 'a/b' }))],
    ['number in scopes', doc(statement({ registryScopes: ['a/b', 5] }))],
    ['boolean name', doc(statement({ name: true }))],
    ['string signatureVerification', doc(statement({ signatureVerification: 'strict' }))],
    ['number level', doc(statement({ signatureVerification: { level: 1 } }))],
    ['array override', doc(statement({ signatureVerification: { level: 'strict', override: [] } }))],
    ['type error after a rule violation', { version: 'bad', trustPolicies: [statement({ trustStores: [1] })] }],
  ] as Array<[string, unknown]>) {
    const got = outcome(json);
    t.equal(got.code, 'POLICY_MALFORMED', what);
    t.match(got.message, /^malformed trust policy \(.*\)\. To create a trust policy, see: https:\/\/notaryproject\.dev\/docs\/quickstart\/#create-a-trust-policy$/, `${what}: message`);
  }
  t.match(outcome(doc(statement({ registryScopes: ['a/b', 5] }))).message, 'trustPolicies[0].registryScopes[1]: expected a string, got number 5');

  // null is the zero value: an empty list / no statement / empty string, never a type error.
  t.equal(outcome({ version: '1.0', trustPolicies: null }).code, 'POLICY_EMPTY');
  t.equal(outcome({ version: '1.0', trustPolicies: [null] }).code, 'STATEMENT_NAME_MISSING');
  t.equal(outcome(doc(statement({ name: null }))).code, 'STATEMENT_NAME_MISSING');
  t.equal(outcome(doc(statement({ registryScopes: [null] }))).code, 'SCOPE_INVALID');
  t.equal(outcome(doc(statement({ trustStores: null }))).code, 'TRUST_MISSING');

  // Lone surrogates become U+FFFD, as Go decodes them; the result is then judged normally.
  t.equal(outcome(doc(statement({ name: '\ud800' }))).code, 'did not throw');
  t.equal(parseTrustPolicyDocument(doc(statement({ name: 'a\udc00' })), 'p').statements[0]?.name, 'a\ufffd');
});

t.test('parsed documents are immutable', async (t) => {
  const parsed = parseTrustPolicyDocument(doc(), 'p');
  t.ok(Object.isFrozen(parsed));
  t.ok(Object.isFrozen(parsed.statements));
  t.ok(Object.isFrozen(parsed.statements[0]));
  t.ok(Object.isFrozen(parsed.statements[0]?.registryScopes));
  t.ok(Object.isFrozen(parsed.statements[0]?.trustStores));
  t.ok(Object.isFrozen(parsed.statements[0]?.trustedIdentities));
  t.ok(Object.isFrozen(parsed.statements[0]?.signatureVerification.actions));
});
