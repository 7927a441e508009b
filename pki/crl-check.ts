/**
 * Checking a certificate against a parsed CRL (crl.ts), the way notation-core-go `revocation/internal/crl` does:
 *
 *  - the CRL is signed by the certificate's issuer, which must be allowed to sign CRLs (a CA; keyUsage, if
 *    present, with cRLSign) — RFC 5280 § 6.3.3 (f)/(g); the CRL issuer name must also equal the CA's subject
 *    (§ 6.3.3 (b)), which notation-core-go leaves out;
 *  - nextUpdate MUST be set and not passed (stale CRL → unknown); thisUpdate in the future is also refused;
 *  - critical CRL extensions other than issuingDistributionPoint (and deltaCRLIndicator on a delta) are refused
 *    (§ 5.2), as are critical entry extensions other than invalidityDate (§ 5.3);
 *  - a serial listed with any reason is revoked, except certificateHold / removeFromCRL, where the most recent of
 *    those entries decides (hold → revoked, remove → good); an entry whose invalidityDate is after the signing
 *    time does not apply (§ 5.3.2).
 */
import type { Certificate } from './certificate.ts';
import { CRL_REASONS, CrlParseError, parseCrl } from './crl.ts';
import type { Crl, CrlErrorCode, CrlReason, RevokedEntry } from './crl.ts';
import { KU } from './extensions.ts';
import { bytesEqual, goQuote } from './format.ts';
import { verifySignature } from './signature.ts';

const OID_DELTA_INDICATOR = '2.5.29.27';
const OID_IDP = '2.5.29.28';
const OID_INVALIDITY = '2.5.29.24';

export type CrlCheck = { readonly ok: true } | { readonly ok: false; readonly code: CrlErrorCode; readonly message: string };

/** Signature, issuer, freshness and critical-extension checks for a CRL issued by `issuer` (see file comment). */
export function verifyCrl(crl: Crl, issuer: Certificate, options: { readonly now: Date; readonly delta?: boolean }): CrlCheck {
  const bad = (code: CrlErrorCode, message: string): CrlCheck => ({ ok: false, code, message });
  const who = goQuote(issuer.subject.string);
  if (!bytesEqual(crl.issuer.der, issuer.subject.der)) return bad('crl-issuer-mismatch', `CRL issuer ${goQuote(crl.issuer.string)} is not CA ${who}`);
  const bc = issuer.basicConstraints;
  const ku = issuer.keyUsage?.bits ?? 0;
  if ((issuer.version === 3 && bc === null) || (bc !== null && !bc.ca) || (ku !== 0 && (ku & KU.cRLSign) === 0)) {
    return bad('crl-signature', `CRL is not signed by CA ${who}: x509: invalid signature: parent certificate cannot sign this kind of certificate`);
  }
  const sig = verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, issuer.publicKey);
  if (sig) return bad('crl-signature', `CRL is not signed by CA ${who}: ${sig.message}`);
  if (crl.nextUpdate === null) return bad('crl-no-next-update', 'CRL NextUpdate is not set');
  if (options.now.getTime() > crl.nextUpdate.getTime()) {
    return bad('crl-expired', `expired CRL. Current time ${options.now.toISOString()} is after CRL NextUpdate ${crl.nextUpdate.toISOString()}`);
  }
  if (options.now.getTime() < crl.thisUpdate.getTime()) {
    return bad('crl-not-yet-valid', `CRL is not yet valid. Current time ${options.now.toISOString()} is before CRL ThisUpdate ${crl.thisUpdate.toISOString()}`);
  }
  if (options.delta === true && crl.deltaOf === null) return bad('crl-not-delta', 'delta CRL has no delta CRL indicator');
  for (const ext of crl.extensions) {
    const allowed = ext.oid === OID_IDP || (options.delta === true && ext.oid === OID_DELTA_INDICATOR);
    if (ext.critical && !allowed) return bad('crl-unsupported-critical-extension', `unsupported critical extension found in CRL: ${ext.oid}`);
  }
  return { ok: true };
}

export type RevocationStatus =
  | { readonly status: 'revoked'; readonly revokedAt: Date; readonly reason: CrlReason | null; readonly invalidityDate: Date | null }
  | { readonly status: 'good' }
  | { readonly status: 'unknown'; readonly code: CrlErrorCode; readonly message: string };

/** Looks `serial` up in an already verified base CRL (and optional verified delta CRL). */
export function lookupSerial(crl: Crl, serial: bigint, options: { readonly signingTime?: Date; readonly delta?: Crl } = {}): RevocationStatus {
  const key = serial.toString();
  const candidates = [...(crl.entries.get(key) ?? []), ...(options.delta?.entries.get(key) ?? [])];
  let latestTemporary: RevokedEntry | null = null;
  for (const entry of candidates) {
    const critical = entry.extensions.find((e) => e.critical && e.oid !== OID_INVALIDITY);
    if (critical) return { status: 'unknown', code: 'crl-unsupported-critical-extension', message: `unsupported critical extension found in CRL: ${critical.oid}` };
    if (options.signingTime && entry.invalidityDate && options.signingTime < entry.invalidityDate) continue;
    if (entry.reasonCode === 6 || entry.reasonCode === 8) {
      if (latestTemporary === null || latestTemporary.revocationDate < entry.revocationDate) latestTemporary = entry;
      continue;
    }
    return { status: 'revoked', revokedAt: entry.revocationDate, reason: reasonName(entry.reasonCode), invalidityDate: entry.invalidityDate };
  }
  if (latestTemporary?.reasonCode === 6) {
    return { status: 'revoked', revokedAt: latestTemporary.revocationDate, reason: 'certificateHold', invalidityDate: latestTemporary.invalidityDate };
  }
  return { status: 'good' };
}

function reasonName(code: number | null): CrlReason | null {
  return code === null ? null : (CRL_REASONS[code] ?? null);
}

/**
 * One-call check of `cert` against a CRL from its issuer: parse, verify (`now`), look up. Any failure to establish
 * the status yields 'unknown' with the reason, as notation reports it.
 */
export function checkCertificateAgainstCrl(
  cert: Certificate,
  issuer: Certificate,
  crlData: Uint8Array | string,
  options: { readonly now: Date; readonly signingTime?: Date; readonly deltaCrl?: Uint8Array | string },
): RevocationStatus {
  let base: Crl;
  let delta: Crl | undefined;
  try {
    base = parseCrl(crlData);
    delta = options.deltaCrl === undefined ? undefined : parseCrl(options.deltaCrl);
  } catch (err) {
    if (err instanceof CrlParseError) return { status: 'unknown', code: err.code, message: err.message };
    throw err;
  }
  const checked = verifyCrl(base, issuer, { now: options.now });
  if (!checked.ok) return { status: 'unknown', code: checked.code, message: checked.message };
  if (delta) {
    const d = verifyCrl(delta, issuer, { now: options.now, delta: true });
    if (!d.ok) return { status: 'unknown', code: d.code, message: `delta CRL: ${d.message}` };
  }
  return lookupSerial(base, cert.serialNumber, { ...(options.signingTime ? { signingTime: options.signingTime } : {}), ...(delta ? { delta } : {}) });
}
