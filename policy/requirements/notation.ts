/**
 * A `verifier: notation` requirement defers to the Notation trust policy, verbatim: the statement is the one
 * `notation verify` would pick for the image (trust policy `registryScopes`, exact scope before `*`), and its
 * level decides as it does without an image policy — `skip` passes, every other level verifies (permissive and
 * audit log what they do not enforce). So a rule's notation requirement and the gate without an image policy give
 * the same verdict for the same image.
 */
import type { Decision, DecisionSubject, ImageTarget, RequirementReport, SignatureVerifier } from '../decision.ts';
import type { StatementLookup } from '../engine.ts';
import type { Requirement } from '../image-policy/types.ts';
import { failedReport, type RequirementVerifier } from './requirement-verifier.ts';

export type NotationState =
  | { readonly loaded: true; readonly policy: StatementLookup; readonly verifier: SignatureVerifier | undefined }
  | { readonly loaded: false; readonly problem: string };

export class NotationRequirements implements RequirementVerifier {
  readonly #state: NotationState;

  constructor(state: NotationState) {
    this.#state = state;
  }

  prepare(_req: Requirement, subject: DecisionSubject): void {
    const state = this.#state;
    if (!state.loaded || state.verifier?.prepare === undefined) return;
    const statement = state.policy.statementFor(`${subject.registry}/${subject.repository}`);
    if (statement === undefined || statement.level === 'skip') return;
    state.verifier.prepare(subject, statement.name);
  }

  async verify(req: Requirement, target: ImageTarget): Promise<RequirementReport> {
    const state = this.#state;
    if (!state.loaded) return failedReport(req, 'no_trust_policy', `no usable Notation trust policy (${state.problem})`);
    const scope = `${target.registry}/${target.repository}`;
    const statement = state.policy.statementFor(scope);
    if (statement === undefined) return failedReport(req, 'no_policy_statement', `no Notation trust policy statement applies to ${scope}`);
    if (statement.level === 'skip') {
      return { ...base(req), status: 'passed', reason: 'skip', message: `Notation trust policy "${statement.name}" skips verification`, notation: { statement: statement.name } };
    }
    if (state.verifier === undefined) return failedReport(req, 'verification_not_implemented', 'Notation verification not available');
    const decision = await state.verifier.verify(target, statement.name);
    return fromDecision(req, decision);
  }
}

function base(req: Requirement) {
  return { name: req.name, key: req.key, verifier: req.verifier };
}

function fromDecision(req: Requirement, d: Decision): RequirementReport {
  return {
    ...base(req),
    status: d.allow ? 'passed' : 'failed',
    reason: d.reason,
    message: d.message,
    notation: { statement: d.statement, ...(d.signatures ? { signatures: d.signatures } : {}) },
  };
}
