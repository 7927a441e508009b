/**
 * What the policy engine is asked about (ImageTarget) and what it answers (Decision). One shape for the proxy,
 * the webhook and `pullgate verify`.
 */
import type { Digest } from '../oci/digest.ts';

/** A manifest whose bytes pullgate holds and has already hashed to `digest`. */
export interface ImageTarget {
  /** Registry host as in image references (`docker.io`). */
  readonly registry: string;
  /** Repository path (`library/nginx`). */
  readonly repository: string;
  /** What the client asked for: a tag or the digest text. For messages and logs. */
  readonly reference: string;
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
  readonly bytes: Buffer;
}

/** Bounded vocabulary (it is a metric label): why a decision came out as it did. */
export type DecisionReason =
  | 'verified'
  | 'skip'
  | 'no_trust_policy'
  | 'no_policy_statement'
  | 'verification_not_implemented'
  // The gate (proxy/): a platform manifest listed by an index whose signatures passed.
  | 'listed_by_verified_index'
  // Notation verification (verifiers/notation/verifier): why no signature of the target verified.
  | 'no_signature'
  | 'signature_invalid' // integrity: envelope, signature math, payload ≠ the target
  | 'certificate_invalid' // authenticity: the x5c chain breaks the certificate profile
  | 'untrusted' // authenticity: no chain certificate in the statement's trust stores (or a store is unusable)
  | 'identity_not_trusted'
  | 'expired' // the signature's own expiry
  | 'certificate_expired' // a chain certificate outside its validity, no trusted timestamp to rescue it
  | 'timestamp_invalid'
  | 'revoked'
  | 'revocation_inconclusive'
  | 'too_many_signatures'
  | 'limit_exceeded'
  | 'upstream_unavailable'
  | 'upstream_rate_limited'
  | 'upstream_denied'
  | 'upstream_invalid'
  | 'verification_timeout'
  | 'verification_error'
  // The decision's own bounds (README § Security-relevant limits), not a property of the image:
  | 'budget_exceeded' // more upstream requests or bytes than one decision may spend (upstream.decisionMax*)
  | 'gate_busy'; // every cold-decision slot taken and no room within upstream.coldDecisionWaitMs

export type CheckName = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation' | 'trustedIdentity';
export type CheckAction = 'enforce' | 'log' | 'skip';

/** One check on one signature: "failed" is kept apart from "inconclusive" (notation-go's outcome model). */
export interface CheckResult {
  readonly check: CheckName;
  readonly action: CheckAction;
  readonly result: 'passed' | 'failed' | 'inconclusive' | 'skipped';
  readonly message?: string;
}

/** What became of one signature of the target (notation-go VerificationOutcome, one per signature tried). */
export interface SignatureOutcome {
  /** Digest of the signature manifest. */
  readonly manifest: string;
  /** `application/jose+json` or `application/cose`, when the manifest named one. */
  readonly envelopeMediaType: string | undefined;
  /** Subject of the signing certificate, once the envelope parsed. */
  readonly signer: string | undefined;
  /** True when every enforced check passed. */
  readonly verified: boolean;
  /** The checks that ran, in order; a check that was not reached is absent. */
  readonly checks: readonly CheckResult[];
  /** Why it did not verify (absent when verified). */
  readonly reason?: DecisionReason;
  readonly message?: string;
}

export interface Decision {
  readonly allow: boolean;
  readonly reason: DecisionReason;
  /** In words, for the denial message `pullgate: <ref>: <message>`. */
  readonly message: string;
  /** The trust policy statement that applied, if any. */
  readonly statement: string | undefined;
  /** The checks of the signature that decided (the verified one, or the most telling failure). */
  readonly checks: readonly CheckResult[];
  /** Every signature tried, in order (absent when no verification ran). */
  readonly signatures?: readonly SignatureOutcome[];
  /** Failures the level only logs (permissive/audit, or `log` overrides), in words. */
  readonly warnings?: readonly string[];
}

export function targetRef(t: Pick<ImageTarget, 'registry' | 'repository' | 'reference'>): string {
  const sep = t.reference.includes(':') ? '@' : ':';
  return `${t.registry}/${t.repository}${sep}${t.reference}`;
}
