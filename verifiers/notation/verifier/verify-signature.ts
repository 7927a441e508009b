/**
 * One signature through the checks, in notation-go's order (verifier.go `processSignature`, which follows
 * trust-store-trust-policy.md § "Signature Verification"): integrity, authenticity, trusted identity, expiry,
 * authentic timestamp, revocation. Each check's outcome gets the statement's action for it (levels table plus
 * `override`): an `enforce`d failure stops here and the signature does not verify; a `log`ged one is kept as a
 * warning and the next check runs; `skip` (revocation only) does not run the check. A signature verifies when
 * every check completed without an enforced failure.
 */
import type { CheckAction, CheckName, CheckResult, DecisionReason, ImageTarget, SignatureOutcome } from '../../../policy/decision.ts';
import type { FetchedSignature } from '../discovery/signature-manifest.ts';
import type { TrustPolicyStatement } from '../trust/trust-policy.ts';
import type { TrustStore } from '../trust/trust-store.ts';
import { checkAuthenticTimestamp } from './authentic-timestamp.ts';
import { checkAuthenticity } from './authenticity.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { inconclusive, type CheckOutcome } from './check-outcome.ts';
import { checkExpiry } from './expiry.ts';
import { checkIntegrity } from './integrity.ts';
import { checkRevocation } from './revocation.ts';
import type { RevocationChecker } from './revocation-checker.ts';
import { checkTrustedIdentity } from './trusted-identity.ts';

export interface VerificationContext {
  readonly target: ImageTarget;
  readonly statement: TrustPolicyStatement;
  readonly trustStore: TrustStore;
  readonly certificates: CertificateCache;
  /** The verifier's clock, read once per decision. */
  readonly now: Date;
  readonly revocation: { readonly codeSigning: RevocationChecker; readonly timestamping: RevocationChecker };
}

/** The order checks run in; a failure further down the list says more about a signature (verdict ranking). */
export const CHECK_ORDER: readonly CheckName[] = ['integrity', 'authenticity', 'trustedIdentity', 'expiry', 'authenticTimestamp', 'revocation'];

export interface PipelineOutcome extends SignatureOutcome {
  /** Logged failures, in words. */
  readonly warnings: readonly string[];
}

export async function verifySignature(sig: FetchedSignature, ctx: VerificationContext): Promise<PipelineOutcome> {
  const actions = ctx.statement.signatureVerification.actions;
  const checks: CheckResult[] = [];
  const warnings: string[] = [];
  let stop: { reason: DecisionReason; message: string } | undefined;
  let signer: string | undefined;

  /** Records one check; false when it was an enforced failure (stop). */
  const run = async (check: CheckName, action: CheckAction, fn: () => CheckOutcome | Promise<CheckOutcome>): Promise<boolean> => {
    if (action === 'skip') {
      checks.push({ check, action, result: 'skipped' });
      return true;
    }
    const outcome = await fn();
    checks.push(outcome.message === undefined ? { check, action, result: outcome.result } : { check, action, result: outcome.result, message: outcome.message });
    if (outcome.result === 'passed') return true;
    const summary = outcome.summary ?? `${check} check ${outcome.result}`;
    if (action === 'enforce') {
      stop = { reason: outcome.reason ?? 'verification_error', message: summary };
      return false;
    }
    warnings.push(`${check} failure logged (level ${ctx.statement.signatureVerification.level}): ${summary}`);
    return true;
  };
  const done = (): PipelineOutcome => ({
    manifest: sig.manifest,
    envelopeMediaType: sig.envelopeMediaType,
    signer,
    verified: stop === undefined,
    checks,
    ...(stop === undefined ? {} : { reason: stop.reason, message: stop.message }),
    warnings,
  });

  const integrity = checkIntegrity(sig.envelope, sig.envelopeMediaType, ctx.target, ctx.certificates);
  // Integrity cannot be logged or skipped (LEVEL_ACTIONS; `override` refuses it): without it nothing else means anything.
  await run('integrity', 'enforce', () => integrity.outcome);
  const material = integrity.material;
  if (stop !== undefined || material === undefined) return done();
  signer = material.chain[0]?.subject.string;

  const input = { material, statement: ctx.statement, trustStore: ctx.trustStore, certificates: ctx.certificates, now: ctx.now };
  if (!(await run('authenticity', actions.authenticity, () => checkAuthenticity(input)))) return done();
  if (!(await run('trustedIdentity', actions.authenticity, () => checkTrustedIdentity(material, ctx.statement)))) return done();
  if (!(await run('expiry', actions.expiry, () => checkExpiry(material, ctx.now)))) return done();
  if (!(await run('authenticTimestamp', actions.authenticTimestamp, () => checkAuthenticTimestamp({ ...input, tsaRevocation: ctx.revocation.timestamping })))) return done();
  // The CRL and OCSP URLs come from the signer's certificates. When the chain did not verify to the trust store
  // (a failure `audit` or an `override` only logs), those URLs are the sender's choice: fetching them would let
  // anyone who can push a signature make every node send requests wherever they like (blind SSRF). Revocation of
  // an unauthenticated chain means nothing anyway, so it is inconclusive without a request. A chain that names no
  // URL still runs the check, which then needs no network ("non-revokable", as notation-go reports it).
  const authentic = checks.find((c) => c.check === 'authenticity')?.result === 'passed';
  const namesUrls = material.chain.some((c) => c.crlDistributionPoints.length > 0 || c.ocspServers.length > 0);
  await run('revocation', actions.revocation, () => (authentic || !namesUrls
    ? checkRevocation(material, ctx.revocation.codeSigning, ctx.now)
    : inconclusive('revocation_inconclusive', 'revocation not checked: the certificate chain is not trusted',
      'revocation was not checked because the certificate chain did not verify against the trust store (no request is made to URLs an untrusted certificate names)')));
  return done();
}
