/**
 * Authentic-timestamp verification of a Notary Project timestamp countersignature
 * (trust-store-trust-policy.md § "Timestamp Countersignature Verification details", steps 2–3; notation-go
 * `verifyTimestamp`): parse the RFC 3161 token, check that its messageImprint is the hash of the envelope's raw
 * signature bytes, verify the CMS signature and the TSA chain up to a trusted TSA root *at genTime*, and apply the
 * timestamping certificate profile to that chain. On success returns genTime ± accuracy and the TSA chain, whose
 * revocation (step 5) and coverage of the signing chain (step 4, `checkTimestampCoversChain`) are separate steps.
 */
import { toCertificates, validateSigningChain } from '../../../pki/chain.ts';
import { LIMITS } from '../../../pki/errors.ts';
import type { CertificateInput } from '../../../pki/chain.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { goQuote, rfc1123z } from '../../../pki/format.ts';
import { tsFail, TimestampParseError } from './errors.ts';
import type { TimestampFailure } from './errors.ts';
import { signingCertificate, verifySignerInfo } from './signer.ts';
import { parseTimestampToken } from './token.ts';
import type { TimestampToken } from './token.ts';
import { buildTsaChain } from './tsa-chain.ts';
import { checkImprint, parseTstInfo } from './tstinfo.ts';
import type { TstInfo } from './tstinfo.ts';

export interface TimestampVerifyOptions {
  /** The bytes that were timestamped: for Notation, the envelope's raw signature value. */
  readonly signature: Uint8Array;
  /** Certificates of the policy's `tsa:` trust store(s) (root CA certificates). */
  readonly trustedRoots: readonly CertificateInput[];
}

export interface AuthenticTimestamp {
  readonly ok: true;
  readonly genTime: Date;
  readonly accuracyMs: number;
  /** genTime − accuracy and genTime + accuracy: the interval the signature is proven to exist in. */
  readonly earliest: Date;
  readonly latest: Date;
  /** Verified TSA chain, leaf (TSA signing certificate) first, ending at the trusted root. */
  readonly tsaChain: readonly Certificate[];
  readonly tstInfo: TstInfo;
}

export type TimestampResult = AuthenticTimestamp | TimestampFailure;

function parseFailure(err: unknown): TimestampFailure {
  if (err instanceof TimestampParseError) return tsFail(err.code, `failed to parse timestamp countersignature: ${err.message}`);
  return tsFail('malformed-token', `failed to parse timestamp countersignature: ${err instanceof Error ? err.message : String(err)}`);
}

/** Verifies a TimeStampToken countersigning `options.signature`. Never throws. */
export function verifyTimestampToken(tokenInput: Uint8Array | TimestampToken, options: TimestampVerifyOptions): TimestampResult {
  let token: TimestampToken;
  let tst: TstInfo;
  try {
    token = tokenInput instanceof Uint8Array ? parseTimestampToken(tokenInput) : tokenInput;
    tst = parseTstInfo(token.content);
  } catch (err) {
    return parseFailure(err);
  }
  const imprint = checkImprint(tst, options.signature);
  if (imprint) return { ...imprint, message: `failed to get timestamp from timestamp countersignature with error: ${imprint.message}` };

  if (options.trustedRoots.length === 0) return tsFail('no-trust-anchors', 'no trusted TSA certificate found in trust store');
  const roots = toCertificates(options.trustedRoots, LIMITS.trustStoreCertificates);
  if (!roots.ok) return tsFail('no-trust-anchors', `failed to load tsa trust store with error: ${roots.message}`);
  const rootCerts = roots.certs;

  if (token.signerInfos.length === 0) return tsFail('no-signer', 'failed to verify the timestamp countersignature with error: signerInfo not found');
  let lastError: TimestampFailure | null = null;
  for (const si of token.signerInfos) {
    const cert = signingCertificate(token, si);
    if ('ok' in cert) {
      lastError = cert;
      continue;
    }
    const chain = buildTsaChain(cert, token.certificates, rootCerts, tst.genTime);
    if (!chain.ok) {
      lastError = chain;
      continue;
    }
    const cms = verifySignerInfo(token, si, cert, chain.chain);
    if (cms) {
      lastError = cms;
      continue;
    }
    // notation-core-go ValidateTimestampingCertChain: profile only; validity was checked at genTime above.
    const profile = validateSigningChain(chain.chain, { purpose: 'timestamping', now: tst.genTime, validAt: null });
    if (!profile.ok) {
      lastError = tsFail('tsa-certificate-invalid', `failed to validate the timestamping certificate chain with error: ${profile.message}`);
      continue;
    }
    return {
      ok: true,
      genTime: tst.genTime,
      accuracyMs: tst.accuracyMs,
      earliest: new Date(tst.genTime.getTime() - tst.accuracyMs),
      latest: new Date(tst.genTime.getTime() + tst.accuracyMs),
      tsaChain: chain.chain,
      tstInfo: tst,
    };
  }
  const err = lastError ?? tsFail('no-signer', 'signerInfo not found');
  return { ...err, message: `failed to verify the timestamp countersignature with error: ${err.message}` };
}

/**
 * Step 4 of trust-store-trust-policy.md § "Timestamp Countersignature Verification details": the whole interval
 * [genTime − accuracy, genTime + accuracy] must lie within the validity period of every certificate of the
 * *signing* chain (tspclient-go `Timestamp.BoundedAfter` / `BoundedBefore`, bounds inclusive). Wording from
 * notation-go `verifyTimestamp`.
 */
export interface TimestampWindow {
  readonly genTime: Date;
  readonly accuracyMs: number;
}

export function checkTimestampCoversChain(ts: TimestampWindow, signingChain: readonly Certificate[]): { readonly ok: true } | TimestampFailure {
  const earliest = ts.genTime.getTime() - ts.accuracyMs;
  const latest = ts.genTime.getTime() + ts.accuracyMs;
  for (const cert of signingChain) {
    if (earliest < cert.notBefore.getTime()) {
      return tsFail('timestamp-outside-validity', `timestamp can be before certificate ${goQuote(cert.subject.string)} validity period, it will be valid from "${rfc1123z(cert.notBefore)}"`);
    }
    if (latest > cert.notAfter.getTime()) {
      return tsFail('timestamp-outside-validity', `timestamp can be after certificate ${goQuote(cert.subject.string)} validity period, it was expired at "${rfc1123z(cert.notAfter)}"`);
    }
  }
  return { ok: true };
}
