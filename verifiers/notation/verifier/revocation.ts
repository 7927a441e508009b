/**
 * Revocation (trust-store-trust-policy.md § "Signature Verification" step 7, § "Certificate Revocation
 * Evaluation"; notation-go `verifyRevocation`): every certificate of the signing chain is checked; a revoked one
 * fails the check, an undeterminable status makes it inconclusive ("revocation unavailable"). Either is then
 * enforced or logged per the statement; `skip` (only revocation may be skipped) never gets here.
 */
import { failed, inconclusive, PASSED, type CheckOutcome } from './check-outcome.ts';
import type { IntegrityMaterial } from './integrity.ts';
import type { RevocationChecker } from './revocation-checker.ts';

export async function checkRevocation(material: IntegrityMaterial, checker: RevocationChecker, now: Date): Promise<CheckOutcome> {
  const signer = material.envelope.signerInfo;
  const signingTime = signer.signingScheme === 'notary.x509.signingAuthority' ? signer.authenticSigningTime : undefined;
  let status;
  try {
    status = await checker.checkChain(material.chain, signingTime === undefined ? { now } : { now, signingTime });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return inconclusive('revocation_inconclusive', `revocation status unknown: ${detail}`, `unable to check revocation status, err: ${detail}`);
  }
  if (status.result === 'ok') return PASSED;
  const who = JSON.stringify(status.subject);
  if (status.result === 'revoked') {
    return failed('revoked', `certificate ${who} is revoked`, `signing certificate with subject ${who} is revoked: ${status.message}`);
  }
  return inconclusive('revocation_inconclusive', `revocation status of certificate ${who} is unknown: ${status.message}`, `signing certificate with subject ${who} revocation status is unknown: ${status.message}`);
}
