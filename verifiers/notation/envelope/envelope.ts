/**
 * parseEnvelope: envelope bytes + the signature manifest layer's media type →
 * typed SignatureEnvelope.
 *
 * signature-specification.md § "Storage" / FAQ: the layer `mediaType`
 * (application/jose+json or application/cose) selects the envelope format.
 * Parsing checks structure and the signed-attribute rules; it does not check
 * the signature (verifyEnvelopeSignature), the certificate chain, the
 * timestamp token, or the payload (parseTargetArtifact, after verification).
 */
import { parseCoseEnvelope } from './cose.ts';
import { EnvelopeError } from './errors.ts';
import { parseJwsEnvelope } from './jws.ts';
import { LIMITS } from './limits.ts';
import { MEDIA_TYPE_COSE, MEDIA_TYPE_JWS, type SignatureEnvelope } from './types.ts';

export function parseEnvelope(bytes: Uint8Array, mediaType: string): SignatureEnvelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError('MALFORMED', 'envelope must be a byte array');
  if (bytes.byteLength > LIMITS.maxEnvelopeBytes) {
    throw new EnvelopeError('LIMIT_EXCEEDED', `envelope is ${bytes.byteLength} bytes, more than ${LIMITS.maxEnvelopeBytes}`);
  }
  switch (mediaType) {
    case MEDIA_TYPE_JWS:
      return parseJwsEnvelope(bytes);
    case MEDIA_TYPE_COSE:
      return parseCoseEnvelope(bytes);
    default:
      throw new EnvelopeError('UNSUPPORTED_MEDIA_TYPE', `unsupported signature envelope media type ${JSON.stringify(mediaType)}`);
  }
}
