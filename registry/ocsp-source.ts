/**
 * OCSP requests for the revocation check (RFC 6960 Appendix A.1: HTTP POST, `application/ocsp-request` in,
 * `application/ocsp-response` out), cached per (URL, request) through the HTTP rules shared with CRLs (revocation-http.ts),
 * bounded to 20 KiB per response as notation-core-go reads. A failure makes the verifier fall back to CRLs.
 */
import type { Dispatcher } from 'undici';
import type { OcspSource } from '../oci/discovery/fetcher.ts';
import { MAX_OCSP_RESPONSE_BYTES } from '../pki/ocsp-errors.ts';
import { RevocationHttp, type Fetched, type RevocationHttpOptions } from './revocation-http.ts';

export type OcspSourceOptions = RevocationHttpOptions;

export const DEFAULT_OCSP_OPTIONS: OcspSourceOptions = { timeoutMs: 5_000, maxBytes: MAX_OCSP_RESPONSE_BYTES, cacheMs: 5 * 60_000, failureCacheMs: 30_000 };

/** A DER OCSPRequest for one certificate is ~100 bytes; anything far larger is not ours. */
const MAX_REQUEST_BYTES = 4096;

const OCSP_HEADERS = { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' };

export class HttpOcspSource implements OcspSource {
  readonly #http: RevocationHttp;

  constructor(opts: OcspSourceOptions = DEFAULT_OCSP_OPTIONS, dispatcher?: Dispatcher) {
    this.#http = new RevocationHttp(opts, { name: 'OCSP', server: 'OCSP responder', response: 'OCSP response from' }, 4096, dispatcher);
  }

  /** Number of HTTP requests made (for tests and metrics). */
  get fetches(): number {
    return this.#http.fetches;
  }

  fetchOcsp(url: string, request: Uint8Array, options?: { readonly refresh?: boolean }): Promise<Fetched> {
    if (request.byteLength > MAX_REQUEST_BYTES) return Promise.resolve({ ok: false, reason: `OCSP request of ${request.byteLength} bytes is too large` });
    const body = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
    return this.#http.get(`${url} ${body.toString('base64')}`, url, { method: 'POST', headers: OCSP_HEADERS, body }, options?.refresh === true);
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
