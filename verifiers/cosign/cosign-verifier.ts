/**
 * Entry point: verify the cosign signatures of one image digest against a prepared key rule. No I/O of its own: the
 * registry is reached through the caller's ArtifactFetcher (the same one the Notation verifier uses), so budgets,
 * digests checks and aborts are the proxy's. Both layouts are gathered and judged together, so a threshold counts
 * keys across them: the tag layout (`sha256-<hex>.sig`, cosign ≤ 2 and `cosign sign` today) and Sigstore bundles
 * attached as OCI referrers (cosign `--new-bundle-format`, cosign `specs/BUNDLE_SPEC.md`).
 * Never throws: a fetch error is `fetch_failed`, every other problem one of the closed reason codes.
 */
import { FetchError, type ArtifactFetcher, type FetchErrorCode } from '../../oci/discovery/fetcher.ts';
import { CosignError, type CosignReasonCode, fail } from './errors.ts';
import { parsePublicKey, type TrustedKey } from './keys.ts';
import { type CandidateSignature, verifyWithKeys } from './key-verification.ts';
import { fetchLegacySignatures, type LegacySignature } from './legacy-layout.ts';
import { rekorKey, type RekorKey } from './rekor-set.ts';
import { checkPayload, parseSimpleSigning, type ReferenceMatch } from './simple-signing.ts';
import { bundleCandidate, fetchBundles } from './bundle-referrer.ts';
import { judgeKeyless, type KeylessOutcome, type KeylessRule } from './keyless.ts';

export type CosignKeyPolicyConfig = {
  /** PEM public keys; `name` is what decisions report (defaults to the SPKI fingerprint). */
  readonly keys: readonly { readonly name?: string; readonly pem: string }[];
  /** Distinct keys that must verify (default 1). */
  readonly threshold?: number;
  /** Key names that must be among the verified ones (Connaisseur `required`). */
  readonly required?: readonly string[];
  readonly referenceMatch?: ReferenceMatch;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Rekor public keys (PEM) that SETs are checked against; `required`: a signature without a valid SET fails. */
  readonly rekor?: { readonly required: boolean; readonly publicKeys: readonly string[] };
  /** Where to look (default both). */
  readonly layouts?: readonly ('tag' | 'referrer')[];
};

export type PreparedCosignPolicy = {
  readonly keys: readonly TrustedKey[];
  readonly threshold: number;
  readonly required: readonly string[];
  readonly referenceMatch: ReferenceMatch;
  readonly annotations: Readonly<Record<string, string>>;
  readonly rekor: { readonly required: boolean; readonly logs: readonly RekorKey[] };
  readonly layouts: readonly ('tag' | 'referrer')[];
};

/** Parse and check a rule's cosign settings once, at config load; throws CosignError (`unsupported_key`, `malformed`). */
export function prepareCosignPolicy(c: CosignKeyPolicyConfig): PreparedCosignPolicy {
  if (c.keys.length === 0 || c.keys.length > 64) fail('malformed', 'cosign: a key rule needs 1–64 keys');
  const keys = c.keys.map((k) => parsePublicKey(k.pem, k.name));
  const threshold = c.threshold ?? 1;
  // A threshold above the key count can never be met; it is still a verdict (Connaisseur: "threshold not reached").
  if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > 64) fail('malformed', `cosign: threshold ${threshold} not in 1..64`);
  const required = c.required ?? [];
  for (const r of required) if (!keys.some((k) => k.name === r)) fail('malformed', `cosign: required key ${r} is not a configured key`);
  const logs = (c.rekor?.publicKeys ?? []).map(rekorKey);
  if (c.rekor?.required && logs.length === 0) fail('malformed', 'cosign: Rekor required but no Rekor public key configured');
  return {
    keys, threshold, required, referenceMatch: c.referenceMatch ?? 'ignore', annotations: c.annotations ?? {},
    rekor: { required: c.rekor?.required ?? false, logs }, layouts: c.layouts ?? ['tag', 'referrer'],
  };
}

export type CosignRequest = {
  readonly repository: string; // repository path on the upstream registry, as the fetcher takes it
  readonly digest: string; // the manifest digest being pulled
  readonly reference?: string; // `registry/repository[:tag]`, for referenceMatch 'repository' / 'exact'
  readonly signal?: AbortSignal;
};

export type VerifiedBy = { readonly name: string; readonly fingerprint: string; readonly integratedTime?: number };
export type CosignOutcome =
  | { readonly ok: true; readonly verifiedBy: readonly VerifiedBy[] }
  | { readonly ok: false; readonly code: CosignReasonCode; readonly message: string; readonly fetchCode?: FetchErrorCode };

