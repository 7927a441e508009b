/**
 * Trusted cosign public keys (PEM SPKI, as `cosign generate-key-pair` writes `cosign.pub`) and the signature check
 * cosign applies with each. cosign loads a key with sigstore's `signature.LoadDefaultVerifier` (sigstore/sigstore
 * `pkg/signature/verifier.go`): ECDSA P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512, DER (ASN.1) signatures;
 * RSA → PKCS#1 v1.5 with SHA-256 (PSS with SHA-256 is accepted too, as cosign's `--signing-algorithm rsa-sign-pss-*`
 * keys sign); Ed25519 → pure Ed25519 over the message. Anything else is refused when the rule is loaded, not at
 * pull time.
 */
import { createHash, createPublicKey, constants, type KeyObject, verify } from 'node:crypto';
import { fail } from './errors.ts';

const MAX_PEM = 16 * 1024;
const MIN_RSA_BITS = 2048; // sigstore's algorithm registry has no RSA below 2048
const EC_HASH: Readonly<Record<string, string>> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

export type TrustedKey = {
  /** The rule's name for the key (e.g. Connaisseur's trust-root name), or the fingerprint when unnamed. */
  readonly name: string;
  /** `sha256:<hex>` of the DER SPKI: what a decision reports as "the key that verified". */
  readonly fingerprint: string;
  readonly spki: Buffer;
  readonly key: KeyObject;
  readonly kind: 'ecdsa' | 'rsa' | 'ed25519';
};

export function parsePublicKey(pem: string, name?: string): TrustedKey {
  if (typeof pem !== 'string' || pem.length > MAX_PEM || !pem.includes('-----BEGIN PUBLIC KEY-----')) {
    fail('unsupported_key', `${name ?? 'key'}: not a PEM public key (-----BEGIN PUBLIC KEY-----)`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    fail('unsupported_key', `${name ?? 'key'}: PEM public key does not parse`);
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  const fingerprint = `sha256:${createHash('sha256').update(spki).digest('hex')}`;
  const type = key.asymmetricKeyType;
  let kind: TrustedKey['kind'];
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    if (EC_HASH[curve] === undefined) fail('unsupported_key', `${name ?? fingerprint}: EC curve ${curve} is not P-256/P-384/P-521`);
    kind = 'ecdsa';
  } else if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) fail('unsupported_key', `${name ?? fingerprint}: RSA key of ${bits} bits (minimum ${MIN_RSA_BITS})`);
    kind = 'rsa';
  } else if (type === 'ed25519') {
    kind = 'ed25519';
  } else {
    fail('unsupported_key', `${name ?? fingerprint}: key type ${type ?? 'unknown'} is not ECDSA, RSA or Ed25519`);
  }
  return { name: name ?? fingerprint, fingerprint, spki, key, kind };
}

/** Does `signature` verify over `message` with this key, the way cosign checks it? Never throws. */
export function verifiesWith(k: TrustedKey, message: Buffer, signature: Buffer): boolean {
  try {
    switch (k.kind) {
      case 'ecdsa': {
        const hash = EC_HASH[k.key.asymmetricKeyDetails?.namedCurve ?? ''];
        return hash !== undefined && verify(hash, message, { key: k.key, dsaEncoding: 'der' }, signature);
      }
      case 'rsa':
        return verify('sha256', message, { key: k.key, padding: constants.RSA_PKCS1_PADDING }, signature)
          || verify('sha256', message, { key: k.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature);
      case 'ed25519':
        return verify(null, message, k.key, signature);
    }
  } catch {
    return false; // a malformed signature (bad DER, wrong length) is simply "does not verify"
  }
}
