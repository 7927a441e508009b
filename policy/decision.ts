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
  | 'gate_busy' // every cold-decision slot taken and no room within upstream.coldDecisionWaitMs
  // The image policy (policy/image-policy): which rule applied and how its requirements combined.
  | 'policy_allow' // an `allow` rule: no verification
  | 'policy_deny' // a `deny` rule
  | 'no_policy_rule' // an image policy exists and no rule covers the image
  | 'requirement_not_evaluated'
  | 'digests_disagree' // requirements vouch for different digests of one tag
  | 'length_mismatch' // the manifest's length differs from the length its trust data signs (Notary v1)
  // Notary v1 (verifiers/notaryv1/errors.ts; shared words above — signature_invalid, expired — keep their sense):
  | 'no_trust_data'
  | 'fetch_failed'
  | 'metadata_invalid'
  | 'root_untrusted'
  | 'unsupported_key'
  | 'threshold_not_met'
  | 'rollback'
  | 'hash_mismatch'
  | 'delegation_invalid'
  | 'delegation_missing'
  | 'tag_not_signed'
  | 'digest_not_signed'
  | 'digest_mismatch'
  | 'digest_conflict'
  | 'signer_untrusted'
  // cosign (verifiers/cosign/errors.ts; shared words above — no_signature, fetch_failed, signature_invalid,
  // unsupported_key, threshold_not_met — keep their sense):
  | 'malformed' // a signature manifest, layer, payload or bundle is not the shape cosign writes, or is over a bound
  | 'payload_digest_mismatch' // the signed payload (or DSSE subject) names another digest
  | 'wrong_payload_type' // not a cosign image signature (critical.type, or another in-toto predicate)
  | 'identity_mismatch' // keyless identity, docker-reference or required annotation does not match the rule
  | 'key_not_trusted' // signatures exist, none by a configured key
  | 'rekor_required' // the rule requires a Rekor entry, the signature has none
  | 'set_invalid' // the Rekor SET / inclusion proof does not verify, or names a log the trusted root does not hold
  | 'keyless_unsupported'; // a certificate (keyless) signature met a key-only requirement

/**
 * Which signature system decided, a bounded metric label: one verifier's name, several joined by `+` in a fixed
 * order when a rule needed them together (`notaryv1+notation`), `policy` for an allow/deny rule or no rule, and
 * `gate` for the proxy's own decisions (a platform manifest listed by a verified index).
 */
export type DecisionVerifier = string;

/** What became of one requirement of the image policy's rule (DecisionReason-valued; see policy/requirements/). */
export interface RequirementReport {
  /** The requirement's name within its rule, and its config key (`policy.rules[2].require[0]`). */
  readonly name: string;
  readonly key: string;
  readonly verifier: string;
  readonly status: 'passed' | 'failed' | 'not_evaluated';
  readonly reason?: DecisionReason;
  readonly message?: string;
  /** The manifest digest the requirement vouches for, when its system signs one for a tag (Notary v1). */
  readonly digest?: string;
  /** Notary v1: the GUN, the role(s) that decided with the key IDs that signed them, every role version seen. */
  readonly notaryv1?: {
    readonly gun: string;
    readonly roles: readonly { readonly role: string; readonly version: number; readonly signerKeyIds: readonly string[] }[];
    readonly versions: Readonly<Record<string, number>>;
  };
  /**
   * cosign: how the requirement verifies (keys or keyless, the trusted root, the layouts searched) and, when it
   * passed, what verified — each key's name and SPKI fingerprint with the Rekor integrated time when a SET was
   * checked, or each keyless signer (`<SAN> (issuer <iss>)`) with the identity it matched.
   */
  readonly cosign?: {
    readonly mode: 'keys' | 'keyless';
    readonly trustedRoot: string;
    readonly layouts: readonly string[];
    readonly verifiedBy?: readonly {
      readonly name: string;
      readonly fingerprint?: string;
      readonly signer?: string;
      readonly integratedTime?: string;
    }[];
  };
  /** Notation: the trust policy statement that applied and the signatures tried. */
  readonly notation?: { readonly statement: string | undefined; readonly signatures?: readonly SignatureOutcome[] };
}

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
  /** Which signature system decided (metric label `verifier`); absent on decisions made before any verifier ran. */
  readonly verifier?: DecisionVerifier;
  /** The image policy rule that applied (`policy.rules[2]` and its scope), when an image policy is configured. */
  readonly rule?: { readonly key: string; readonly scope: string };
  /** Per requirement of that rule, in rule order. */
  readonly requirements?: readonly RequirementReport[];
}

/** What a decision is about, before the manifest's bytes are in hand: enough to look up its signatures. */
export type DecisionSubject = Pick<ImageTarget, 'registry' | 'repository' | 'digest'>;

/** A tag to resolve, before anything is fetched. */
export interface TagSubject {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
}

/**
 * How a tag becomes a digest (issue 13.4). `registry`: ask the registry, as today (Notation and cosign sign
 * digests; the signature must then cover whatever the tag names). `signed`: the policy's trust data signs the tag
 * (Notary v1) — fetch exactly this digest, whatever the registry's tag says now; the decision on its bytes checks
 * the signed length. `denied`: the tag cannot pass whatever the registry holds.
 */
export type TagResolution =
  | { readonly kind: 'registry' }
  | { readonly kind: 'signed'; readonly digest: Digest; readonly length: number; readonly verifier: string }
  | { readonly kind: 'denied'; readonly decision: Decision };

/** Verifies the Notation signatures of a target under a named statement; provided by verifiers/notation. */
export interface SignatureVerifier {
  verify(target: ImageTarget, statement: string): Promise<Decision>;
  /**
   * Starts the work of a coming verify() that needs only the subject (signature discovery), so it overlaps the
   * caller's fetch of the manifest. Never throws and never decides anything: verify() still checks every
   * signature against the bytes it is given.
   */
  prepare?(subject: DecisionSubject, statement: string): void;
}

export function targetRef(t: Pick<ImageTarget, 'registry' | 'repository' | 'reference'>): string {
  const sep = t.reference.includes(':') ? '@' : ':';
  return `${t.registry}/${t.repository}${sep}${t.reference}`;
}
