/**
 * The one interface every signature system implements for the image policy (DESIGN.md "Layout for many
 * verifiers"): the engine hands a rule's requirements to the verifier their `verifier` field names and combines
 * the reports (image-policy/combine.ts). A new signature system is a new folder under verifiers/ plus one adapter
 * here; neither proxy/ nor webhook/ changes.
 *
 * Adapters never throw on purpose, but the engine still turns a throw into a failed requirement: a verifier bug
 * must never become an allow.
 */
import type { ImageTarget, DecisionSubject, RequirementReport, TagSubject } from '../decision.ts';
import type { Requirement } from '../image-policy/types.ts';

/** A requirement's report, with the length its trust data signs when it signs a tag (Notary v1). */
export interface TagReport extends RequirementReport {
  readonly length?: number;
}

export interface RequirementVerifier {
  /** Judges `req` for the manifest whose bytes are in hand (hashed to `target.digest` already). */
  verify(req: Requirement, target: ImageTarget): Promise<RequirementReport>;
  /**
   * Only for systems that sign tags (Notary v1): the digest and length the trust data signs for the tag. A passed
   * report carries `digest` and `length`.
   */
  resolveTag?(req: Requirement, subject: TagSubject): Promise<TagReport>;
  /** Starts digest-only work early (signature discovery) for a verify() that will follow. Never throws. */
  prepare?(req: Requirement, subject: DecisionSubject): void;
}

/** The report of a requirement that failed before its verifier ran (or whose verifier threw). */
export function failedReport(req: Requirement, reason: RequirementReport['reason'], message: string): RequirementReport {
  return { name: req.name, key: req.key, verifier: req.verifier, status: 'failed', reason: reason!, message };
}
