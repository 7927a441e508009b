/**
 * Revocation by CRL (trust-store-trust-policy.md § "CRLs", "CRL Download", "Revocation Checking with CRL",
 * "Revocation Checking with Delta CRLs"; notation-core-go revocation/internal/crl): for every certificate but the
 * root, each HTTP(S) CRL distribution point is tried in order through the CrlSource; the CRL must be signed by
 * the certificate's issuer (the next certificate of the chain) and fresh; a FreshestCRL pointer brings in the
 * delta CRL, whose number must be above the base's. Revoked at any distribution point → revoked; no usable CRL
 * → unknown ("revocation unavailable"). A stale CRL is asked for again once with `refresh`.
 *
 * OCSP first (ocsp-revocation.ts), when an OcspSource is given and the certificate names an HTTP(S) OCSP
 * responder: the specification prefers OCSP and falls back to CRLs when OCSP gives no answer, as notation does
 * (RevocationMethodOCSPFallbackCRL). A verified good/revoked answer decides; no answer → the CRL check below if the
 * certificate has distribution points, else "unknown". Without an OcspSource, a certificate with both is checked
 * by CRL and one with only an OCSP responder gets "unknown" — inconclusive, handled per the level.
 */
import type { CrlSource, OcspSource } from '../../../oci/discovery/fetcher.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { CrlParseError, parseCrl } from '../../../pki/crl.ts';
import type { Crl } from '../../../pki/crl.ts';
import { lookupSerial, verifyCrl } from '../../../pki/crl-check.ts';
import { deltaCrlUrl } from '../../../pki/extensions.ts';
import { isSelfSigned } from '../../../pki/issuance.ts';
import { combineChainResults, type CertificateRevocation, type ChainRevocation, type RevocationChecker, type RevocationCheckOptions } from './revocation-checker.ts';
import { isoTime } from './check-outcome.ts';
import { checkByOcsp, ocspUrls } from './ocsp-revocation.ts';

/** Distribution points tried per certificate (a certificate normally lists one or two). */
const MAX_CRL_URLS = 4;

function isStale(crl: Crl, now: Date): boolean {
  return crl.nextUpdate !== null && now.getTime() > crl.nextUpdate.getTime();
}

type Fetched = { readonly ok: true; readonly crl: Crl } | { readonly ok: false; readonly message: string };

export class CrlRevocationChecker implements RevocationChecker {
  readonly #source: CrlSource;
  readonly #ocsp: OcspSource | undefined;
  /** Parsed CRLs by the byte array a (caching) source hands back, so a cached CRL is parsed once. */
  readonly #parsed = new WeakMap<Uint8Array, Crl>();

  /** `ocspSource`: ask OCSP responders first; absent, revocation is checked by CRL only. */
  constructor(source: CrlSource, options: { readonly ocspSource?: OcspSource } = {}) {
    this.#source = source;
    this.#ocsp = options.ocspSource;
  }

  async checkChain(chain: readonly Certificate[], options: RevocationCheckOptions): Promise<ChainRevocation> {
    const results = await Promise.all(chain.map((cert, i) => this.#checkCertificate(cert, chain[i + 1], options)));
    return combineChainResults(chain, results);
  }

  async #fetch(url: string, refresh: boolean): Promise<Fetched> {
    const got = await this.#source.fetchCrl(url, refresh ? { refresh } : undefined);
    if (!got.ok) return { ok: false, message: got.reason };
    let crl = this.#parsed.get(got.bytes);
    if (crl === undefined) {
      try {
        crl = parseCrl(got.bytes);
      } catch (err) {
        if (err instanceof CrlParseError) return { ok: false, message: `CRL ${url}: ${err.message}` };
        throw err;
      }
      this.#parsed.set(got.bytes, crl);
    }
    return { ok: true, crl };
  }

  /**
   * A verified CRL, or why there is none. A stale one (past nextUpdate) is downloaded again once before anything
   * else is checked, as notation-core-go's fetcher does: an old cached list need not even verify any more.
   */
  async #verifiedCrl(url: string, issuer: Certificate, now: Date, delta: boolean): Promise<Fetched> {
    let got = await this.#fetch(url, false);
    if (got.ok && isStale(got.crl, now)) got = await this.#fetch(url, true);
    if (!got.ok) return got;
    if (isStale(got.crl, now)) return { ok: false, message: `CRL ${url}: expired CRL, nextUpdate ${isoTime(got.crl.nextUpdate!)} has passed and no fresher list is published` };
    const checked = verifyCrl(got.crl, issuer, { now, delta });
    return checked.ok ? got : { ok: false, message: `CRL ${url}: ${checked.message}` };
  }

  async #checkCertificate(cert: Certificate, issuer: Certificate | undefined, options: RevocationCheckOptions): Promise<CertificateRevocation> {
    if (issuer === undefined || isSelfSigned(cert).issued) return { status: 'non-revokable' };
    let ocspProblem: string | undefined;
    if (this.#ocsp !== undefined && ocspUrls(cert).length > 0) {
      const answer = await checkByOcsp(cert, issuer, this.#ocsp, options);
      if (answer.status !== 'no-answer') return answer;
      ocspProblem = answer.message;
    }
    const urls = cert.crlDistributionPoints.filter((u) => /^https?:\/\//i.test(u)).slice(0, MAX_CRL_URLS);
    if (urls.length === 0) {
      if (ocspProblem !== undefined) return { status: 'unknown', message: ocspProblem };
      if (cert.ocspServers.length > 0) return { status: 'unknown', message: 'the certificate names only an OCSP responder, and OCSP is not supported' };
      return { status: 'non-revokable' };
    }
    const problems: string[] = ocspProblem === undefined ? [] : [`${ocspProblem}; fallback to CRL`];
    let good = false;
    for (const url of urls) {
      const base = await this.#verifiedCrl(url, issuer, options.now, false);
      if (!base.ok) {
        problems.push(base.message);
        continue;
      }
      let delta: Crl | undefined;
      const deltaUrl = deltaCrlUrl(base.crl);
      if (!deltaUrl.ok) {
        problems.push(`CRL ${url}: ${deltaUrl.message}`);
        continue;
      }
      if (deltaUrl.url !== null) {
        const d = await this.#verifiedCrl(deltaUrl.url, issuer, options.now, true);
        if (!d.ok) {
          problems.push(`delta ${d.message}`);
          continue;
        }
        if (base.crl.crlNumber === null || d.crl.crlNumber === null || d.crl.crlNumber <= base.crl.crlNumber) {
          problems.push(`delta CRL ${deltaUrl.url}: its number is not above the base CRL's`);
          continue;
        }
        delta = d.crl;
      }
      const status = lookupSerial(base.crl, cert.serialNumber, { ...(options.signingTime ? { signingTime: options.signingTime } : {}), ...(delta ? { delta } : {}) });
      if (status.status === 'revoked') {
        const why = status.reason === null ? '' : ` (${status.reason})`;
        return { status: 'revoked', message: `revoked at ${isoTime(status.revokedAt)}${why} according to ${url}` };
      }
      if (status.status === 'unknown') {
        problems.push(`CRL ${url}: ${status.message}`);
        continue;
      }
      good = true;
    }
    return good ? { status: 'ok' } : { status: 'unknown', message: problems.join('; ') };
  }
}
