/**
 * The Notation trust policy document for OCI artifacts (trust-store-trust-policy.md § "Trust Policy"), parsed
 * and validated the way notation-go does (verifier/trustpolicy oci.go OCIDocument.Validate, trustpolicy.go
 * validatePolicyCore): same rules, same order, same wording, so a policy the notation CLI accepts works here
 * and one it rejects is rejected for the same reason. One deliberate reading of notation's rules: `skip` with
 * the global scope `*` is accepted — the spec forbids it, notation-go only enforces that for blob policies,
 * and notation's own e2e tests rely on it (vectors ERRATA 6).
 */
import { TrustPolicyError } from './errors.ts';
import type { TrustPolicyErrorCode } from './errors.ts';
import { GLOBAL_SCOPE, isValidRegistryScope, registryScopeProblem } from './registry-scope.ts';
import { parseTrustStoreRef } from './trust-store-ref.ts';
import type { TrustStoreRef } from './trust-store-ref.ts';
import { parseTrustedIdentities } from './trusted-identity.ts';
import type { TrustedIdentity } from './trusted-identity.ts';
import { VERIFY_TIMESTAMP_OPTIONS, isVerificationLevel, resolveCheckActions } from './verification-level.ts';
import type { CheckAction, CheckActions, CheckName, VerificationLevel, VerifyTimestamp } from './verification-level.ts';
import { WireTypeError, isWireObject, stringField, stringListField, stringMapField, structField, structListField } from './wire.ts';
import type { WireStruct } from './wire.ts';

export const SUPPORTED_POLICY_VERSION = '1.0';
export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

export interface SignatureVerification {
  readonly level: VerificationLevel;
  /** The overrides as written (empty when none). */
  readonly override: Readonly<Partial<Record<CheckName, CheckAction>>>;
  /** The level's actions with the overrides applied: what each check does on failure. */
  readonly actions: CheckActions;
  /** Absent means `always` (notation's default). */
  readonly verifyTimestamp: VerifyTimestamp;
}

export interface TrustPolicyStatement {
  readonly name: string;
  /** `host[:port]/repository` values, or the single value `*`. */
  readonly registryScopes: readonly string[];
  readonly signatureVerification: SignatureVerification;
  /** Empty for `skip`. A store listed twice appears once (notation de-duplicates when loading). */
  readonly trustStores: readonly TrustStoreRef[];
  /** Empty for `skip`. */
  readonly trustedIdentities: readonly TrustedIdentity[];
}

export interface TrustPolicyDocument {
  readonly version: typeof SUPPORTED_POLICY_VERSION;
  readonly statements: readonly TrustPolicyStatement[];
  /** Where the document came from, for messages. */
  readonly source: string;
}

interface WireStatement {
  readonly name: string;
  readonly registryScopes: string[];
  readonly level: string;
  readonly override: Array<readonly [string, string]>;
  readonly verifyTimestamp: string;
  readonly trustStores: string[];
  readonly trustedIdentities: string[];
}

/** Decode into notation-go's struct shapes first: a type error anywhere is "malformed", before any rule runs. */
function decode(json: unknown): { version: string; statements: WireStatement[] } {
  if (json === null) return { version: '', statements: [] };
  if (!isWireObject(json)) throw new WireTypeError('(document)', 'an object', json);
  const doc: WireStruct = [json];
  const version = stringField(doc, 'version', '');
  const statements = structListField(doc, 'trustPolicies', '').map((s: WireStruct, i: number): WireStatement => {
    const at = `trustPolicies[${i}]`;
    const sv = structField(s, 'signatureVerification', at);
    const svAt = `${at}.signatureVerification`;
    return {
      name: stringField(s, 'name', at),
      registryScopes: stringListField(s, 'registryScopes', at),
      level: stringField(sv, 'level', svAt),
      override: stringMapField(sv, 'override', svAt),
      verifyTimestamp: stringField(sv, 'verifyTimestamp', svAt),
      trustStores: stringListField(s, 'trustStores', at),
      trustedIdentities: stringListField(s, 'trustedIdentities', at),
    };
  });
  return { version, statements };
}

const q = (s: string): string => JSON.stringify(s);

