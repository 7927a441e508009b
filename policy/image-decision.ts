/**
 * The image policy at run time (issue 13.1, 13.4): the most specific rule (image-policy/match.ts) decides; an
 * `allow` or `deny` rule answers at once; a verifying rule hands each requirement to the verifier it names (the
 * RequirementVerifier adapters in requirements/) and combines their reports (image-policy/combine.ts: all by
 * default, `anyOf` with `count`). Requirements run concurrently — a cold decision waits for the slowest
 * signature system, not for their sum — and each is bounded by its own verifier's limits.
 *
 * Tags: when the rule has requirements whose system signs tags (Notary v1), the tag resolves to the digest they
 * sign; requirements that disagree deny; when they fail and the rule can no longer reach its count, the tag is
 * denied before anything is fetched from the registry. Otherwise the registry resolves the tag as without a policy.
 */
import type { Decision, DecisionSubject, ImageTarget, RequirementReport, TagResolution, TagSubject } from './decision.ts';
import { parseDigest } from '../oci/digest.ts';
import { combine, unmatchedMessage, type RequirementOutcome } from './image-policy/combine.ts';
import { matchRule } from './image-policy/match.ts';
import type { ImagePolicy, ImagePolicyRule, Requirement, SupportedVerifier } from './image-policy/types.ts';
import { failedReport, type RequirementVerifier, type TagReport } from './requirements/requirement-verifier.ts';

/** Fixed order for the joined `verifier` label (bounded: at most one value per subset of verifiers). */
const LABEL_ORDER: readonly SupportedVerifier[] = ['cosign', 'notaryv1', 'notation'];

export class ImagePolicyRuntime {
  readonly policy: ImagePolicy;
  readonly verifiers: Partial<Record<SupportedVerifier, RequirementVerifier>>;

  constructor(policy: ImagePolicy, verifiers: Partial<Record<SupportedVerifier, RequirementVerifier>>) {
    this.policy = policy;
    this.verifiers = verifiers;
  }

  prepare(subject: DecisionSubject): void {
    const rule = matchRule(this.policy, subject.registry, subject.repository);
    if (rule?.action.kind !== 'verify') return;
    for (const req of rule.action.requirements) {
      try {
        this.verifiers[req.verifier]?.prepare?.(req, subject);
      } catch {
        // prepare only starts work early; verify() decides.
      }
    }
  }

