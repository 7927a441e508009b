/** The cosign verifier's public surface: everything the engine needs, nothing of the internals. */
export { type CosignReasonCode, CosignError } from './errors.ts';
export type { ReferenceMatch } from './simple-signing.ts';
export {
  type CosignKeyPolicyConfig, type CosignOutcome, type CosignRequest, type PreparedCosignPolicy, type VerifiedBy,
  type GatheredSignatures, gatherSignatures, judgeCosign, prepareCosignPolicy, verifyCosign, verifyCosignKeyless,
} from './cosign-verifier.ts';
export { type KeylessIdentity, type KeylessOutcome, type KeylessRule, type KeylessSigner, judgeKeyless } from './keyless.ts';
export { type BundleExpectation, type BundleVerdict, type PreparedTrustedRoot, prepareTrustedRoot, verifySigstoreBundle } from './sigstore-bundle.ts';
export { type LoosePems, trustedRootFromPems } from './trusted-root-from-pems.ts';
export { signatureTag } from './legacy-layout.ts';
export { BUNDLE_ARTIFACT_TYPE } from './bundle-referrer.ts';
export { type TrustedKey, parsePublicKey } from './keys.ts';
export { PUBLIC_GOOD_SOURCE, PUBLIC_GOOD_TRUSTED_ROOT } from './public-good.ts';
export { type ClaimMatcher, type FulcioClaimRequirements, fulcioClaimMismatch } from './fulcio-claims.ts';
export { FULCIO_CLAIMS, FULCIO_CLAIM_NAMES, type FulcioClaim } from './fulcio-oids.ts';