type Fail = (code: TrustPolicyErrorCode, detail: string, statement: string | undefined, path: string) => never;

/** One statement: notation-go validatePolicyCore (its messages carry the "oci trust policy: " prefix). */
function parseStatement(s: WireStatement, at: string, fail: Fail): TrustPolicyStatement {
  const core = (code: TrustPolicyErrorCode, detail: string, path: string): never => fail(code, `oci trust policy: ${detail}`, s.name || undefined, path);
  const where = `trust policy statement ${q(s.name)}`;
  const svAt = `${at}.signatureVerification`;

  if (s.name === '') core('STATEMENT_NAME_MISSING', 'a trust policy statement is missing a name, every statement requires a name', `${at}.name`);
  if (s.level === '') core('LEVEL_MISSING', `${where} has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement`, `${svAt}.level`);
  if (!isVerificationLevel(s.level)) return core('LEVEL_UNKNOWN', `${where} has invalid signatureVerification: invalid signature verification level ${q(s.level)}`, `${svAt}.level`);
  const actions = resolveCheckActions(s.level, s.override);
  if (!actions.ok) return core(actions.code, `${where} has invalid signatureVerification: ${actions.reason}`, actions.key === undefined ? `${svAt}.override` : `${svAt}.override.${actions.key}`);
  if (s.verifyTimestamp !== '' && !(VERIFY_TIMESTAMP_OPTIONS as readonly string[]).includes(s.verifyTimestamp)) {
    core('VERIFY_TIMESTAMP_INVALID', `${where} has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got ${q(s.verifyTimestamp)}`, `${svAt}.verifyTimestamp`);
  }

  // "skip" needs nothing to verify with and must not pretend otherwise; every other level needs both.
  const trustStores: TrustStoreRef[] = [];
  let trustedIdentities: readonly TrustedIdentity[] = [];
  if (s.level === 'skip') {
    if (s.trustStores.length > 0 || s.trustedIdentities.length > 0) {
      core('SKIP_WITH_TRUST', `${where} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped`, at);
    }
  } else {
    if (s.trustStores.length === 0 || s.trustedIdentities.length === 0) {
      core('TRUST_MISSING', `${where} is either missing trust stores or trusted identities, both must be specified`, s.trustStores.length === 0 ? `${at}.trustStores` : `${at}.trustedIdentities`);
    }
    for (const [j, text] of s.trustStores.entries()) {
      const ref = parseTrustStoreRef(s.name, text);
      if (!ref.ok) return core(ref.code, ref.reason, `${at}.trustStores[${j}]`);
      if (!trustStores.some((r) => r.text === ref.ref.text)) trustStores.push(ref.ref);
    }
    const identities = parseTrustedIdentities(s.name, s.trustedIdentities);
    if (!identities.ok) return core(identities.code, identities.reason, identities.index === undefined ? `${at}.trustedIdentities` : `${at}.trustedIdentities[${identities.index}]`);
    trustedIdentities = identities.identities;
  }
  return Object.freeze({
    name: s.name,
    registryScopes: Object.freeze([...s.registryScopes]),
    signatureVerification: Object.freeze({
      level: s.level,
      override: actions.override,
      actions: actions.actions,
      verifyTimestamp: s.verifyTimestamp === 'afterCertExpiry' ? 'afterCertExpiry' : 'always',
    }),
    trustStores: Object.freeze(trustStores),
    trustedIdentities,
  });
}

/**
 * notation-go validateRegistryScopes — § "Registry Scopes Constraints" and § "Selecting a trust policy based on
 * artifact URI": at least one scope, `*` alone, well-formed repositories, no scope (`*` included) twice.
 */
