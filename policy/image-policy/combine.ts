/**
 * A rule's verdict from its requirements' outcomes: `require` needs all of them, `anyOf` at least `count`
 * (Kyverno's attestor `count`). Outcomes, not booleans (notation-go's model): the verdict keeps every outcome and
 * says which requirement passed or failed and why, for the decision log, the `verifier` metric label and
 * `pullgate verify --json`.
 *
 * Fail closed: a requirement with no outcome counts as not passed; one reported both passed and failed counts as
 * failed; requirements that vouch for different digests (Notary v1 pins the tag to its signed digest) deny.
 */
import type { ImagePolicyRule, Requirement } from './types.ts';

/** Reasons the image policy itself gives (metric-label vocabulary, to be added to DecisionReason). */
export type ImagePolicyReason = 'policy_allow' | 'policy_deny' | 'no_policy_rule' | 'requirement_not_evaluated' | 'digests_disagree';

/** What one verifier concluded about one requirement. `R` is the verifier's reason vocabulary. */
export interface RequirementOutcome<R extends string = string> {
  readonly requirement: Requirement;
  readonly status: 'passed' | 'failed';
  /** Bounded, metric-safe: `verified`, `no_signature`, `untrusted`, … */
  readonly reason: R;
  /** For people: what exactly passed or failed. */
  readonly message?: string;
  /** The manifest digest this requirement vouches for, when its signature system names one (Notary v1). */
  readonly digest?: string;
}

interface Base<R extends string> {
  readonly rule: ImagePolicyRule;
  /** Per requirement of the rule, in rule order; undefined where no outcome was reported. */
  readonly outcomes: readonly (RequirementOutcome<R> | undefined)[];
  readonly passed: readonly RequirementOutcome<R>[];
  readonly failed: readonly RequirementOutcome<R>[];
}

export type RuleVerdict<R extends string = string> =
  | (Base<R> & { readonly decision: 'allow'; readonly reason: 'policy_allow' | R; readonly message: string; readonly digest: string | undefined })
  | (Base<R> & { readonly decision: 'deny'; readonly reason: ImagePolicyReason | R; readonly message: string });

/** Per requirement of the rule (rule order): its outcome, failed winning over passed when both were reported. */
function collect<R extends string>(requirements: readonly Requirement[], outcomes: readonly RequirementOutcome<R>[]): (RequirementOutcome<R> | undefined)[] {
  return requirements.map((req) => {
    // Identity, not name: an outcome for another rule's requirement must not count here.
    const mine = outcomes.filter((o) => o.requirement === req);
    return mine.find((o) => o.status === 'failed') ?? mine.find((o) => o.status === 'passed');
  });
}

const label = (r: Requirement) => `${r.verifier} requirement "${r.name}" (${r.key})`;

export function combine<R extends string>(rule: ImagePolicyRule, outcomes: readonly RequirementOutcome<R>[]): RuleVerdict<R> {
  const action = rule.action;
  if (action.kind === 'allow') {
    return { rule, outcomes: [], passed: [], failed: [], decision: 'allow', reason: 'policy_allow', message: `allowed without verification by ${rule.key} (scope ${rule.scope.text})`, digest: undefined };
  }
  if (action.kind === 'deny') {
    const why = action.message ?? 'images in this scope are refused';
    return { rule, outcomes: [], passed: [], failed: [], decision: 'deny', reason: 'policy_deny', message: `denied by ${rule.key} (scope ${rule.scope.text}): ${why}` };
  }
  const per = collect(action.requirements, outcomes);
  const passed = per.filter((o): o is RequirementOutcome<R> => o?.status === 'passed');
  const failed = per.filter((o): o is RequirementOutcome<R> => o?.status === 'failed');
  const base = { rule, outcomes: per, passed, failed };
  const need = action.mode === 'allOf' ? 'all' : `${action.count} of ${action.requirements.length}`;
  if (passed.length < action.count) {
    const first = failed[0];
    const missing = action.requirements.filter((_, i) => per[i] === undefined);
    const parts = [
      ...failed.map((o) => `${label(o.requirement)} failed: ${o.message ?? o.reason}`),
      ...missing.map((r) => `${label(r)} was not evaluated`),
    ];
    const message = `${passed.length} of ${action.requirements.length} requirements passed, ${need} needed: ${parts.join('; ')}`;
    return { ...base, decision: 'deny', reason: first?.reason ?? 'requirement_not_evaluated', message };
  }
  const digests = [...new Set(passed.map((o) => o.digest).filter((d): d is string => d !== undefined))];
  if (digests.length > 1) {
    const who = passed.filter((o) => o.digest !== undefined).map((o) => `${label(o.requirement)} → ${o.digest}`);
    return { ...base, decision: 'deny', reason: 'digests_disagree', message: `requirements vouch for different digests: ${who.join('; ')}` };
  }
  const which = passed.map((o) => `${o.requirement.verifier} "${o.requirement.name}"`).join(', ');
  return { ...base, decision: 'allow', reason: passed[0]!.reason, message: `${need} requirement(s) of ${rule.key} passed: ${which}`, digest: digests[0] };
}

/**
 * True once more outcomes cannot change the verdict, so the engine may stop verifying: for `require`, at the
 * first failure; for `anyOf`, once `count` passed or too many failed for `count` to be reachable. The verdict
 * still comes from `combine`, which treats requirements left unevaluated as not passed.
 */
export function isSettled(rule: ImagePolicyRule, outcomes: readonly RequirementOutcome[]): boolean {
  const action = rule.action;
  if (action.kind !== 'verify') return true;
  const per = collect(action.requirements, outcomes);
  const passed = per.filter((o) => o?.status === 'passed').length;
  const failed = per.filter((o) => o?.status === 'failed').length;
  return passed >= action.count || failed > action.requirements.length - action.count;
}

/** The verdict when no rule covers the image: deny, and say how to cover it. */
export function unmatchedMessage(registry: string, repository: string, policyFile: string): string {
  return `no rule of the image policy (${policyFile}) covers ${registry}/${repository}: add a rule for its scope, or a "*" rule for every image not listed`;
}
