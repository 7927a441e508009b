/**
 * CRL fetching for the revocation check (Notary Project signature-specification.md § "Certificate Revocation
 * Evaluation"): a GET per distribution point, cached per URL, through the HTTP rules shared with OCSP
 * (revocation-http.ts).
 */
import type { Dispatcher } from 'undici';
import type { CrlSource } from '../oci/discovery/fetcher.ts';
import { RevocationHttp, type Fetched, type RevocationHttpOptions } from './revocation-http.ts';

export type CrlSourceOptions = RevocationHttpOptions;

export const DEFAULT_CRL_OPTIONS: CrlSourceOptions = { timeoutMs: 5_000, maxBytes: 16 * 1024 * 1024, cacheMs: 10 * 60_000, failureCacheMs: 30_000 };

const GET_CRL = { method: 'GET', headers: { accept: 'application/pkix-crl, */*' } } as const;

export class HttpCrlSource implements CrlSource {
  readonly #http: RevocationHttp;

  constructor(opts: CrlSourceOptions = DEFAULT_CRL_OPTIONS, dispatcher?: Dispatcher) {
    this.#http = new RevocationHttp(opts, { name: 'CRL', server: 'CRL', response: 'CRL' }, 1024, dispatcher);
  }

  /** Number of HTTP fetches made (for tests and metrics). */
  get fetches(): number {
    return this.#http.fetches;
  }

  /** `refresh`: the verifier found the cached list stale (past nextUpdate); download it again. */
  fetchCrl(url: string, options?: { readonly refresh?: boolean }): Promise<Fetched> {
    return this.#http.get(url, url, GET_CRL, options?.refresh === true);
  }

  close(): Promise<void> {
    return this.#http.close();
  }
}
