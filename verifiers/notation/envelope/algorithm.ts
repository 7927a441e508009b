/**
 * Signature algorithms and the key-spec rules that bind them to the signing key.
 *
 * signature-specification.md § "Signature Algorithm Requirements" and
 * § "Algorithm Selection": the signing certificate's public key algorithm and
 * size determine the one permitted algorithm. signature-envelope-jws.md and
 * signature-envelope-cose.md § "Supported alg header values" give the JWS names
 * and COSE identifiers (IANA COSE Algorithms registry).
 */
import type { KeyObject } from 'node:crypto';
import { EnvelopeError } from './errors.ts';
import type { SignatureAlgorithm } from './types.ts';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export type KeySpec =
  { readonly type: 'RSA'; readonly size: 2048 | 3072 | 4096 } | { readonly type: 'EC'; readonly size: 256 | 384 | 521 };

export interface AlgorithmSpec {
  readonly name: SignatureAlgorithm;
  /** COSE `alg` (label 1) value. */
  readonly coseId: number;
  readonly hash: HashName;
  /** Hash output length; also the RSASSA-PSS salt length (RFC 7518 § 3.5). */
  readonly hashLength: number;
  readonly key: KeySpec;
  /** OpenSSL curve name as reported by KeyObject.asymmetricKeyDetails.namedCurve. */
  readonly curve?: string;
}

export const ALGORITHMS: Readonly<Record<SignatureAlgorithm, AlgorithmSpec>> = {
  PS256: { name: 'PS256', coseId: -37, hash: 'sha256', hashLength: 32, key: { type: 'RSA', size: 2048 } },
  PS384: { name: 'PS384', coseId: -38, hash: 'sha384', hashLength: 48, key: { type: 'RSA', size: 3072 } },
  PS512: { name: 'PS512', coseId: -39, hash: 'sha512', hashLength: 64, key: { type: 'RSA', size: 4096 } },
  ES256: { name: 'ES256', coseId: -7, hash: 'sha256', hashLength: 32, key: { type: 'EC', size: 256 }, curve: 'prime256v1' },
  ES384: { name: 'ES384', coseId: -35, hash: 'sha384', hashLength: 48, key: { type: 'EC', size: 384 }, curve: 'secp384r1' },
  ES512: { name: 'ES512', coseId: -36, hash: 'sha512', hashLength: 64, key: { type: 'EC', size: 521 }, curve: 'secp521r1' },
};

const BY_JWS_NAME = new Map<unknown, SignatureAlgorithm>(Object.values(ALGORITHMS).map((a) => [a.name, a.name]));
const BY_COSE_ID = new Map<unknown, SignatureAlgorithm>(Object.values(ALGORITHMS).map((a) => [a.coseId, a.name]));
const EC_SIZES = new Map<string, 256 | 384 | 521>([
  ['prime256v1', 256],
  ['secp384r1', 384],
  ['secp521r1', 521],
]);

/** JWS `alg` → algorithm. `none`, HMAC, RS*, EdDSA … are UNSUPPORTED_ALGORITHM. */
export function algorithmFromJws(alg: unknown): SignatureAlgorithm {
  const name = BY_JWS_NAME.get(alg);
  if (name === undefined) throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `unsupported JWS alg ${JSON.stringify(alg)}`);
  return name;
}

/** COSE `alg` (label 1, integer) → algorithm. */
export function algorithmFromCose(alg: unknown): SignatureAlgorithm {
  const name = BY_COSE_ID.get(alg);
  if (name === undefined) throw new EnvelopeError('UNSUPPORTED_ALGORITHM', `unsupported COSE alg ${String(alg)}`);
  return name;
}

/** Key type and size of a public key; only the six Notation key specs are accepted. */
export function keySpecOf(key: KeyObject): KeySpec {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return { type: 'RSA', size: bits };
    throw new EnvelopeError('UNSUPPORTED_KEY', `RSA key size ${String(bits)} bits is not supported`);
  }
  if (key.asymmetricKeyType === 'ec') {
    const size = EC_SIZES.get(details?.namedCurve ?? '');
    if (size !== undefined) return { type: 'EC', size };
    throw new EnvelopeError('UNSUPPORTED_KEY', `EC curve ${String(details?.namedCurve)} is not supported`);
  }
  throw new EnvelopeError('UNSUPPORTED_KEY', `public key type ${String(key.asymmetricKeyType)} is not supported`);
}

/** § "Algorithm Selection": the single algorithm permitted for a key spec. */
export function algorithmForKey(spec: KeySpec): SignatureAlgorithm {
  for (const alg of Object.values(ALGORITHMS)) {
    if (alg.key.type === spec.type && alg.key.size === spec.size) return alg.name;
  }
  /* c8 ignore next */
  throw new EnvelopeError('UNSUPPORTED_KEY', `no algorithm for ${spec.type} ${spec.size}`);
}
