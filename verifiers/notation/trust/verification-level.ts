/**
 * Verification levels as data: trust-store-trust-policy.md § "Signature Verification details" (the table of
 * enforced/logged/skipped per level) and § "Custom Verification Level" (`override`). The rules for overrides
 * are notation-go's (trustpolicy.go GetVerificationLevel), including their error wording.
 */

export type CheckName = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';
export type VerificationLevel = 'strict' | 'permissive' | 'audit' | 'skip';
export type VerifyTimestamp = 'always' | 'afterCertExpiry';

export type CheckActions = Readonly<Record<CheckName, CheckAction>>;

/** In the spec's order; also the order notation-go lists them in its error messages. */
export const CHECK_NAMES: readonly CheckName[] = Object.freeze(['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation']);
export const CHECK_ACTIONS: readonly CheckAction[] = Object.freeze(['enforce', 'log', 'skip']);
export const VERIFICATION_LEVELS: readonly VerificationLevel[] = Object.freeze(['strict', 'permissive', 'audit', 'skip']);
export const VERIFY_TIMESTAMP_OPTIONS: readonly VerifyTimestamp[] = Object.freeze(['always', 'afterCertExpiry']);

const level = (integrity: CheckAction, authenticity: CheckAction, authenticTimestamp: CheckAction, expiry: CheckAction, revocation: CheckAction): CheckActions =>
  Object.freeze({ integrity, authenticity, authenticTimestamp, expiry, revocation });

/** The spec's table, row for row. */
export const LEVEL_ACTIONS: Readonly<Record<VerificationLevel, CheckActions>> = Object.freeze({
  //                 integrity  authenticity authenticTimestamp expiry  revocation
  strict: level('enforce', 'enforce', 'enforce', 'enforce', 'enforce'),
  permissive: level('enforce', 'enforce', 'log', 'log', 'log'),
  audit: level('enforce', 'log', 'log', 'log', 'log'),
  skip: level('skip', 'skip', 'skip', 'skip', 'skip'),
});

export type OverrideProblem =
  | 'OVERRIDE_ON_SKIP'
  | 'OVERRIDE_CHECK_UNKNOWN'
  | 'OVERRIDE_ACTION_UNKNOWN'
  | 'OVERRIDE_INTEGRITY'
  | 'OVERRIDE_SKIP_FORBIDDEN';

export type ActionsOutcome =
  | { readonly ok: true; readonly actions: CheckActions; readonly override: Readonly<Partial<Record<CheckName, CheckAction>>> }
  | { readonly ok: false; readonly code: OverrideProblem; readonly reason: string; readonly key?: string };

export function isVerificationLevel(value: string): value is VerificationLevel {
  return (VERIFICATION_LEVELS as readonly string[]).includes(value);
}

export function isCheckName(value: string): value is CheckName {
  return (CHECK_NAMES as readonly string[]).includes(value);
}

function isCheckAction(value: string): value is CheckAction {
  return (CHECK_ACTIONS as readonly string[]).includes(value);
}

/** Go's `%q` of a string slice, as notation prints the supported values: `["a" "b"]`. */
const goQuotedList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

/**
 * The actions for `level` after `override` (wire key → wire value, in document order). An empty override is
 * no override, so `skip` with `{}` is fine, as in notation-go. Keys and values are case-sensitive there too.
 */
export function resolveCheckActions(base: VerificationLevel, override: ReadonlyArray<readonly [string, string]>): ActionsOutcome {
  const baseActions = LEVEL_ACTIONS[base];
  if (override.length === 0) return { ok: true, actions: baseActions, override: {} };
  // § "Custom Verification Level": "A `skip` level cannot be customized."
  if (base === 'skip') {
    return { ok: false, code: 'OVERRIDE_ON_SKIP', reason: `signature verification level "skip" can't be used to customize signature verification` };
  }
  const custom: Record<CheckName, CheckAction> = { ...baseActions };
  const applied: Partial<Record<CheckName, CheckAction>> = {};
  for (const [key, value] of override) {
    if (!isCheckName(key)) {
      return { ok: false, code: 'OVERRIDE_CHECK_UNKNOWN', key, reason: `verification type ${JSON.stringify(key)} in custom signature verification is not supported, supported values are ${goQuotedList(CHECK_NAMES)}` };
    }
    if (!isCheckAction(value)) {
      return { ok: false, code: 'OVERRIDE_ACTION_UNKNOWN', key, reason: `verification action ${JSON.stringify(value)} in custom signature verification is not supported, supported values are ${goQuotedList(CHECK_ACTIONS)}` };
    }
    // "integrity validation cannot be overriden, and therefore cannot be specified as a key" — even as "enforce".
    if (key === 'integrity') {
      return { ok: false, code: 'OVERRIDE_INTEGRITY', key, reason: `"integrity" verification can not be overridden in custom signature verification` };
    }
    // Only revocation lists `skip` among its supported values.
    if (key !== 'revocation' && value === 'skip') {
      return { ok: false, code: 'OVERRIDE_SKIP_FORBIDDEN', key, reason: `${JSON.stringify(key)} verification can not be skipped in custom signature verification` };
    }
    custom[key] = value;
    applied[key] = value;
  }
  return { ok: true, actions: Object.freeze(custom), override: Object.freeze(applied) };
}
