/**
 * Trusted identity (trust-store-trust-policy.md § "Signature Verification" step 4, last two items; notation-go
 * `verifyX509TrustedIdentities`): `*` admits any signer that chains to the trust store; otherwise some
 * `x509.subject:` identity of the statement must be a subset of the signing certificate's subject RDNs. Its
 * failure is an authenticity failure, with authenticity's action (notation-go reuses that result).
 */
import type { TrustPolicyStatement } from '../trust/trust-policy.ts';
import { matchTrustedIdentities, type IdentityMatch } from '../trust/trusted-identity.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { PASSED, failed, type CheckOutcome } from './check-outcome.ts';
import type { IntegrityMaterial } from './integrity.ts';

/** Matches per (statement, certificate) object pair: both are immutable, and the match re-reads the subject. */
const memo = new WeakMap<TrustPolicyStatement, WeakMap<Certificate, IdentityMatch>>();

function match(statement: TrustPolicyStatement, leaf: Certificate): IdentityMatch {
  let byLeaf = memo.get(statement);
  if (byLeaf === undefined) memo.set(statement, (byLeaf = new WeakMap()));
  let result = byLeaf.get(leaf);
  if (result === undefined) byLeaf.set(leaf, (result = matchTrustedIdentities(statement, leaf.der)));
  return result;
}

export function checkTrustedIdentity(material: IntegrityMaterial, statement: TrustPolicyStatement): CheckOutcome {
  const leaf = material.chain[0];
  if (leaf === undefined) return failed('identity_not_trusted', 'the signature has no signing certificate');
  const m = match(statement, leaf);
  if (m.ok) return PASSED;
  return failed('identity_not_trusted', `identity ${JSON.stringify(leaf.subject.string)} not in trustedIdentities of trust policy "${statement.name}"`, m.reason);
}
