/**
 * Builds the PolicyEngine's state from a notation config directory: the trust policy and the trust stores it
 * names (verifiers/notation/trust loadNotationConfig), and the NotationVerifier that checks signatures with them. A missing
 * trust policy is not fatal (the gate runs and denies everything, and /readyz says why); an invalid one is,
 * because the operator wrote it and must hear about the mistake at start rather than find every pull denied.
 * Broken trust stores are not fatal either: notation treats them as a verification failure of the statements
 * that use them (vectors ERRATA 1); `problems` lists them for a start-up warning, as `scopeWarnings` lists the
 * registry scopes that can never match an image here.
 */
import type { ArtifactFetcher, CrlSource, OcspSource } from '../oci/discovery/fetcher.ts';
import { ConfigError } from '../config/fields.ts';
import type { PolicyState } from './engine.ts';
import { ImagePolicyRuntime } from './image-decision.ts';
import type { CosignRequirement, ImagePolicy, NotaryV1Requirement } from './image-policy/types.ts';
import type { NotationState } from './requirements/notation.ts';
import type { NotaryV1Deps } from './requirements/notaryv1.ts';
import type { RequirementVerifier } from './requirements/requirement-verifier.ts';
import type { TrustStoreError } from '../verifiers/notation/trust/errors.ts';
import type { ScopeLintWarning } from '../verifiers/notation/trust/scope-lint.ts';
import type { ColdDecisions } from '../oci/discovery/cold-decisions.ts';

// Each signature system's code is loaded only when the policy needs it (dynamic imports below): a node gate that
// only checks Notation never evaluates the Sigstore libraries or the TUF client, and the agent's idle footprint is
// paid on every node (issue 16).

export interface PolicyStateDeps {
  /** Registry access for signature discovery, by registry host; undefined when pullgate does not mirror it. */
  readonly fetcherFor: (registry: string) => ArtifactFetcher | undefined;
  readonly crlSource: CrlSource;
  /** OCSP responders, asked before CRLs (fallback); absent: revocation by CRL only. */
  readonly ocspSource?: OcspSource;
  /** Verification clock; the system clock by default. */
  readonly clock?: () => Date;
  /** Accept symlinks that stay inside the config dir (Kubernetes ConfigMap/Secret volumes). Default true. */
  readonly allowSymlinks?: boolean;
  /** The process-wide cap on cold decisions, shared by every policy generation; absent: one per verifier. */
  readonly coldDecisions?: ColdDecisions;
  /** Trust-server access and the process's version state, for an image policy with Notary v1 requirements. */
  readonly notaryV1?: NotaryV1Deps;
}

export type LoadedPolicyState = PolicyState & {
  readonly fingerprint?: string;
  readonly problems?: readonly TrustStoreError[];
  /** Scopes notation accepts that never match an image here (trust/scope-lint.ts): for a warning at load. */
  readonly scopeWarnings?: readonly ScopeLintWarning[];
};

/**
 * `imagePolicy` is the config's parsed `policy:` section (absent: the Notation trust policy alone decides). With
 * one, the Notation trust policy is read only when a rule requires Notation, and every verifier a rule names is
 * prepared now: a requirement the verifier refuses fails the load with its config key, not a pull.
 */
export async function loadPolicyState(configDir: string, deps: PolicyStateDeps, imagePolicy?: ImagePolicy): Promise<LoadedPolicyState> {
  const notation = imagePolicy === undefined || imagePolicy.verifiers.has('notation') ? await loadNotation(configDir, deps) : { loaded: false as const, problem: 'no image policy rule requires Notation' };
  if (imagePolicy === undefined) return notation;
  return { ...notation, image: await imagePolicyRuntime(imagePolicy, notation, deps) };
}

async function imagePolicyRuntime(policy: ImagePolicy, notation: NotationState, deps: PolicyStateDeps): Promise<ImagePolicyRuntime> {
  const verifiers: { notation?: RequirementVerifier; notaryv1?: RequirementVerifier; cosign?: RequirementVerifier } = {};
  if (policy.verifiers.has('notation')) {
    const { NotationRequirements } = await import('./requirements/notation.ts');
    verifiers.notation = new NotationRequirements(notation);
  }
  if (policy.verifiers.has('notaryv1')) {
    const { NotaryV1RequirementError, NotaryV1Requirements } = await import('./requirements/notaryv1.ts');
    const requirements = policy.rules.flatMap((r) => (r.action.kind === 'verify' ? r.action.requirements : [])).filter((r): r is NotaryV1Requirement => r.verifier === 'notaryv1');
    if (deps.notaryV1 === undefined) throw new ConfigError(policy.file, requirements[0]!.key, 'Notary v1 requirements need trust-server access, which this command does not set up', 'run the check through pullgate serve, webhook or verify');
    try {
      verifiers.notaryv1 = new NotaryV1Requirements(requirements, deps.notaryV1);
    } catch (err) {
      if (err instanceof NotaryV1RequirementError) throw new ConfigError(policy.file, err.requirement.key, err.message, 'fix the root keys, delegations or signers of this requirement');
      throw err;
    }
  }
  if (policy.verifiers.has('cosign')) {
    const { CosignRequirementError, CosignRequirements } = await import('./requirements/cosign.ts');
    const requirements = policy.rules.flatMap((r) => (r.action.kind === 'verify' ? r.action.requirements : [])).filter((r): r is CosignRequirement => r.verifier === 'cosign');
    try {
      verifiers.cosign = new CosignRequirements(requirements, { fetcherFor: deps.fetcherFor, ...(deps.coldDecisions ? { coldDecisions: deps.coldDecisions } : {}) });
    } catch (err) {
      if (err instanceof CosignRequirementError) throw new ConfigError(policy.file, err.requirement.key, err.message, 'fix the keys, identities or trusted root of this requirement');
      throw err;
    }
  }
  return new ImagePolicyRuntime(policy, verifiers);
}

async function loadNotation(configDir: string, deps: PolicyStateDeps): Promise<LoadedPolicyState> {
  const [{ TrustPolicyError }, { loadNotationConfig }, { lintRegistryScopes }, { statementFor }, { NotationVerifier }] = await Promise.all([
    import('../verifiers/notation/trust/errors.ts'),
    import('../verifiers/notation/trust/notation-config.ts'),
    import('../verifiers/notation/trust/scope-lint.ts'),
    import('../verifiers/notation/trust/trust-policy.ts'),
    import('../verifiers/notation/verifier/notation-verifier.ts'),
  ]);
  let config;
  try {
    config = await loadNotationConfig(configDir, { allowSymlinks: deps.allowSymlinks ?? true });
  } catch (err) {
    if (err instanceof TrustPolicyError && err.code === 'POLICY_NOT_FOUND') return { loaded: false, problem: err.message };
    throw err;
  }
  const doc = config.policy;
  const verifier = new NotationVerifier({
    policy: doc,
    trustStore: config.trustStore,
    fetcherFor: (target) => deps.fetcherFor(target.registry),
    crlSource: deps.crlSource,
    ...(deps.ocspSource ? { ocspSource: deps.ocspSource } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.coldDecisions ? { coldDecisions: deps.coldDecisions } : {}),
  });
  return {
    loaded: true,
    policy: {
      statementFor(scope) {
        const s = statementFor(doc, scope);
        return s === undefined ? undefined : { name: s.name, level: s.signatureVerification.level };
      },
    },
    verifier,
    fingerprint: config.fingerprint,
    problems: config.trustStore.problems(),
    scopeWarnings: lintRegistryScopes(doc),
  };
}
