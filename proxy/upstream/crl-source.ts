/**
 * CRL fetching for the revocation check (Notary Project signature-specification.md § "Certificate Revocation
 * Evaluation"): HTTP(S) only, bounded in size and time, cached per URL, one fetch in flight per URL. The URLs
 * come from certificates that already chained to the trust store (revocation runs after authenticity), so
 * they are the trusted CA's own distribution points, not attacker input.
 *
 * Freshness is the verifier's business (it checks thisUpdate/nextUpdate against its clock); this cache only
 * avoids refetching the same list for every pull. A failure is remembered briefly so a dead CRL server does not
 * add its timeout to every decision, and is reported as a reason (the check is then "inconclusive").
 */
import { LRUCache } from 'lru-cache';
import { Agent, type Dispatcher } from 'undici';
import type { CrlSource } from '../../policy/discovery/fetcher.ts';
import { readCapped } from './body.ts';

export interface CrlSourceOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** How long a fetched CRL is reused before it is fetched again. */
  readonly cacheMs: number;
  /** How long a failed fetch is remembered. */
  readonly failureCacheMs: number;
}

export const DEFAULT_CRL_OPTIONS: CrlSourceOptions = { timeoutMs: 5_000, maxBytes: 16 * 1024 * 1024, cacheMs: 10 * 60_000, failureCacheMs: 30_000 };

type Fetched = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string };

export class HttpCrlSource implements CrlSource {
  readonly #opts: CrlSourceOptions;
  readonly #dispatcher: Dispatcher;
  readonly #cache = new LRUCache<string, Fetched>({ max: 1024 });
  readonly #inflight = new Map<string, Promise<Fetched>>();
  /** Number of HTTP fetches made (for tests and metrics). */
  fetches = 0;

  constructor(opts: CrlSourceOptions = DEFAULT_CRL_OPTIONS, dispatcher?: Dispatcher) {
    this.#opts = opts;
    this.#dispatcher = dispatcher ?? new Agent({ connect: { timeout: opts.timeoutMs }, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  }

  /** `refresh`: the verifier found the cached list stale (past nextUpdate); download it again. */
  fetchCrl(url: string, options?: { readonly refresh?: boolean }): Promise<Fetched> {
    const cached = options?.refresh ? undefined : this.#cache.get(url);
    if (cached) return Promise.resolve(cached);
    const pending = this.#inflight.get(url);
    if (pending) return pending;
    const p = this.#fetch(url).then((result) => {
      this.#cache.set(url, result, { ttl: result.ok ? this.#opts.cacheMs : this.#opts.failureCacheMs });
      return result;
    }).finally(() => this.#inflight.delete(url));
    this.#inflight.set(url, p);
    return p;
  }

  async #fetch(url: string): Promise<Fetched> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: `CRL URL ${JSON.stringify(url)} is not a URL` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: `CRL URL scheme ${parsed.protocol} is not supported` };
    this.fetches++;
    try {
      const res = await this.#dispatcher.request({
        origin: parsed.origin,
        path: parsed.pathname + parsed.search,
        method: 'GET',
        headers: { 'user-agent': 'pullgate', accept: 'application/pkix-crl, */*' },
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      if (res.statusCode !== 200) {
        res.body.resume();
        return { ok: false, reason: `CRL ${url} answered HTTP ${res.statusCode}` };
      }
      const bytes = await readCapped(res.body, this.#opts.maxBytes);
      if (bytes === undefined) return { ok: false, reason: `CRL ${url} is larger than ${this.#opts.maxBytes} bytes` };
      return { ok: true, bytes };
    } catch (err) {
      return { ok: false, reason: `CRL ${url} unreachable (${(err as Error).message})` };
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
