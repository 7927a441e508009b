/**
 * From per-signature outcomes to one Decision. Notation's rule (notation-go `notation.Verify`, specification FAQ
 * "at least one signature"): the first signature that verifies allows; otherwise the artifact is denied. The
 * denial names the most telling failure — the signature that got furthest through the checks (a garbage
 * referrer that fails integrity does not mask why the real signature failed), with a fetch problem first of all
 * (the unseen signature might have verified).
 */
import type { Decision, DecisionReason, SignatureOutcome } from '../../../policy/decision.ts';
import type { FetchErrorCode } from '../../../oci/discovery/fetcher.ts';
import { CHECK_ORDER, type PipelineOutcome } from './verify-signature.ts';

export function reasonForFetch(code: FetchErrorCode): DecisionReason {
  switch (code) {
    case 'UPSTREAM_UNAVAILABLE':
      return 'upstream_unavailable';
    case 'RATE_LIMITED':
      return 'upstream_rate_limited';
    case 'UPSTREAM_DENIED':
      return 'upstream_denied';
    case 'TOO_LARGE':
      return 'limit_exceeded';
    default:
      return 'upstream_invalid';
  }
}

function rank(o: SignatureOutcome): number {
  const last = o.checks.at(-1);
  return last === undefined ? CHECK_ORDER.length : CHECK_ORDER.indexOf(last.check);
}

export interface VerdictInput {
  readonly statement: string;
  readonly outcomes: readonly (PipelineOutcome | SignatureOutcome)[];
  /** More signatures existed than were tried (limit). */
  readonly truncated: boolean;
  readonly maxSignatures: number;
}

export function verdict({ statement, outcomes, truncated, maxSignatures }: VerdictInput): Decision {
  const signatures = outcomes.map(({ manifest, envelopeMediaType, signer, verified, checks, reason, message }): SignatureOutcome => ({
    manifest,
    envelopeMediaType,
    signer,
    verified,
    checks,
    ...(reason === undefined ? {} : { reason }),
    ...(message === undefined ? {} : { message }),
  }));
  const passed = outcomes.find((o) => o.verified);
  if (passed !== undefined) {
    const warnings = 'warnings' in passed ? passed.warnings : [];
    const by = passed.signer === undefined ? '' : ` by ${JSON.stringify(passed.signer)}`;
    const logged = warnings.length === 0 ? '' : ` with ${warnings.length} logged failure${warnings.length > 1 ? 's' : ''}`;
    return { allow: true, reason: 'verified', message: `signature verified${by} (trust policy "${statement}")${logged}`, statement, checks: passed.checks, signatures, ...(warnings.length > 0 ? { warnings } : {}) };
  }
  if (outcomes.length === 0) {
    return { allow: false, reason: 'no_signature', message: 'no signature found', statement, checks: [], signatures };
  }
  let best = outcomes[0]!;
  for (const o of outcomes) if (rank(o) > rank(best)) best = o;
  const others = outcomes.length - 1;
  const tail = others === 0 ? '' : ` (${others} other signature${others > 1 ? 's' : ''} also failed)`;
  const message = `${best.message ?? 'signature verification failed'}${tail}`;
  if (truncated) {
    return { allow: false, reason: 'too_many_signatures', message: `none of the first ${maxSignatures} signatures verified, and more exist than are tried per image: ${message}`, statement, checks: best.checks, signatures };
  }
  return { allow: false, reason: best.reason ?? 'verification_error', message, statement, checks: best.checks, signatures };
}
