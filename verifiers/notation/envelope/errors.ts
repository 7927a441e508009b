/**
 * Typed errors for the signature envelope primitives.
 *
 * Every failure of parseEnvelope / verifyEnvelopeSignature / parseTargetArtifact
 * is an EnvelopeError with a code from a closed union, so callers can map codes
 * to verdicts (notation-go reports all of these as an "integrity" failure,
 * trust-store-trust-policy.md § "Signature Verification details").
 */

import { CodedError } from '../../../errors/coded-error.ts';

export type EnvelopeErrorCode =
  /** Envelope media type is neither application/jose+json nor application/cose. */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** Input exceeds a size, depth or item-count bound (limits.ts). */
  | 'LIMIT_EXCEEDED'
  /** Not a well-formed Notation JWS / COSE envelope (encoding, structure, header types). */
  | 'MALFORMED'
  /** `alg` is not one of PS256/384/512, ES256/384/512 (signature-specification.md § "Signature Algorithm Requirements"). */
  | 'UNSUPPORTED_ALGORITHM'
  /** `io.cncf.notary.signingScheme` is not notary.x509 / notary.x509.signingAuthority. */
  | 'UNSUPPORTED_SIGNING_SCHEME'
  /** `cty` is not application/vnd.cncf.notary.payload.v1+json. */
  | 'UNSUPPORTED_CONTENT_TYPE'
  /** `crit` lists a header this verifier does not understand (incl. verification plugins). */
  | 'UNKNOWN_CRITICAL_HEADER'
  /** The leaf certificate cannot be parsed. */
  | 'INVALID_CERTIFICATE'
  /** The leaf public key is not RSA 2048/3072/4096 or EC P-256/P-384/P-521. */
  | 'UNSUPPORTED_KEY'
  /** `alg` does not match the algorithm dictated by the leaf key (algorithm substitution). */
  | 'ALGORITHM_MISMATCH'
  /** The signature does not verify over the signing input. */
  | 'SIGNATURE_INVALID'
  /** The payload is not a valid `{"targetArtifact": descriptor}` document. */
  | 'MALFORMED_PAYLOAD';

export class EnvelopeError extends CodedError<EnvelopeErrorCode> {
  override readonly name = 'EnvelopeError';
}

/** Shorthand for `throw new EnvelopeError('MALFORMED', msg)` in expression position. */
export function malformed(message: string, cause?: unknown): never {
  throw new EnvelopeError('MALFORMED', message, cause === undefined ? undefined : { cause });
}

export function isEnvelopeError(err: unknown): err is EnvelopeError {
  return err instanceof EnvelopeError;
}
