/**
 * PolicyEngine.decide(target): the one entry point that turns an ImageTarget into a Decision, for the proxy, the
 * webhook and the CLI. The applicable Notation trust policy statement is chosen as notation does (exact
 * registry scope beats `*`); `skip` allows without looking for signatures; every other level requires
 * verification. There is no allow-by-default path: no policy, no statement or no verifier is a deny.
 */
import type { Decision, ImageTarget } from './decision.ts';

export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

/** The slice of a validated trust policy the engine needs to pick a statement. */
export interface StatementLookup {
  statementFor(scope: string): { readonly name: string; readonly level: VerificationLevelName } | undefined;
}

/** What a decision is about, before the manifest's bytes are in hand: enough to look up its signatures. */
export type DecisionSubject = Pick<ImageTarget, 'registry' | 'repository' | 'digest'>;

/** Verifies the signatures of a target under a named statement; provided by the verification layer. */
export interface SignatureVerifier {
  verify(target: ImageTarget, statement: string): Promise<Decision>;
  /**
   * Starts the work of a coming verify() that needs only the subject (signature discovery), so it overlaps the
   * caller's fetch of the manifest. Never throws and never decides anything: verify() still checks every
   * signature against the bytes it is given.
   */
  prepare?(subject: DecisionSubject, statement: string): void;
}

export interface StoreProblem {
  readonly storeType: string;
  readonly storeName: string;
  readonly message: string;
}

export type PolicyState =
  | { readonly loaded: true; readonly policy: StatementLookup; readonly verifier: SignatureVerifier | undefined; readonly problems?: readonly StoreProblem[] }
  | { readonly loaded: false; readonly problem: string };

export class PolicyEngine {
  readonly #state: PolicyState;

  constructor(state: PolicyState) {
    this.#state = state;
  }

  get ready(): boolean {
    return this.#state.loaded;
  }

  /** Trust stores the policy names that could not be used (each makes its statements fail authenticity). */
  get problems(): readonly StoreProblem[] {
    return this.#state.loaded ? (this.#state.problems ?? []) : [];
  }

  /**
   * Called with the digest before its manifest is fetched, when a decide() for it will follow: a statement that
   * verifies signatures starts discovering them now (one registry round trip fewer on a cold decision).
   */
  prepare(subject: DecisionSubject): void {
    const state = this.#state;
    if (!state.loaded || state.verifier?.prepare === undefined) return;
    const statement = state.policy.statementFor(`${subject.registry}/${subject.repository}`);
    if (statement === undefined || statement.level === 'skip') return;
    state.verifier.prepare(subject, statement.name);
  }

  async decide(target: ImageTarget): Promise<Decision> {
    const state = this.#state;
    if (!state.loaded) return deny('no_trust_policy', `no usable Notation trust policy (${state.problem})`, undefined);
    const scope = `${target.registry}/${target.repository}`;
    const statement = state.policy.statementFor(scope);
    if (statement === undefined) {
      return deny('no_policy_statement', `no trust policy statement applies to ${scope}`, undefined);
    }
    if (statement.level === 'skip') {
      return { allow: true, reason: 'skip', message: `trust policy "${statement.name}" skips verification`, statement: statement.name, checks: [] };
    }
    if (state.verifier === undefined) {
      return deny('verification_not_implemented', 'signature verification not implemented', statement.name);
    }
    return state.verifier.verify(target, statement.name);
  }
}

function deny(reason: Decision['reason'], message: string, statement: string | undefined): Decision {
  return { allow: false, reason, message, statement, checks: [] };
}
