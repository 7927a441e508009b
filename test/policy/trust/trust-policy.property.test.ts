// Property tests: whatever JSON arrives, parseTrustPolicyDocument answers quickly with a document or a
// TrustPolicyError — never another exception, never a hang — and what it accepts satisfies the spec's
// invariants. Plus differential checks of the hand-written scope matcher against notation's own regexes.
import t from 'tap';
import fc from 'fast-check';
import { TrustPolicyError } from '../../../verifiers/notation/trust/errors.ts';
import { parseDistinguishedName, isSubsetDN } from '../../../verifiers/notation/trust/distinguished-name.ts';
import { registryScopeProblem } from '../../../verifiers/notation/trust/registry-scope.ts';
import { nameString as goSubjectString } from '../../../pki/names.ts';
import { parseTrustPolicyDocument, statementFor } from '../../../verifiers/notation/trust/trust-policy.ts';
import type { TrustPolicyDocument } from '../../../verifiers/notation/trust/trust-policy.ts';

/** Runs the parser; returns the document or the TrustPolicyError; anything else fails (a hang, by the test's timeout). */
function parseOrError(json: unknown): TrustPolicyDocument | TrustPolicyError {
  let result: TrustPolicyDocument | TrustPolicyError;
  try {
    result = parseTrustPolicyDocument(json, 'fuzz.json');
  } catch (err) {
    if (!(err instanceof TrustPolicyError)) throw new Error(`threw something else: ${String(err)}`, { cause: err });
    result = err;
  }
  return result;
}

/** Invariants of an accepted document (trust-store-trust-policy.md § "Trust Policy Properties"). */
function checkAccepted(doc: TrustPolicyDocument): void {
  if (doc.version !== '1.0' || doc.statements.length === 0) throw new Error('version / statements');
  const names = new Set(doc.statements.map((s) => s.name));
  if (names.size !== doc.statements.length || names.has('')) throw new Error('statement names');
  const scopes = doc.statements.flatMap((s) => s.registryScopes);
  if (new Set(scopes).size !== scopes.length) throw new Error('a scope in two places');
  for (const s of doc.statements) {
    if (s.registryScopes.length === 0 || (s.registryScopes.includes('*') && s.registryScopes.length > 1)) throw new Error('scopes');
    const skip = s.signatureVerification.level === 'skip';
    if (skip !== (s.trustStores.length === 0) || skip !== (s.trustedIdentities.length === 0)) throw new Error('skip ⇔ no trust material');
    if (s.signatureVerification.actions.integrity !== (skip ? 'skip' : 'enforce')) throw new Error('integrity is always enforced (or skipped with skip)');
    for (const scope of s.registryScopes) {
      if (scope !== '*' && statementFor(doc, scope) !== s) throw new Error(`statementFor(${scope})`);
    }
  }
}

t.test('arbitrary JSON: a document or a TrustPolicyError, quickly', async (t) => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
    const r = parseOrError(json);
    if (!(r instanceof TrustPolicyError)) checkAccepted(r);
  }), { numRuns: 3000 });
  fc.assert(fc.property(fc.anything({ maxDepth: 4, withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true, withObjectString: true, withBoxedValues: true }), (value) => {
    parseOrError(value);
  }), { numRuns: 2000 });
  t.pass('3000 JSON values and 2000 arbitrary JS values');
});

