/**
 * Notary Project signature envelope primitives: parse and cryptographically
 * verify Notation JWS (application/jose+json) and COSE (application/cose)
 * envelopes. Pure functions, no I/O; every failure is an EnvelopeError.
 *
 *   const env = parseEnvelope(layerBytes, layer.mediaType)   // structure + signed attributes
 *   verifyEnvelopeSignature(env)                             // alg ↔ leaf key, signature math
 *   const target = parseTargetArtifact(env.payload.content)  // only after verification
 *
 * Not here: certificate chain trust (pki), trust policy (verifiers/notation/trust),
 * RFC 3161 timestamp tokens (signerInfo.timestampSignature is raw bytes).
 */
export { parseEnvelope } from './envelope.ts';
export { verifyEnvelopeSignature, leafPublicKey, type VerifiedSignature } from './verify.ts';
export { parseTargetArtifact } from './payload.ts';
export { EnvelopeError, isEnvelopeError, type EnvelopeErrorCode } from './errors.ts';
export { ALGORITHMS, algorithmForKey, keySpecOf, type AlgorithmSpec, type KeySpec } from './algorithm.ts';
export { LIMITS } from './limits.ts';
export {
  HEADER,
  MEDIA_TYPE_COSE,
  MEDIA_TYPE_JWS,
  PAYLOAD_CONTENT_TYPE,
  type EnvelopeMediaType,
  type EnvelopePayload,
  type ExtendedAttribute,
  type SignatureAlgorithm,
  type SignatureEnvelope,
  type SignerInfo,
  type SigningScheme,
  type TargetArtifact,
} from './types.ts';
