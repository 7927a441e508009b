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
import type { PolicyState } from './engine.ts';
import { TrustPolicyError, type TrustStoreError } from '../verifiers/notation/trust/errors.ts';
import { loadNotationConfig } from '../verifiers/notation/trust/notation-config.ts';
import { lintRegistryScopes, type ScopeLintWarning } from '../verifiers/notation/trust/scope-lint.ts';
import { statementFor } from '../verifiers/notation/trust/trust-policy.ts';
import type { ColdDecisions } from '../oci/discovery/cold-decisions.ts';
import { NotationVerifier } from '../verifiers/notation/verifier/notation-verifier.ts';

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
}

export type LoadedPolicyState = PolicyState & {
  readonly fingerprint?: string;
  readonly problems?: readonly TrustStoreError[];
  /** Scopes notation accepts that never match an image here (trust/scope-lint.ts): for a warning at load. */
  readonly scopeWarnings?: readonly ScopeLintWarning[];
};

export async function loadPolicyState(configDir: string, deps: PolicyStateDeps): Promise<LoadedPolicyState> {
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