// Policy-shaped documents built from tokens that sit on both sides of every rule.
const tokens = {
  version: fc.constantFrom('1.0', '1.0', '1.0', '', '1.1', '1', null, 1),
  name: fc.constantFrom('a', 'b', 'c', '', 'e2e', null, 'A'),
  scope: fc.oneof(
    fc.constantFrom('*', 'localhost:5000/a', 'localhost:5000/b', 'docker.io/library/nginx', 'a/b', 'A/b', 'a/B', 'a', 'a/b:tag', 'a/*', '', 'a..b/c', 'a/b__c', 'a/b___c'),
    fc.string({ maxLength: 40 }),
    fc.stringMatching(/^[a-z0-9.:-]{1,12}\/[a-z0-9._\/-]{1,30}[!a]?$/),
  ),
  level: fc.constantFrom('strict', 'permissive', 'audit', 'skip', '', 'Strict', null, 7),
  check: fc.constantFrom('integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation', 'Expiry', ''),
  action: fc.constantFrom('enforce', 'log', 'skip', '', 'Log', null),
  verifyTimestamp: fc.constantFrom(undefined, 'always', 'afterCertExpiry', '', 'never', null),
  store: fc.oneof(fc.constantFrom('ca:e2e', 'ca:x', 'tsa:t', 'signingAuthority:s', 'ca:', 'ca', '*', 'CA:x', 'ca:a/b', 'ca:..', 'tsa:e2e'), fc.string({ maxLength: 20 })),
  identity: fc.oneof(
    fc.constantFrom('*', '', 'x509.subject', 'x509.subject:', 'x509.subject: C=US, ST=WA, O=x', 'x509.subject: C=US, ST=WA, O=x, CN=y', 'x509.subject: O=x, S=WA, C=US', 'x509.subject: C=US,C=IN', 'x509.subject: C=US+ST=WA,O=x', 'x509.subject:=#00', 'other:thing'),
    fc.string({ maxLength: 60 }).map((s) => `x509.subject:${s}`),
  ),
};
const statement = fc.record({
  name: tokens.name,
  registryScopes: fc.array(tokens.scope, { maxLength: 3 }),
  signatureVerification: fc.record({
    level: tokens.level,
    override: fc.option(fc.dictionary(tokens.check, tokens.action, { maxKeys: 3 }), { nil: undefined }),
    verifyTimestamp: tokens.verifyTimestamp,
  }, { requiredKeys: ['level'] }),
  trustStores: fc.array(tokens.store, { maxLength: 3 }),
  trustedIdentities: fc.array(tokens.identity, { maxLength: 3 }),
}, { requiredKeys: ['name', 'registryScopes', 'signatureVerification'] });
const policyShaped = fc.record({ version: tokens.version, trustPolicies: fc.array(statement, { maxLength: 4 }) });

t.test('policy-shaped documents: never anything but a document or a TrustPolicyError', async (t) => {
  const codes = new Set<string>();
  fc.assert(fc.property(policyShaped, (json) => {
    const r = parseOrError(json);
    if (r instanceof TrustPolicyError) {
      codes.add(r.code);
      if (!r.message.startsWith('fuzz.json: ')) throw new Error('message must name the source');
    } else {
      checkAccepted(r);
    }
  }), { numRuns: 5000 });
  t.ok(codes.size >= 15, `${codes.size} different rejection codes reached: ${[...codes].sort().join(' ')}`);
});

// Valid by construction: distinct names and scopes, coherent levels, stores and identities.
const validStatement = (i: number) => fc.record({
  level: fc.constantFrom('strict', 'permissive', 'audit', 'skip'),
  override: fc.dictionary(fc.constantFrom('authenticity', 'authenticTimestamp', 'expiry', 'revocation'), fc.constantFrom('enforce', 'log'), { maxKeys: 3 }),
  revocationSkip: fc.boolean(),
  verifyTimestamp: fc.constantFrom(undefined, 'always', 'afterCertExpiry'),
  stores: fc.uniqueArray(fc.constantFrom('ca:a', 'ca:b', 'signingAuthority:c', 'tsa:t'), { minLength: 1, maxLength: 3 }),
  identities: fc.oneof(fc.constant(['*']), fc.subarray(['x509.subject: C=US, ST=WA, O=a', 'x509.subject: C=US, ST=OR, O=a', 'x509.subject: C=DE, S=Berlin, O=b, CN=c', 'other:x'], { minLength: 1 })),
  scopes: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }).map((ns) => ns.map((n) => `registry${i}.example:50${n}0/team/app-${n}`)),
}).map((s) => {
  const skip = s.level === 'skip';
  const override = skip ? undefined : s.revocationSkip ? { ...s.override, revocation: 'skip' } : s.override;
  return {
    name: `statement-${i}`,
    registryScopes: s.scopes,
    signatureVerification: { level: s.level, ...(override === undefined ? {} : { override }), ...(s.verifyTimestamp === undefined ? {} : { verifyTimestamp: s.verifyTimestamp }) },
    ...(skip ? {} : { trustStores: s.stores, trustedIdentities: s.identities }),
  };
});
const validDocument = fc.integer({ min: 1, max: 5 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => validStatement(i)), fc.nat(n))).map((parts) => {
  const global = parts.pop() as number;
  const statements = parts as Array<{ registryScopes: string[] }>;
  if (global < statements.length) (statements[global] as { registryScopes: string[] }).registryScopes = ['*'];
  return { version: '1.0', trustPolicies: statements };
});

