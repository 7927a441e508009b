/**
 * Revocation status of a certificate chain (trust-store-trust-policy.md § "Certificate Revocation Evaluation"),
 * as an interface: the code-signing chain and the TSA chain are both checked through one. The verifier ships a
 * CRL implementation (crl-revocation.ts); tests and deployments can substitute another (e.g. a stub for a TSA
 * chain whose CRL servers are unreachable offline).
 */
import type { Certificate } from '../../../pki/certificate.ts';

/** The status of one certificate, notation-core-go `result.Result`. */
export type CertificateRevocation =
  | { readonly status: 'ok' }
  /** No OCSP and no CRL information, or a self-signed root: nothing to check (notation: ResultNonRevokable). */
  | { readonly status: 'non-revokable' }
  | { readonly status: 'revoked'; readonly message: string }
  | { readonly status: 'unknown'; readonly message: string };

/** The chain's status, combined as notation-go `revocationFinalResult`: revoked beats unknown beats ok. */
export type ChainRevocation =
  | { readonly result: 'ok' }
  | { readonly result: 'revoked' | 'unknown'; readonly subject: string; readonly message: string };

export interface RevocationCheckOptions {
  readonly now: Date;
  /** The authentic signing time (notary.x509.signingAuthority): a revocation whose invalidity date is later does not apply. */
  readonly signingTime?: Date;
}

export interface RevocationChecker {
  checkChain(chain: readonly Certificate[], options: RevocationCheckOptions): Promise<ChainRevocation>;
}

/** Combines per-certificate results (index-aligned with `chain`), root to leaf, the way notation-go reports them. */
export function combineChainResults(chain: readonly Certificate[], results: readonly CertificateRevocation[]): ChainRevocation {
  let revoked: { subject: string; message: string } | undefined;
  let unknown: { subject: string; message: string } | undefined;
  for (let i = results.length - 1; i >= 0; i--) {
    const r = results[i]!;
    const subject = chain[i]!.subject.string;
    if (r.status === 'revoked') revoked = { subject, message: r.message };
    else if (r.status === 'unknown') unknown = { subject, message: r.message };
  }
  if (revoked) return { result: 'revoked', ...revoked };
  if (unknown) return { result: 'unknown', ...unknown };
  return { result: 'ok' };
}
