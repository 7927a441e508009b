/**
 * Revocation of one certificate by OCSP (trust-store-trust-policy.md § "Certificate Revocation Evaluation",
 * signing-and-verification-workflow.md; notation-core-go `revocation/ocsp`): each HTTP(S) responder of the
 * certificate's AIA is asked in order (RFC 6960 § 4.1 request with SHA-256 CertID, no nonce, as notation) and the
 * answer verified by pki/ocsp-check.ts against the issuer (the next certificate of the chain).
 *
 * The first verified answer decides, as in notation: good → ok; revoked → revoked, unless its invalidityDate is
 * after the authentic signing time; `unknown` certStatus → no answer. Anything else (responder down, HTTP error,
 * unsuccessful responseStatus, bad signature, stale answer even after one refresh) is tried on the next responder
 * and, when none answers, reported as "no answer" so the caller can fall back to CRLs (notation's
 * RevocationMethodOCSPFallbackCRL).
 *
 * The OCSP codec (pki/ocsp.ts, with its ASN.1 schema library) is imported on the first check, not at start-up:
 * most policies never reach an OCSP responder and every node would pay its memory (issue #16).
 */
import type { OcspSource } from '../../../oci/discovery/fetcher.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import type { OcspCheck } from '../../../pki/ocsp.ts';
import { OcspError } from '../../../pki/ocsp-errors.ts';
import type { CertificateRevocation, RevocationCheckOptions } from './revocation-checker.ts';
import { isoTime } from './check-outcome.ts';

/** Responders tried per certificate. */
const MAX_OCSP_URLS = 4;

export type OcspAnswer = Extract<CertificateRevocation, { status: 'ok' | 'revoked' }> | { readonly status: 'no-answer'; readonly message: string };

/** The certificate's OCSP responders that can be asked (http/https), in order. */
export function ocspUrls(cert: Certificate): string[] {
  return cert.ocspServers.filter((u) => /^https?:\/\//i.test(u)).slice(0, MAX_OCSP_URLS);
}

/** An answer verified for `cert`, or why there is none ('fetch': the source got no response). */
type Asked = OcspCheck | { readonly ok: false; readonly code: 'fetch'; readonly message: string };

type OcspCodec = typeof import('../../../pki/ocsp.ts');

async function ask(codec: OcspCodec, source: OcspSource, url: string, request: Uint8Array, cert: Certificate, issuer: Certificate, now: Date, refresh: boolean): Promise<Asked> {
  const got = await source.fetchOcsp(url, request, refresh ? { refresh } : undefined);
  if (!got.ok) return { ok: false, code: 'fetch', message: got.reason };
  const checked = codec.checkOcspResponse(got.bytes, cert, issuer, { now });
  return checked.ok ? checked : { ok: false, code: checked.code, message: `OCSP ${url}: ${checked.message}` };
}

export async function checkByOcsp(cert: Certificate, issuer: Certificate, source: OcspSource, options: RevocationCheckOptions): Promise<OcspAnswer> {
  const codec = await import('../../../pki/ocsp.ts');
  let request: Uint8Array;
  try {
    request = codec.buildOcspRequest(cert, issuer);
  } catch (err) {
    if (err instanceof OcspError) return { status: 'no-answer', message: `OCSP request: ${err.message}` };
    throw err;
  }
  const problems: string[] = [];
  for (const url of ocspUrls(cert)) {
    let checked = await ask(codec, source, url, request, cert, issuer, options.now, false);
    // A cached answer past its nextUpdate: ask the responder again once (RFC 6960 § 4.2.2.1).
    if (!checked.ok && (checked.code === 'ocsp-expired' || checked.code === 'ocsp-no-next-update')) {
      checked = await ask(codec, source, url, request, cert, issuer, options.now, true);
    }
    if (!checked.ok) {
      problems.push(checked.message);
      continue;
    }
    const s = checked.status;
    if (s.status === 'good') return { status: 'ok' };
    if (s.status === 'unknown') return { status: 'no-answer', message: `OCSP ${url}: the responder does not know the certificate (status unknown)` };
    if (options.signingTime && s.invalidityDate && options.signingTime < s.invalidityDate) return { status: 'ok' };
    const why = s.reason === null ? '' : ` (${s.reason})`;
    return { status: 'revoked', message: `revoked at ${isoTime(s.revokedAt)}${why} according to OCSP responder ${url}` };
  }
  return { status: 'no-answer', message: problems.length > 0 ? problems.join('; ') : 'no usable OCSP responder URL' };
}