t.test('valid-by-construction documents are accepted and keep their meaning', async (t) => {
  fc.assert(fc.property(validDocument, (json) => {
    const r = parseOrError(json);
    if (r instanceof TrustPolicyError) throw r;
    checkAccepted(r);
    for (const [i, s] of r.statements.entries()) {
      const wire = json.trustPolicies[i] as unknown as { signatureVerification: { level: string; override?: Record<string, string> } };
      if (s.signatureVerification.level !== wire.signatureVerification.level) throw new Error('level');
      for (const [check, action] of Object.entries(wire.signatureVerification.override ?? {})) {
        if (s.signatureVerification.actions[check as 'expiry'] !== action) throw new Error(`override ${check}`);
      }
    }
  }), { numRuns: 2000 });
  t.pass();
});

t.test('DN parser: total and fast on any text', async (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => {
    const r = parseDistinguishedName(text);
    if (r.ok && ['C', 'ST', 'O'].some((k) => (r.dn.attributes.get(k) ?? '') === '')) throw new Error('accepted without C, ST, O');
  }), { numRuns: 5000 });
  t.pass();
});

t.test('a certificate subject printed as Go does parses back to its values; any subset of it matches', async (t) => {
  const value = fc.stringMatching(/^[!"$-~](?:[ -"$-~]{0,15}[!"$-~])?$/); // printable, no '#', no edge spaces
  const subject = fc.record({ C: value, ST: value, O: value, L: fc.option(value), OU: fc.option(value), CN: fc.option(value) });
  const OIDS: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', O: '2.5.4.10', L: '2.5.4.7', OU: '2.5.4.11', CN: '2.5.4.3' };
  fc.assert(fc.property(subject, fc.shuffledSubarray(['C', 'ST', 'O', 'L', 'OU', 'CN']), (s, keep) => {
    const entries = Object.entries(s).filter((e): e is [string, string] => typeof e[1] === 'string');
    const printed = goSubjectString(entries.map(([k, v]) => ({ oid: OIDS[k] as string, value: v })));
    const parsed = parseDistinguishedName(printed);
    if (!parsed.ok) throw new Error(`${printed}: ${parsed.reason}`);
    for (const [k, v] of entries) if (parsed.dn.attributes.get(k) !== v) throw new Error(`${k} lost in ${printed}`);
    // An identity with C, ST, O and any subset of the rest, in any order, is a subset of the subject.
    const identity = ['C', 'ST', 'O', ...keep.filter((k) => !['C', 'ST', 'O'].includes(k))]
      .filter((k) => typeof s[k as keyof typeof s] === 'string')
      .reverse()
      .map((k) => `${k}=${(s[k as keyof typeof s] as string).replace(/([,+"\\<>;=])/g, '\\$1')}`)
      .join(', ');
    const id = parseDistinguishedName(identity);
    if (!id.ok) throw new Error(`${identity}: ${id.reason}`);
    if (!isSubsetDN(id.dn, parsed.dn)) throw new Error(`${identity} should match ${printed}`);
  }), { numRuns: 2000 });
  t.pass();
});

// notation-go oci.go validateRegistryScopeFormat, verbatim regexes: safe to run on short inputs only.
const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;
function notationScopeIsValid(scope: string): boolean {
  if (scope.length > 1 && scope.includes('*')) return false;
  const slash = scope.indexOf('/');
  if (slash < 0) return false;
  const domain = scope.slice(0, slash);
  const repository = scope.slice(slash + 1);
  return domain !== '' && repository !== '' && DOMAIN.test(domain) && REPOSITORY.test(repository);
}

t.test('scope matcher agrees with notation’s regular expressions', async (t) => {
  const alphabet = fc.constantFrom(...'aZ09.-_/:*\\ é'.split(''), 'a', 'b', '1', '.', '-', '/');
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 14 }).map((cs) => cs.join('')), (scope) => {
    if ((registryScopeProblem(scope) === undefined) !== notationScopeIsValid(scope)) throw new Error(`disagree on ${JSON.stringify(scope)}`);
  }), { numRuns: 20000 });
  fc.assert(fc.property(fc.stringMatching(/^[a-z0-9.:-]{1,8}\/[a-z0-9._\/-]{1,10}$/), (scope) => {
    if ((registryScopeProblem(scope) === undefined) !== notationScopeIsValid(scope)) throw new Error(`disagree on ${JSON.stringify(scope)}`);
  }), { numRuns: 20000 });
  t.pass();
});
