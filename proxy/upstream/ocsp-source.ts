/**
 * OCSP requests for the revocation check (RFC 6960 Appendix A.1: HTTP POST, `application/ocsp-request` in,
 * `application/ocsp-response` out), the OCSP sibling of crl-source.ts: HTTP(S) only, bounded in size (notation-core-go
 * reads at most 20 KiB of a response) and time, cached per (URL, request), one request in flight per key. The URLs
 * come from certificates that already chained to the trust store (revocation runs after authenticity).
 *
 * The cache only spares the responder a request per pull; freshness (thisUpdate/nextUpdate) is the verifier's
 * business, and a stale answer is asked for again with `refresh`. A failure is remembered briefly so a dead
 * responder does not add its timeout to every decision (the verifier then falls back to CRLs).
 */
import { LRUCache } from 'lru-cache';
import { Agent, type Dispatcher } from 'undici';
import type { OcspSource } from '../../policy/discovery/fetcher.ts';
import { MAX_OCSP_RESPONSE_BYTES } from '../../policy/x509/ocsp.ts';
import { discard, readCapped } from './body.ts';

export interface OcspSourceOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** How long a response is reused before the responder is asked again. */
  readonly cacheMs: number;
  /** How long a failed request is remembered. */
  readonly failureCacheMs: number;
}

export const DEFAULT_OCSP_OPTIONS: OcspSourceOptions = { timeoutMs: 5_000, maxBytes: MAX_OCSP_RESPONSE_BYTES, cacheMs: 5 * 60_000, failureCacheMs: 30_000 };

/** A DER OCSPRequest for one certificate is ~100 bytes; anything far larger is not ours. */
const MAX_REQUEST_BYTES = 4096;

type Fetched = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string };

export class HttpOcspSource implements OcspSource {
  readonly #opts: OcspSourceOptions;
  readonly #dispatcher: Dispatcher;
  readonly #cache = new LRUCache<string, Fetched>({ max: 4096 });
  readonly #inflight = new Map<string, Promise<Fetched>>();
  /** Number of HTTP requests made (for tests and metrics). */
  fetches = 0;

  constructor(opts: OcspSourceOptions = DEFAULT_OCSP_OPTIONS, dispatcher?: Dispatcher) {
    this.#opts = opts;
    this.#dispatcher = dispatcher ?? new Agent({ connect: { timeout: opts.timeoutMs }, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  }

  fetchOcsp(url: string, request: Uint8Array, options?: { readonly refresh?: boolean }): Promise<Fetched> {
    if (request.byteLength > MAX_REQUEST_BYTES) return Promise.resolve({ ok: false, reason: `OCSP request of ${request.byteLength} bytes is too large` });
    const key = `${url} ${Buffer.from(request.buffer, request.byteOffset, request.byteLength).toString('base64')}`;
    const cached = options?.refresh ? undefined : this.#cache.get(key);
    if (cached) return Promise.resolve(cached);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = this.#fetch(url, request).then((result) => {
      this.#cache.set(key, result, { ttl: result.ok ? this.#opts.cacheMs : this.#opts.failureCacheMs });
      return result;
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #fetch(url: string, request: Uint8Array): Promise<Fetched> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: `OCSP URL ${JSON.stringify(url)} is not a URL` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: `OCSP URL scheme ${parsed.protocol} is not supported` };
    this.fetches++;
    try {
      const res = await this.#dispatcher.request({
        origin: parsed.origin,
        path: (parsed.pathname || '/') + parsed.search,
        method: 'POST',
        headers: { 'user-agent': 'pullgate', 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
        body: Buffer.from(request.buffer, request.byteOffset, request.byteLength),
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      if (res.statusCode !== 200) {
        discard(res.body);
        return { ok: false, reason: `OCSP responder ${url} answered HTTP ${res.statusCode}` };
      }
      const bytes = await readCapped(res.body, this.#opts.maxBytes);
      if (bytes === undefined) return { ok: false, reason: `OCSP response from ${url} is larger than ${this.#opts.maxBytes} bytes` };
      return { ok: true, bytes };
    } catch (err) {
      return { ok: false, reason: `OCSP responder ${url} unreachable (${(err as Error).message})` };
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
