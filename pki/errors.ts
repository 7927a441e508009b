/**
 * Closed error vocabulary of the X.509 primitives. Parsing throws `X509ParseError`; validation never throws and
 * returns an `X509Outcome`. Messages follow notation-core-go / notation-go wording where one exists, so that a
 * denial reads the same as `notation verify` would print it.
 */

import { CodedError } from '../errors/coded-error.ts';

export type X509ErrorCode =
  // input handling
  | 'malformed' // not a DER certificate / PEM block / CRL notation's parser would accept
  | 'too-large' // an input bound was exceeded (DER size, certificate count, chain length)
  // chain structure (signature-specification.md § "Certificate Requirements", "Other requirements")
  | 'empty-chain'
  | 'invalid-self-signed' // single-certificate chain whose self-signature or self-issuance fails
  | 'leaf-self-signed'
  | 'intermediate-self-signed'
  | 'root-not-self-signed'
  | 'not-issued-by' // cert[i] is not signed by / not issued by cert[i+1]
  // time (RFC 5280 § 4.1.2.5)
  | 'not-yet-valid'
  | 'expired'
  // profile (signature-specification.md § "Root and Intermediate CA Certificates", "Leaf Certificates")
  | 'basic-constraints'
  | 'path-length'
  | 'key-usage'
  | 'extended-key-usage'
  | 'key-size'
  | 'unsupported-key'
  | 'unhandled-critical-extension' // RFC 5280 § 4.2
  // trust (trust-store-trust-policy.md § "Trust Store")
  | 'untrusted'
  | 'no-trust-anchors'
  | 'invalid-trust-anchor';

export type X509Failure = { readonly ok: false; readonly code: X509ErrorCode; readonly message: string };

export type X509Outcome = { readonly ok: true } | X509Failure;

export class X509ParseError extends CodedError<X509ErrorCode> {
  override readonly name = 'X509ParseError';
}

export function fail(code: X509ErrorCode, message: string): X509Failure {
  return { ok: false, code, message };
}

export const OK: X509Outcome = Object.freeze({ ok: true });

/** Input bounds shared by the parsers. */
export const LIMITS = {
  /** One DER certificate. Real certificates are 1–3 KiB; 64 KiB leaves room for long SAN lists. */
  certificateBytes: 64 * 1024,
  /** A PEM/DER bundle handed to `parseCertificates`. */
  bundleBytes: 1024 * 1024,
  bundleCertificates: 100,
  /** Certificates in a signing chain (leaf → root). */
  chainLength: 10,
  /** Certificates across the trust stores one policy statement names. */
  trustStoreCertificates: 1000,
} as const;
