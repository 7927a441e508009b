/**
 * The result of one check on one signature, before the statement's action is applied (notation-go
 * `ValidationResult` without its action). "failed" (the signature is proven bad) is kept apart from
 * "inconclusive" (it could not be decided: a CRL server down, no trusted certificates to compare with); both
 * fail the check, and the action (enforce / log) decides what that does to the verdict.
 */
import type { DecisionReason } from '../../../policy/decision.ts';

export interface CheckOutcome {
  readonly result: 'passed' | 'failed' | 'inconclusive';
  /** Detail, in notation's wording where notation has one (logs, `--json`). */
  readonly message?: string;
  /** For a failure: the bounded reason and the short phrase for `pullgate: <ref>: <summary>`. */
  readonly reason?: DecisionReason;
  readonly summary?: string;
}

export const PASSED: CheckOutcome = Object.freeze({ result: 'passed' });

export function failed(reason: DecisionReason, summary: string, message: string = summary): CheckOutcome {
  return { result: 'failed', reason, summary, message };
}

export function inconclusive(reason: DecisionReason, summary: string, message: string = summary): CheckOutcome {
  return { result: 'inconclusive', reason, summary, message };
}

/** RFC 3339 without fractional seconds when there are none: how times appear in denial messages. */
export function isoTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}
