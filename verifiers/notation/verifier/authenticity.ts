/**
 * Authenticity (trust-store-trust-policy.md § "Signature Verification" step 4, "validate trust store"): the x5c
 * is a complete chain from a code-signing leaf to a self-signed root that satisfies the certificate profile
 * (signature-specification.md § "Certificate Requirements": basic constraints and path length, key usage, EKU,
 * key sizes — notation-core-go `ValidateCodeSigningCertChain`), and some certificate of it is in the statement's
 * trust stores of the type the signing scheme calls for: `ca` for notary.x509, `signingAuthority` for
 * notary.x509.signingAuthority (notation-go `loadX509TrustStores`, `signature.VerifyAuthenticity`).
 *
 * Validity in time is not checked here for notary.x509: that is the authentic-timestamp step's job (a
 * timestamp may vouch for a certificate that has since expired). For signingAuthority the chain must be valid
 * at the authentic signing time, as notation-core-go checks it.
 *
 * Difference from notation-go, on purpose and as the specification orders it: notation-go checks the chain
 * profile while parsing the envelope, so a profile violation is an integrity failure there (enforced even at
 * `audit`); here it is an authenticity failure, enforced or logged like the rest of authenticity.
 */
import type { TrustPolicyStatement } from '../trust/trust-policy.ts';
import type { TrustStore } from '../trust/trust-store.ts';
import { validateSigningChain } from '../../../pki/chain.ts';
import { chainsToTrustStore } from '../../../pki/trust.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { PASSED, failed, inconclusive, type CheckOutcome } from './check-outcome.ts';
import type { IntegrityMaterial } from './integrity.ts';

export interface AuthenticityInput {
  readonly material: IntegrityMaterial;
  readonly statement: TrustPolicyStatement;
  readonly trustStore: TrustStore;
  readonly certificates: CertificateCache;
  readonly now: Date;
}

export function checkAuthenticity({ material, statement, trustStore, certificates, now }: AuthenticityInput): CheckOutcome {
  const signer = material.envelope.signerInfo;
  const chainCheck = validateSigningChain(material.chain, {
    purpose: 'codeSigning',
    now,
    validAt: signer.signingScheme === 'notary.x509.signingAuthority' ? signer.authenticSigningTime : null,
  });
  if (!chainCheck.ok) return failed('certificate_invalid', `certificate chain invalid: ${chainCheck.message}`, chainCheck.message);

  const type = signer.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
  const refs = statement.trustStores.filter((r) => r.type === type);
  const stores = trustStore.certificates(refs, type);
  if (!stores.ok) return failed('untrusted', `certificate chain not trusted: ${stores.error.message}`, stores.error.message);
  if (stores.certificates.length === 0) {
    return inconclusive('untrusted', `certificate chain not trusted: trust policy "${statement.name}" names no ${type} trust store for a ${signer.signingScheme} signature`, 'no trusted certificates are found to verify authenticity');
  }
  const trusted = chainsToTrustStore(chainCheck.chain, stores.certificates.map((c) => certificates.anchor(c)));
  if (!trusted.ok) {
    const names = refs.map((r) => r.text).join(', ');
    return failed('untrusted', `certificate chain not trusted by ${refs.length > 1 ? 'stores' : 'store'} ${names}`, trusted.message);
  }
  return PASSED;
}
