/**
 * Integrity (trust-store-trust-policy.md § "Signature Verification" step 3; notation-go `verifyIntegrity`):
 * the envelope parses for its media type, its content type is the Notation payload, the `alg` is the one the
 * signing key dictates and the signature verifies over the signing input; the x5c certificates parse. Then the
 * payload's `targetArtifact` must be exactly what is being pulled — digest, size and media type (notation-go
 * `content.Equal`, "content descriptor mismatch"), so a valid signature replayed onto another digest fails here.
 * Integrity is always enforced: the levels table has no `log` for it and policies cannot override it.
 */
import type { ImageTarget } from '../../../policy/decision.ts';
import { EnvelopeError } from '../envelope/errors.ts';
import { parseEnvelope } from '../envelope/envelope.ts';
import { parseTargetArtifact } from '../envelope/payload.ts';
import type { SignatureEnvelope, TargetArtifact } from '../envelope/types.ts';
import { ALGORITHMS, algorithmForKey, keySpecOf } from '../envelope/algorithm.ts';
import { verifySignatureBytes } from '../envelope/verify.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { LIMITS as X509_LIMITS, X509ParseError } from '../../../pki/errors.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { PASSED, failed, type CheckOutcome } from './check-outcome.ts';

/** What the later checks work on, available once integrity passed. */
export interface IntegrityMaterial {
  readonly envelope: SignatureEnvelope;
  /** The x5c chain, parsed, leaf first (not yet validated: that is authenticity). */
  readonly chain: readonly Certificate[];
  readonly payload: TargetArtifact;
}

export type IntegrityResult = { readonly outcome: CheckOutcome; readonly material?: IntegrityMaterial };

function envelopeFailure(err: unknown): CheckOutcome {
  if (err instanceof EnvelopeError) {
    const detail = err.message;
    if (err.code === 'LIMIT_EXCEEDED') return failed('limit_exceeded', `signature envelope exceeds a limit: ${detail}`);
    return failed('signature_invalid', `signature verification failed: ${detail}`, `unable to verify the digital signature, error: ${detail}`);
  }
  throw err;
}

/**
 * verifyEnvelopeSignature's rules (envelope/verify.ts: the key spec dictates the one permitted `alg`, then the
 * signature math) with the signing key of the already parsed — usually cached — leaf, instead of building a new
 * X509Certificate per call: that construction alone cost as much as the RSA verification (bench/verify.ts).
 */
function verifyWithLeaf(envelope: SignatureEnvelope, leaf: Certificate): void {
  const key = leaf.publicKey.key;
  if (key === null) throw new EnvelopeError('UNSUPPORTED_KEY', 'the signing certificate has no usable public key');
  const keySpec = keySpecOf(key);
  const expected = algorithmForKey(keySpec);
  const algorithm = envelope.signerInfo.signatureAlgorithm;
  if (algorithm !== expected) {
    throw new EnvelopeError('ALGORITHM_MISMATCH', `envelope alg ${algorithm} does not match the signing key (${keySpec.type} ${keySpec.size} requires ${expected})`);
  }
  if (!verifySignatureBytes(ALGORITHMS[algorithm], key, envelope.signingInput, envelope.signerInfo.signature)) {
    throw new EnvelopeError('SIGNATURE_INVALID', `${algorithm} signature does not verify with the signing certificate's key`);
  }
}

export function checkIntegrity(bytes: Uint8Array, mediaType: string, target: ImageTarget, certificates: CertificateCache): IntegrityResult {
  let envelope: SignatureEnvelope;
  try {
    envelope = parseEnvelope(bytes, mediaType);
  } catch (err) {
    return { outcome: envelopeFailure(err) };
  }
  const ders = envelope.signerInfo.certificateChain;
  if (ders.length > X509_LIMITS.chainLength) {
    return { outcome: failed('limit_exceeded', `certificate chain has ${ders.length} certificates, more than ${X509_LIMITS.chainLength}`) };
  }
  const chain: Certificate[] = [];
  for (const [i, der] of ders.entries()) {
    try {
      chain.push(certificates.parse(der));
    } catch (err) {
      if (!(err instanceof X509ParseError)) throw err;
      return { outcome: failed('signature_invalid', `signature verification failed: certificate ${i} of the chain cannot be parsed`, err.message) };
    }
  }
  const leaf = chain[0];
  if (leaf === undefined) return { outcome: failed('signature_invalid', 'signature verification failed: the envelope carries no signing certificate') };
  let payload: TargetArtifact;
  try {
    verifyWithLeaf(envelope, leaf);
    payload = parseTargetArtifact(envelope.payload.content);
  } catch (err) {
    return { outcome: envelopeFailure(err) };
  }

  // signing-and-verification-workflow.md step 3.4.4: the signed descriptor must be the artifact being verified.
  const want = target.digest.text;
  if (payload.digest !== want) {
    return { outcome: failed('signature_invalid', `signature verification failed: the signature is for ${payload.digest}, not ${want}`, `content descriptor mismatch: signed digest ${payload.digest}, artifact digest ${want}`) };
  }
  if (payload.size !== target.size || payload.mediaType !== target.mediaType) {
    return {
      outcome: failed(
        'signature_invalid',
        `signature verification failed: the signed descriptor (${payload.mediaType}, ${payload.size} bytes) is not the artifact (${target.mediaType}, ${target.size} bytes)`,
        'content descriptor mismatch',
      ),
    };
  }
  return { outcome: PASSED, material: { envelope, chain, payload } };
}
