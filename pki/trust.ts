/**
 * Trust-store primitives (trust-store-trust-policy.md § "Trust Store").
 *
 * `chainsToTrustStore` is notation's authenticity rule (notation-core-go `signature.VerifyAuthenticity`): the
 * signature is authentic when *some* certificate of its chain — leaf, intermediate or root — is byte-for-byte
 * equal to a trust-store certificate. Chain validity itself is the integrity step's job (`validateSigningChain`).
 *
 * `checkTrustAnchor` is notation-go `truststore.GetCertificates`' per-certificate gate: `ca` and
 * `signingAuthority` stores accept CA certificates or self-signed signing certificates; `tsa` stores accept only
 * self-signed (and self-issued) root CA certificates.
 */
import type { Certificate } from './certificate.ts';
import { toCertificates } from './chain.ts';
import type { CertificateInput } from './chain.ts';
import { fail, LIMITS, OK } from './errors.ts';
import type { X509Failure, X509Outcome } from './errors.ts';
import { bytesEqual } from './format.ts';
import { checkSelfSignature, checkSignatureFrom } from './issuance.ts';
import { subjectQ } from './profile.ts';

export type TrustResult =
  | { readonly ok: true; readonly anchor: Certificate; readonly chainIndex: number }
  | (X509Failure & { readonly index?: number });

/** Is some certificate of `chain` one of `trusted`? Trusted certificates are tried in order, like notation. */
export function chainsToTrustStore(chain: readonly CertificateInput[], trusted: readonly CertificateInput[]): TrustResult {
  if (trusted.length === 0) return fail('no-trust-anchors', 'no trusted certificates are found to verify authenticity');
  const certs = toCertificates(chain);
  if (!certs.ok) return certs;
  if (trusted.length > LIMITS.trustStoreCertificates) return fail('too-large', `trust store holds more than ${LIMITS.trustStoreCertificates} certificates`);
  for (const anchor of trusted) {
    const anchorDer = anchor instanceof Uint8Array ? anchor : anchor.der;
    const chainIndex = certs.certs.findIndex((c) => bytesEqual(c.der, anchorDer));
    if (chainIndex >= 0) {
      const parsed = toCertificates([anchor]);
      if (!parsed.ok) return parsed;
      return { ok: true, anchor: parsed.certs[0]!, chainIndex };
    }
  }
  return fail('untrusted', "the signature's certificate chain does not contain any trusted certificate");
}

export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/** Whether `cert` may sit in a trust store of `storeType` (notation-go `ValidateCertificates` / `isRootCACertificate`). */
export function checkTrustAnchor(cert: Certificate, storeType: TrustStoreType): X509Outcome {
  if (cert.basicConstraints?.ca !== true && checkSelfSignature(cert) !== null) {
    return fail('invalid-trust-anchor', `certificate with subject ${subjectQ(cert)} is not a CA certificate or self-signed signing certificate`);
  }
  if (storeType !== 'tsa') return OK;
  const error = checkSignatureFrom(cert, cert);
  if (error !== null) return fail('invalid-trust-anchor', `certificate with subject ${subjectQ(cert)} is not a root CA certificate: ${error}`);
  if (!bytesEqual(cert.subject.der, cert.issuer.der)) {
    return fail('invalid-trust-anchor', `certificate with subject ${subjectQ(cert)} is not a root CA certificate: issuer (${cert.issuer.string}) and subject (${cert.subject.string}) are not the same`);
  }
  return OK;
}
