/**
 * Expiry (trust-store-trust-policy.md § "Signature Verification" step 5; notation-go `verifyExpiry`): a signature
 * whose `io.cncf.notary.expiry` signed attribute is not after the verifier's clock has expired.
 */
import { rfc1123z } from '../../../pki/format.ts';
import { PASSED, failed, isoTime, type CheckOutcome } from './check-outcome.ts';
import type { IntegrityMaterial } from './integrity.ts';

export function checkExpiry(material: IntegrityMaterial, now: Date): CheckOutcome {
  const expiry = material.envelope.signerInfo.expiry;
  if (expiry === undefined || now.getTime() < expiry.getTime()) return PASSED;
  return failed('expired', `signature expired at ${isoTime(expiry)}`, `digital signature has expired on "${rfc1123z(expiry)}"`);
}
