/**
 * PolicyEngine: the one entry point that turns an ImageTarget into a Decision, for the proxy, the webhook and the
 * CLI, and a tag into the digest to fetch (resolveTag).
 *
 * Without an image policy (no `policy:` section) the Notation trust policy alone decides, exactly as before the
 * image policy existed: the applicable statement is chosen as notation does (exact registry scope beats `*`);
 * `skip` allows without looking for signatures; every other level requires verification.
 *
 * With an image policy the most specific rule decides (image-policy/match.ts): `allow`, `deny`, or requirements
 * handed to the verifiers they name and combined (image-policy/combine.ts) — see image-decision.ts.
 *
 * There is no allow-by-default path: no policy, no statement, no rule or no verifier is a deny.
 */
import type { Decision, DecisionSubject, ImageTarget, SignatureVerifier, TagResolution, TagSubject } from './decision.ts';
import { ImagePolicyRuntime } from './image-decision.ts';

export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

/** The slice of a validated trust policy the engine needs to pick a statement. */
export interface StatementLookup {
  statementFor(scope: string): { readonly name: string; readonly level: VerificationLevelName } | undefined;
}

export interface StoreProblem {
  readonly storeType: string;
  readonly storeName: string;
  readonly message: string;
}

/** The Notation side (the trust policy and its verifier), and the image policy when one is configured. */
export type PolicyState = (
  | { readonly loaded: true; readonly policy: StatementLookup; readonly verifier: SignatureVerifier | undefined; readonly problems?: readonly StoreProblem[] }
  | { readonly loaded: false; readonly problem: string }
) & { readonly image?: ImagePolicyRuntime };

export class PolicyEngine {
  readonly #state: PolicyState;

  constructor(state: PolicyState) {
    this.#state = state;
  }

  /**
   * False when decisions cannot come out right: without an image policy, no usable Notation trust policy; with
   * one, a rule requires Notation and no trust policy loaded.
   */
  get ready(): boolean {
    const image = this.#state.image;
    if (image !== undefined) return this.#state.loaded || !image.policy.verifiers.has('notation');
    return this.#state.loaded;
  }

  /** Why not ready, in words (for /readyz and the start-up log). */
  get notReadyReason(): string | undefined {
    if (this.ready) return undefined;
    return this.#state.loaded ? undefined : `no usable Notation trust policy (${this.#state.problem})`;
  }

  /** True when an image policy (the config's `policy:` section) decides, rather than the trust policy alone. */
  get hasImagePolicy(): boolean {
    return this.#state.image !== undefined;
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
    if (state.image !== undefined) return state.image.prepare(subject);
    if (!state.loaded || state.verifier?.prepare === undefined) return;
    const statement = state.policy.statementFor(`${subject.registry}/${subject.repository}`);
    if (statement === undefined || statement.level === 'skip') return;
    state.verifier.prepare(subject, statement.name);
  }

  /**
   * Which digest a tag stands for. Without an image policy, and under rules whose systems sign digests, the
   * registry says (`registry`); under a rule with a Notary v1 requirement, the trust data does.
   */
  async resolveTag(subject: TagSubject): Promise<TagResolution> {
    const image = this.#state.image;
    if (image === undefined) return { kind: 'registry' };
    try {
      return await image.resolveTag(subject);
    } catch (err) {
      return { kind: 'denied', decision: internalError(err) };
    }
  }

  async decide(target: ImageTarget): Promise<Decision> {
    const state = this.#state;
    if (state.image !== undefined) return state.image.decide(target);
    if (!state.loaded) return deny('no_trust_policy', `no usable Notation trust policy (${state.problem})`, undefined);
    const scope = `${target.registry}/${target.repository}`;
    const statement = state.policy.statementFor(scope);
    if (statement === undefined) {
      return deny('no_policy_statement', `no trust policy statement applies to ${scope}`, undefined);
    }
    if (statement.level === 'skip') {
      return { allow: true, reason: 'skip', message: `trust policy "${statement.name}" skips verification`, statement: statement.name, checks: [], verifier: 'notation' };
    }
    if (state.verifier === undefined) {
      return deny('verification_not_implemented', 'signature verification not implemented', statement.name);
    }
    const decision = await state.verifier.verify(target, statement.name);
    return { ...decision, verifier: 'notation' };
  }
}

function deny(reason: Decision['reason'], message: string, statement: string | undefined): Decision {
  return { allow: false, reason, message, statement, checks: [], verifier: 'notation' };
}

export function internalError(err: unknown): Decision {
  return { allow: false, reason: 'verification_error', message: `internal error during verification (${String((err as Error)?.message ?? err).slice(0, 200)})`, statement: undefined, checks: [], verifier: 'policy' };
}
