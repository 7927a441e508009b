/**
 * What the policy engine is asked about (ImageTarget) and what it answers (Decision). One shape for the proxy,
 * the webhook and `pullgate verify`.
 */
import type { Digest } from './oci/digest.ts';

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
  | 'verification_not_implemented';

export type CheckName = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation' | 'trustedIdentity';
export type CheckAction = 'enforce' | 'log' | 'skip';

/** One check on one signature: "failed" is kept apart from "inconclusive" (notation-go's outcome model). */
export interface CheckResult {
  readonly check: CheckName;
  readonly action: CheckAction;
  readonly result: 'passed' | 'failed' | 'inconclusive' | 'skipped';
  readonly message?: string;
}

export interface Decision {
  readonly allow: boolean;
  readonly reason: DecisionReason;
  /** In words, for the denial message `pullgate: <ref>: <message>`. */
  readonly message: string;
  /** The trust policy statement that applied, if any. */
  readonly statement: string | undefined;
  readonly checks: readonly CheckResult[];
}

export function targetRef(t: Pick<ImageTarget, 'registry' | 'repository' | 'reference'>): string {
  const sep = t.reference.includes(':') ? '@' : ':';
  return `${t.registry}/${t.repository}${sep}${t.reference}`;
}