  async resolveTag(subject: TagSubject): Promise<TagResolution> {
    const rule = matchRule(this.policy, subject.registry, subject.repository);
    if (rule?.action.kind !== 'verify') return { kind: 'registry' };
    const action = rule.action;
    const signing = action.requirements.filter((r) => this.verifiers[r.verifier]?.resolveTag !== undefined);
    if (signing.length === 0) return { kind: 'registry' };
    const reports: TagReport[] = await Promise.all(signing.map((req) => this.#guard(req, () => this.verifiers[req.verifier]!.resolveTag!(req, subject))));
    const passed = reports.filter((r) => r.status === 'passed' && r.digest !== undefined);
    const failed = reports.filter((r) => r.status !== 'passed');
    const digests = [...new Set(passed.map((r) => r.digest!))];
    if (digests.length > 1) {
      const who = passed.map((r) => `${r.verifier} requirement "${r.name}" (${r.key}) → ${r.digest}`).join('; ');
      return { kind: 'denied', decision: this.#decision(rule, reports, { allow: false, reason: 'digests_disagree', message: `requirements sign different digests for tag ${subject.tag}: ${who}` }) };
    }
    // The rule needs `count` passes of its requirements; when the failures already leave too few, no digest the
    // registry could name would pass: deny now, saying why, without fetching anything.
    if (action.requirements.length - failed.length < action.count) {
      const verdict = combine(rule, reports.map((r) => outcomeOf(r, action.requirements)));
      return { kind: 'denied', decision: this.#decision(rule, reports, { allow: false, reason: verdict.reason as Decision['reason'], message: verdict.message }) };
    }
    const first = passed[0];
    const digest = first === undefined ? undefined : parseDigest(first.digest!);
    if (first === undefined || digest === undefined || !digest.ok || first.length === undefined) return { kind: 'registry' };
    return { kind: 'signed', digest: digest.digest, length: first.length, verifier: first.verifier };
  }

  async decide(target: ImageTarget): Promise<Decision> {
    const rule = matchRule(this.policy, target.registry, target.repository);
    if (rule === undefined) {
      return { allow: false, reason: 'no_policy_rule', message: unmatchedMessage(target.registry, target.repository, this.policy.file), statement: undefined, checks: [], verifier: 'policy' };
    }
    const action = rule.action;
    if (action.kind !== 'verify') {
      const verdict = combine(rule, []);
      return this.#decision(rule, [], { allow: verdict.decision === 'allow', reason: verdict.reason as Decision['reason'], message: verdict.message });
    }
    const reports = await Promise.all(action.requirements.map((req) => {
      const verifier = this.verifiers[req.verifier];
      if (verifier === undefined) return failedReport(req, 'verification_not_implemented', `no ${req.verifier} verifier is loaded`);
      return this.#guard(req, () => verifier.verify(req, target));
    }));
    const verdict = combine(rule, reports.map((r) => outcomeOf(r, action.requirements)));
    return this.#decision(rule, reports, {
      allow: verdict.decision === 'allow',
      reason: verdict.reason as Decision['reason'],
      message: verdict.message,
    });
  }

  /** A verifier that throws fails its requirement; it never allows and never takes the other requirements down. */
  async #guard<T extends RequirementReport>(req: Requirement, run: () => Promise<T>): Promise<T | RequirementReport> {
    try {
      return await run();
    } catch (err) {
      return failedReport(req, 'verification_error', `internal error in the ${req.verifier} verifier (${String((err as Error)?.message ?? err).slice(0, 200)})`);
    }
  }

  #decision(rule: ImagePolicyRule, reports: readonly (RequirementReport | TagReport)[], d: Pick<Decision, 'allow' | 'reason' | 'message'>): Decision {
    const notation = reports.find((r) => r.notation !== undefined)?.notation;
    const deciding = d.allow ? reports.filter((r) => r.status === 'passed') : reports.filter((r) => r.status === 'failed').slice(0, 1);
    const names = new Set(deciding.map((r) => r.verifier));
    const label = LABEL_ORDER.filter((v) => names.has(v)).join('+') || 'policy';
    return {
      ...d,
      statement: notation?.statement,
      checks: [],
      ...(notation?.signatures ? { signatures: notation.signatures } : {}),
      verifier: label,
      rule: { key: rule.key, scope: rule.scope.text },
      requirements: allRequirements(rule, reports),
    };
  }
}

/** The rule's requirements in rule order: each with its report, or `not_evaluated`. */
function allRequirements(rule: ImagePolicyRule, reports: readonly RequirementReport[]): RequirementReport[] {
  if (rule.action.kind !== 'verify') return [];
  return rule.action.requirements.map((req) => {
    const r = reports.find((x) => x.key === req.key);
    return r === undefined ? { name: req.name, key: req.key, verifier: req.verifier, status: 'not_evaluated' } : stripLength(r);
  });
}

function stripLength(r: RequirementReport | TagReport): RequirementReport {
  if (!('length' in r)) return r;
  const { length: _length, ...rest } = r;
  return rest;
}

/** combine() matches outcomes to requirements by identity; reports carry the requirement's key. */
function outcomeOf(r: RequirementReport, requirements: readonly Requirement[]): RequirementOutcome<string> {
  const requirement = requirements.find((req) => req.key === r.key)!;
  return {
    requirement,
    status: r.status === 'passed' ? 'passed' : 'failed',
    reason: r.reason ?? 'requirement_not_evaluated',
    ...(r.message !== undefined ? { message: r.message } : {}),
    ...(r.digest !== undefined ? { digest: r.digest } : {}),
  };
}
