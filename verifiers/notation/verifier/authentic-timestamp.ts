/**
 * Authentic timestamp (trust-store-trust-policy.md § "Signature Verification" step 6, "Validate Trusted
 * Timestamp", and § "Timestamp Countersignature Verification details"; notation-go `verifyAuthenticTimestamp` /
 * `verifyTimestamp`).
 *
 * notary.x509.signingAuthority: the authentic signing time must lie within every chain certificate's validity.
 *
 * notary.x509: timestamp verification runs when the statement names a `tsa:` store — with `verifyTimestamp:
 * afterCertExpiry` only once some chain certificate has expired. When it does not run, every chain certificate
 * must be valid now. When it runs: the RFC 3161 countersignature must be present; its messageImprint covers the
 * raw signature bytes; its CMS signature and TSA chain verify up to a `tsa` root at genTime with the timestamping
 * profile (verifiers/notation/timestamp); it is bounded after the claimed signing time; [genTime ± accuracy] lies inside
 * every signing certificate's validity; and the TSA chain is not revoked ("always enforced when timestamp
 * verification is triggered": any status but good/non-revokable fails the step).
 *
 * The RFC 3161 verifier (verifiers/notation/timestamp, with its ASN.1 schema library for TSTInfo) is imported
 * when a timestamp is first verified: most trust policies name no `tsa:` store, and every node would otherwise
 * hold it in memory from start-up (issue #16).
 */
import type { TrustPolicyStatement } from '../trust/trust-policy.ts';
import type { TrustStore } from '../trust/trust-store.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { checkValidity } from '../../../pki/chain.ts';
import { rfc1123z } from '../../../pki/format.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { PASSED, failed, inconclusive, isoTime, type CheckOutcome } from './check-outcome.ts';
import type { IntegrityMaterial } from './integrity.ts';
import type { RevocationChecker } from './revocation-checker.ts';

export interface TimestampInput {
  readonly material: IntegrityMaterial;
  readonly statement: TrustPolicyStatement;
  readonly trustStore: TrustStore;
  readonly certificates: CertificateCache;
  readonly now: Date;
  /** Revocation of the TSA chain (purpose timestamping). */
  readonly tsaRevocation: RevocationChecker;
}

const subjectOf = (cert: Certificate): string => JSON.stringify(cert.subject.string);

/** Every chain certificate valid at `now`: the rule when no timestamp is verified. */
function chainValidNow(chain: readonly Certificate[], now: Date, tsaConfigured: boolean): CheckOutcome {
  for (const cert of chain) {
    const problem = checkValidity(cert, now, false);
    if (problem === null) continue;
    if (problem.code === 'expired') {
      const why = tsaConfigured ? '' : ' and the trust policy verifies no timestamp (no tsa: trust store)';
      return failed('certificate_expired', `certificate ${subjectOf(cert)} expired at ${isoTime(cert.notAfter)}${why}`, problem.message);
    }
    return failed('certificate_invalid', `certificate ${subjectOf(cert)} is not valid before ${isoTime(cert.notBefore)}`, problem.message);
  }
  return PASSED;
}

function signingAuthority(chain: readonly Certificate[], at: Date): CheckOutcome {
  for (const cert of chain) {
    if (at < cert.notBefore || at > cert.notAfter) {
      const message = `certificate ${subjectOf(cert)} was not valid when the digital signature was produced at "${rfc1123z(at)}"`;
      return at > cert.notAfter
        ? failed('certificate_expired', `certificate ${subjectOf(cert)} had expired at the authentic signing time ${isoTime(at)}`, message)
        : failed('certificate_invalid', `certificate ${subjectOf(cert)} was not yet valid at the authentic signing time ${isoTime(at)}`, message);
    }
  }
  return PASSED;
}

export async function checkAuthenticTimestamp(input: TimestampInput): Promise<CheckOutcome> {
  const { material, statement, now } = input;
  const signer = material.envelope.signerInfo;
  const chain = material.chain;
  if (signer.signingScheme === 'notary.x509.signingAuthority') return signingAuthority(chain, signer.authenticSigningTime);

  const tsaRefs = statement.trustStores.filter((r) => r.type === 'tsa');
  let verify = tsaRefs.length > 0;
  if (verify && statement.signatureVerification.verifyTimestamp === 'afterCertExpiry') {
    verify = chain.some((c) => now > c.notAfter);
  }
  if (!verify) return chainValidNow(chain, now, tsaRefs.length > 0);

  const token = signer.timestampSignature;
  if (token === undefined || token.length === 0) {
    return failed('timestamp_invalid', 'the signature has no timestamp countersignature, which the trust policy requires', 'no timestamp countersignature was found in the signature envelope');
  }
  const { checkTimestampCoversChain, verifyTimestampToken } = await import('../timestamp/verify.ts');
  const stores = input.trustStore.certificates(tsaRefs, 'tsa');
  const roots = stores.ok ? stores.certificates.map((c) => input.certificates.anchor(c)) : [];
  const ts = verifyTimestampToken(token, { signature: signer.signature, trustedRoots: roots });
  if (!ts.ok) {
    if (!stores.ok && ts.code === 'no-trust-anchors') {
      return failed('timestamp_invalid', `timestamp not verified: ${stores.error.message}`, `failed to load tsa trust store with error: ${stores.error.message}`);
    }
    return failed('timestamp_invalid', `timestamp verification failed: ${ts.message}`, ts.message);
  }
  // tspclient-go Timestamp.BoundedAfter(signingTime): the whole interval after the claimed signing time.
  if (!(ts.earliest > signer.signingTime)) {
    return failed('timestamp_invalid', `timestamp ${isoTime(ts.genTime)} is not after the signing time ${isoTime(signer.signingTime)}`, `timestamp ${isoTime(ts.genTime)} is not bounded after the signing time "${signer.signingTime.toISOString()}"`);
  }
  const covers = checkTimestampCoversChain(ts, chain);
  if (!covers.ok) return failed('timestamp_invalid', `timestamp ${isoTime(ts.genTime)} is outside the signing certificate validity: ${covers.message}`, covers.message);

  let revocation;
  try {
    revocation = await input.tsaRevocation.checkChain(ts.tsaChain, { now });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return inconclusive('revocation_inconclusive', `revocation status of the timestamping chain is unknown: ${detail}`, `failed to check timestamping certificate chain revocation with error: ${detail}`);
  }
  if (revocation.result === 'revoked') {
    const who = JSON.stringify(revocation.subject);
    return failed('timestamp_invalid', `timestamping certificate ${who} is revoked`, `timestamping certificate with subject ${who} is revoked: ${revocation.message}`);
  }
  if (revocation.result === 'unknown') {
    const who = JSON.stringify(revocation.subject);
    return inconclusive('revocation_inconclusive', `revocation status of timestamping certificate ${who} is unknown: ${revocation.message}`, `timestamping certificate with subject ${who} revocation status is unknown: ${revocation.message}`);
  }
  return PASSED;
}