export function legacyCandidate(s: LegacySignature, request: CosignRequest, policy: PreparedCosignPolicy): CandidateSignature {
  return {
    signedBytes: s.payload, signature: s.signature, rekorBundle: s.rekorBundle, loggedBytes: s.payload,
    checkClaims: () => checkPayload(parseSimpleSigning(s.payload), {
      digest: request.digest, match: policy.referenceMatch, annotations: policy.annotations,
      ...(request.reference === undefined ? {} : { reference: request.reference }),
    }),
  };
}

/** Judge already-fetched signatures (both layouts); the pure core the fetching wrapper and the tests share. */
export function judgeCosign(legacy: readonly LegacySignature[], bundles: readonly unknown[], request: CosignRequest, policy: PreparedCosignPolicy): CosignOutcome {
  const candidates: CandidateSignature[] = legacy.map((s) => legacyCandidate(s, request, policy));
  const bad: CosignError[] = [];
  for (const b of bundles) {
    try {
      candidates.push(bundleCandidate(b, request.digest));
    } catch (e) {
      if (!(e instanceof CosignError)) throw e;
      bad.push(e);
    }
  }
  const v = verifyWithKeys(candidates, { keys: policy.keys, threshold: policy.threshold, required: policy.required, rekor: policy.rekor });
  if (v.ok) return { ok: true, verifiedBy: v.keys };
  // A bundle we could not even read is reported only when nothing else was found to judge.
  if (v.code === 'no_signature' && bad.length > 0) return { ok: false, code: (bad[0] as CosignError).code, message: (bad[0] as CosignError).message };
  return v;
}

/**
 * Both layouts are looked up side by side: the `.sig` tag and the referrers (API or tag schema) are independent
 * round trips, so a cold decision waits for the slower one, not their sum. A failure of either fails the decision
 * (the caller's budget aborts what is still in flight).
 */
export type GatheredSignatures = readonly [Awaited<ReturnType<typeof fetchLegacySignatures>> | { readonly found: false }, readonly unknown[]];
export function gatherSignatures(fetcher: ArtifactFetcher, request: Pick<CosignRequest, 'repository' | 'digest' | 'signal'>, layouts: readonly ('tag' | 'referrer')[]): Promise<GatheredSignatures> {
  return Promise.all([
    layouts.includes('tag') ? fetchLegacySignatures(fetcher, request.repository, request.digest, request.signal) : Promise.resolve({ found: false as const }),
    layouts.includes('referrer') ? fetchBundles(fetcher, request.repository, request.digest, request.signal) : Promise.resolve([] as unknown[]),
  ]);
}

/** `gathered`: the lookups already started for this digest (oci/discovery/prepared-lookups.ts); absent, they are made here. */
export async function verifyCosign(fetcher: ArtifactFetcher, request: CosignRequest, policy: PreparedCosignPolicy, gathered?: Promise<GatheredSignatures>): Promise<CosignOutcome> {
  try {
    const [legacy, bundles] = await (gathered ?? gatherSignatures(fetcher, request, policy.layouts));
    return judgeCosign(legacy.found ? legacy.signatures : [], bundles, request, policy);
  } catch (e) {
    if (e instanceof CosignError) return { ok: false, code: e.code, message: e.message };
    // The fetch code travels along so the engine can tell the decision's own bounds (budget, deadline) from the registry.
    if (e instanceof FetchError) return { ok: false, code: 'fetch_failed', message: `cosign: registry: ${e.code}: ${e.message}`, fetchCode: e.code };
    return { ok: false, code: 'internal_error', message: `cosign: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Keyless rule: the same fetching, judged by keyless.ts against the rule's trusted root and identities. */
export async function verifyCosignKeyless(fetcher: ArtifactFetcher, request: CosignRequest, rule: KeylessRule, layouts: readonly ('tag' | 'referrer')[] = ['tag', 'referrer'], gathered?: Promise<GatheredSignatures>): Promise<KeylessOutcome> {
  try {
    const [legacy, bundles] = await (gathered ?? gatherSignatures(fetcher, request, layouts));
    return judgeKeyless(legacy.found ? legacy.signatures : [], bundles, request, rule);
  } catch (e) {
    if (e instanceof CosignError) return { ok: false, code: e.code, message: e.message };
    // The fetch code travels along so the engine can tell the decision's own bounds (budget, deadline) from the registry.
    if (e instanceof FetchError) return { ok: false, code: 'fetch_failed', message: `cosign: registry: ${e.code}: ${e.message}`, fetchCode: e.code };
    return { ok: false, code: 'internal_error', message: `cosign: ${e instanceof Error ? e.message : String(e)}` };
  }
}
