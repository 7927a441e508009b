/** The cosign verifier's public surface: everything the engine needs, nothing of the internals. */
export { type CosignReasonCode, CosignError } from './errors.ts';
export type { ReferenceMatch } from './simple-signing.ts';
export {
  type CosignKeyPolicyConfig, type CosignOutcome, type CosignRequest, type PreparedCosignPolicy, type VerifiedBy,
  judgeCosign, prepareCosignPolicy, verifyCosign,
} from './cosign-verifier.ts';
export { signatureTag } from './legacy-layout.ts';
export { BUNDLE_ARTIFACT_TYPE } from './bundle-referrer.ts';