function checkRegistryScopes(statements: readonly TrustPolicyStatement[], fail: Fail): void {
  for (const [i, s] of statements.entries()) {
    const at = `trustPolicies[${i}].registryScopes`;
    if (s.registryScopes.length === 0) fail('SCOPE_MISSING', `oci trust policy statement ${q(s.name)} has zero registry scopes, it must specify registry scopes with at least one value`, s.name, at);
    if (s.registryScopes.length > 1 && s.registryScopes.includes(GLOBAL_SCOPE)) {
      fail('SCOPE_WILDCARD_MIXED', `oci trust policy statement ${q(s.name)} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`, s.name, at);
    }
    for (const [j, scope] of s.registryScopes.entries()) {
      const problem = scope === GLOBAL_SCOPE ? undefined : registryScopeProblem(scope);
      if (problem !== undefined) fail('SCOPE_INVALID', problem, s.name, `${at}[${j}]`);
    }
  }
  // notation-go finds duplicates by walking a Go map (random order); the first one in document order here.
  const seen = new Set<string>();
  for (const [i, s] of statements.entries()) {
    for (const [j, scope] of s.registryScopes.entries()) {
      if (seen.has(scope)) {
        fail('SCOPE_DUPLICATE', `registry scope ${q(scope)} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement`, s.name, `trustPolicies[${i}].registryScopes[${j}]`);
      }
      seen.add(scope);
    }
  }
}

/**
 * Parses and validates a trust policy document (the JSON value of `trustpolicy.oci.json`/`trustpolicy.json`),
 * in notation-go's order: decode, version, statements one by one (unique name, then the statement's own
 * rules), then registry scopes. Throws TrustPolicyError — and nothing else — naming the rule, the statement
 * and where.
 */
export function parseTrustPolicyDocument(json: unknown, source: string): TrustPolicyDocument {
  const fail: Fail = (code, detail, statement, path) => {
    throw new TrustPolicyError(code, detail, { source, statement, path });
  };
  let wire: ReturnType<typeof decode>;
  try {
    wire = decode(json);
  } catch (err) {
    if (!(err instanceof WireTypeError)) throw err;
    return fail('POLICY_MALFORMED', `malformed trust policy (${err.message}). To create a trust policy, see: ${TRUST_POLICY_LINK}`, undefined, err.path);
  }

  if (wire.version === '') fail('POLICY_VERSION', 'oci trust policy document has empty version, version must be specified', undefined, 'version');
  if (wire.version !== SUPPORTED_POLICY_VERSION) fail('POLICY_VERSION', `oci trust policy document uses unsupported version ${q(wire.version)}`, undefined, 'version');
  if (wire.statements.length === 0) fail('POLICY_EMPTY', 'oci trust policy document can not have zero trust policy statements', undefined, 'trustPolicies');

  const names = new Set<string>();
  const statements: TrustPolicyStatement[] = [];
  for (const [i, s] of wire.statements.entries()) {
    if (names.has(s.name)) fail('STATEMENT_NAME_DUPLICATE', `multiple oci trust policy statements use the same name ${q(s.name)}, statement names must be unique`, s.name, `trustPolicies[${i}].name`);
    names.add(s.name);
    statements.push(parseStatement(s, `trustPolicies[${i}]`, fail));
  }
  checkRegistryScopes(statements, fail);
  return Object.freeze({ version: SUPPORTED_POLICY_VERSION, statements: Object.freeze(statements), source });
}

interface ScopeIndex {
  readonly exact: ReadonlyMap<string, TrustPolicyStatement>;
  readonly global: TrustPolicyStatement | undefined;
}
const indexes = new WeakMap<TrustPolicyDocument, ScopeIndex>();

function indexOf(doc: TrustPolicyDocument): ScopeIndex {
  let index = indexes.get(doc);
  if (index === undefined) {
    const exact = new Map<string, TrustPolicyStatement>();
    let global: TrustPolicyStatement | undefined;
    for (const s of doc.statements) {
      for (const scope of s.registryScopes) {
        if (scope === GLOBAL_SCOPE) global = s;
        else exact.set(scope, s);
      }
    }
    index = { exact, global };
    indexes.set(doc, index);
  }
  return index;
}

/**
 * The statement that applies to an artifact in repository `scope` (`host[:port]/repository`), per § "Selecting
 * a trust policy based on artifact URI": an exact scope match wins, else the global `*` statement, else none
 * (the caller must treat the artifact as untrusted). A scope that is not a valid repository gets none, as
 * notation-go refuses to pick a policy for an artifact path it cannot parse.
 */
export function statementFor(doc: TrustPolicyDocument, scope: string): TrustPolicyStatement | undefined {
  if (!isValidRegistryScope(scope)) return undefined;
  const index = indexOf(doc);
  return index.exact.get(scope) ?? index.global;
}
