/**
 * "Is `child` issued by `parent`?" with Go `crypto/x509` semantics, which notation's chain rules are written in:
 *
 *  - `checkSignatureFrom` = Go `Certificate.CheckSignatureFrom`: the parent must be allowed to sign certificates
 *    (RFC 5280 § 4.2.1.9: a v3 parent needs basicConstraints cA=TRUE; § 4.2.1.3: if keyUsage is present it needs
 *    keyCertSign), and the signature must verify with SHA-1 refused.
 *  - `checkSelfSignature` = Go `Certificate.CheckSignature` over its own TBS: no CA constraints, SHA-1 allowed.
 *  - `isIssuedBy` additionally requires the child's issuer DER to equal the parent's subject DER.
 */
import type { Certificate } from './certificate.ts';
import { KU } from './extensions.ts';
import { bytesEqual } from './format.ts';
import { verifySignature } from './signature.ts';

export const CONSTRAINT_VIOLATION = 'x509: invalid signature: parent certificate cannot sign this kind of certificate';

/**
 * Signature results per (child, parent) object pair. Certificates are immutable, so the result of a check never
 * changes; chain building and chain validation ask the same questions (isSelfSigned, isIssuedBy), and RSA-4096
 * verifications are the dominant cost of timestamp verification.
 */
const memo = new WeakMap<Certificate, Map<Certificate, string | null>>();
/** Memo key for `checkSelfSignature` (SHA-1 allowed, no CA constraints), distinct from `checkSignatureFrom(c, c)`. */
const SELF = Object.freeze({}) as Certificate;

function remember(child: Certificate, parent: Certificate, compute: () => string | null): string | null {
  let byParent = memo.get(child);
  if (!byParent) memo.set(child, (byParent = new Map()));
  if (byParent.has(parent)) return byParent.get(parent)!;
  const result = compute();
  if (byParent.size < 16) byParent.set(parent, result);
  return result;
}

/** Returns null when `parent` validly signed `child`, else a Go-worded reason. */
export function checkSignatureFrom(child: Certificate, parent: Certificate): string | null {
  return remember(child, parent, () => signatureFrom(child, parent));
}

function signatureFrom(child: Certificate, parent: Certificate): string | null {
  const bc = parent.basicConstraints;
  if ((parent.version === 3 && bc === null) || (bc !== null && !bc.ca)) return CONSTRAINT_VIOLATION;
  const ku = parent.keyUsage?.bits ?? 0;
  if (ku !== 0 && (ku & KU.keyCertSign) === 0) return CONSTRAINT_VIOLATION;
  if (parent.publicKey.algorithm === 'unsupported') return 'x509: cannot verify signature: algorithm unimplemented';
  return verifySignature(child.signatureAlgorithm, child.tbs, child.signature, parent.publicKey)?.message ?? null;
}

/** Returns null when the certificate's signature verifies under its own key (Go `CheckSignature`). */
export function checkSelfSignature(cert: Certificate): string | null {
  return remember(cert, SELF, () => verifySignature(cert.signatureAlgorithm, cert.tbs, cert.signature, cert.publicKey, { allowSha1: true })?.message ?? null);
}

export type IssuedBy = { readonly issued: true } | { readonly issued: false; readonly error: string | null };

/** notation-core-go `isIssuedBy`: signature from parent verifies and issuer/subject DER are equal. */
export function isIssuedBy(child: Certificate, parent: Certificate): IssuedBy {
  const error = checkSignatureFrom(child, parent);
  if (error !== null) return { issued: false, error };
  return bytesEqual(parent.subject.der, child.issuer.der) ? { issued: true } : { issued: false, error: null };
}

/** Self-issued and self-signed (RFC 5280 § 3.2 / § 6.1). */
export function isSelfSigned(cert: Certificate): IssuedBy {
  return isIssuedBy(cert, cert);
}
