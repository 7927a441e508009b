/**
 * Signature check of a parsed envelope with the leaf certificate's public key.
 *
 * signature-envelope-jws.md / -cose.md § "Supported alg header values": `alg`
 * "MUST be same as that of signature algorithm identified using signing
 * certificate's public key algorithm and size" (algorithm substitution defence),
 * per signature-specification.md § "Algorithm Selection".
 * - RSASSA-PSS: MGF1 with the same hash, salt length = hash length (RFC 7518 § 3.5).
 * - ECDSA: signature is r||s, each ceil(curve bits / 8) bytes (RFC 7518 § 3.4,
 *   RFC 9053 § 2.1).
 * Chain building, certificate validity and trust are not checked here.
 */
import { X509Certificate, constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { ALGORITHMS, algorithmForKey, keySpecOf, type AlgorithmSpec, type KeySpec } from './algorithm.ts';
import { EnvelopeError } from './errors.ts';
import type { SignatureAlgorithm, SignatureEnvelope } from './types.ts';

export interface VerifiedSignature {
  readonly algorithm: SignatureAlgorithm;
  readonly keySpec: KeySpec;
}

/** Public key of the first (signing) certificate. Only DER is accepted, as in Go's x509.ParseCertificate. */
export function leafPublicKey(envelope: SignatureEnvelope): KeyObject {
  const der = envelope.signerInfo.certificateChain[0];
  if (der === undefined || der[0] !== 0x30) {
    throw new EnvelopeError('INVALID_CERTIFICATE', 'signing certificate is not a DER certificate');
  }
  try {
    return new X509Certificate(der).publicKey;
  } catch (err) {
    throw new EnvelopeError('INVALID_CERTIFICATE', 'signing certificate cannot be parsed', { cause: err });
  }
}

/** Raw signature check; false on any mismatch or malformed signature. */
export function verifySignatureBytes(spec: AlgorithmSpec, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (spec.key.type === 'RSA') {
      return cryptoVerify(
        spec.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashLength },
        signature,
      );
    }
    if (signature.length !== 2 * Math.ceil(spec.key.size / 8)) return false;
    return cryptoVerify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * Throws EnvelopeError INVALID_CERTIFICATE | UNSUPPORTED_KEY | ALGORITHM_MISMATCH |
 * SIGNATURE_INVALID; returns the verified algorithm and key spec.
 */
export function verifyEnvelopeSignature(envelope: SignatureEnvelope): VerifiedSignature {
  const key = leafPublicKey(envelope);
  const keySpec = keySpecOf(key);
  const expected = algorithmForKey(keySpec);
  const algorithm = envelope.signerInfo.signatureAlgorithm;
  if (algorithm !== expected) {
    throw new EnvelopeError(
      'ALGORITHM_MISMATCH',
      `envelope alg ${algorithm} does not match the signing key (${keySpec.type} ${keySpec.size} requires ${expected})`,
    );
  }
  if (!verifySignatureBytes(ALGORITHMS[algorithm], key, envelope.signingInput, envelope.signerInfo.signature)) {
    throw new EnvelopeError('SIGNATURE_INVALID', `${algorithm} signature does not verify with the signing certificate's key`);
  }
  return { algorithm, keySpec };
}
