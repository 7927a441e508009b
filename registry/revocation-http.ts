/**
 * The HTTP side shared by the CRL and OCSP sources: http(s) URLs only, bounded in size and time, answers cached
 * per key (a failure only briefly, so a dead server does not add its timeout to every decision yet is retried
 * soon), one request in flight per key. The URLs come from certificates that already chained to the trust store
 * (revocation runs after authenticity), so they are the trusted CA's own endpoints, not attacker input.
 * Freshness of what comes back is the verifier's business; `refresh` bypasses the cache when it finds an answer
 * stale.
 */
import { BudgetedCache, type CacheBudget } from './cache-budget.ts';
import { Agent, type Dispatcher } from 'undici';
import { discard, readCapped } from './body.ts';

export interface RevocationHttpOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** How long an answer is reused before it is fetched again. */
  readonly cacheMs: number;
  /** How long a failed fetch is remembered. */
  readonly failureCacheMs: number;
  /** The process's shared cache byte budget (`cache.maxBytes`); absent: entries only. */
  readonly budget?: CacheBudget;
}

/** Without a shared budget the byte count is not bounded here (each response is, by maxBytes): as before. */
const UNBOUNDED_BYTES = Number.MAX_SAFE_INTEGER;

export type Fetched = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string };

/** How the messages name things: `CRL` / `CRL` / `CRL`, or `OCSP` / `OCSP responder` / `OCSP response from`. */
export interface RevocationWords {
  readonly name: string;
  readonly server: string;
  readonly response: string;
}

export interface RevocationRequest {
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

export class RevocationHttp {
  readonly #opts: RevocationHttpOptions;
  readonly #words: RevocationWords;
  readonly #dispatcher: Dispatcher;
  readonly #cache: BudgetedCache<string, Fetched>;
  readonly #inflight = new Map<string, Promise<Fetched>>();
  /** Number of HTTP requests made (for tests and metrics). */
  fetches = 0;

  constructor(opts: RevocationHttpOptions, words: RevocationWords, maxEntries: number, dispatcher?: Dispatcher) {
    this.#opts = opts;
    this.#words = words;
    // Entries bound the count; the shared budget (cache.maxBytes, with the verified manifests) bounds the bytes.
    this.#cache = new BudgetedCache<string, Fetched>(opts.budget, { max: maxEntries, maxSize: UNBOUNDED_BYTES, sizeCalculation: (f, key) => key.length + 64 + (f.ok ? f.bytes.length : f.reason.length) });
    this.#dispatcher = dispatcher ?? new Agent({ connect: { timeout: opts.timeoutMs }, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  }

  get(key: string, url: string, request: RevocationRequest, refresh: boolean): Promise<Fetched> {
    const cached = refresh ? undefined : this.#cache.get(key);
    if (cached) return Promise.resolve(cached);
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = this.#fetch(url, request)
      .then((result) => {
        this.#cache.set(key, result, { ttl: result.ok ? this.#opts.cacheMs : this.#opts.failureCacheMs });
        return result;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #fetch(url: string, request: RevocationRequest): Promise<Fetched> {
    const { name, server, response } = this.#words;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, reason: `${name} URL ${JSON.stringify(url)} is not a URL` };
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return { ok: false, reason: `${name} URL scheme ${parsed.protocol} is not supported` };
    this.fetches++;
    try {
      const res = await this.#dispatcher.request({
        origin: parsed.origin,
        path: parsed.pathname + parsed.search,
        method: request.method,
        headers: { 'user-agent': 'pullgate', ...request.headers },
        ...(request.body ? { body: request.body } : {}),
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      if (res.statusCode !== 200) {
        discard(res.body);
        return { ok: false, reason: `${server} ${url} answered HTTP ${res.statusCode}` };
      }
      const bytes = await readCapped(res.body, this.#opts.maxBytes);
      if (bytes === undefined) return { ok: false, reason: `${response} ${url} is larger than ${this.#opts.maxBytes} bytes` };
      return { ok: true, bytes };
    } catch (err) {
      return { ok: false, reason: `${server} ${url} unreachable (${(err as Error).message})` };
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
