/**
 * The client for one Notary v1 trust server (Docker Content Trust's notary-server): the bytes of one metadata file of
 * one GUN, `GET <origin>/v2/<gun>/_trust/tuf/<name>.json` (REAL-PEERS § 7). It satisfies the verifier's
 * `NotaryV1MetadataSource` (verifiers/notaryv1/source.ts) by shape; registry/ never imports a verifier (DESIGN,
 * "Layout for many verifiers").
 *
 * - Auth: notary-server answers 401 with the registry's Bearer challenge (`scope="repository:<GUN>:pull"`), so the
 *   registry's Authenticator does the token flow; Basic credentials go only to this server's origin and the realm it
 *   names (HTTPS unless it is this origin). No redirect is followed: notary-server sends none, and following one
 *   could carry a token elsewhere; a 3xx is `bad_status`.
 * - Bounds: the whole request (token, headers, body) has one deadline; the body is capped at `maxRoleBytes`
 *   (Content-Length first, then the stream). notary's own client reads metadata of unknown length up to
 *   `MaxDownloadSize = 100 << 20` and the timestamp up to `MaxTimestampSize = 1 << 20` (theupdateframework/notary
 *   const.go, tuf/builder.go GetConsistentInfo); 4 MiB by default here, since served files are a few KB and a
 *   delegation with thousands of tags stays far below it.
 * - Cache (notary-cache.ts) and one request per (GUN, name) at a time (notary-flight.ts). A 404 is not kept: it
 *   means "no trust data", which a `notary publish` a second later makes wrong, and the deny it causes is cheap.
 */
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { AuthError, Authenticator } from './authenticator.ts';
import { discard, readCapped } from './body.ts';
import { keepSeconds, NotaryRoleCache, parseCacheControl } from './notary-cache.ts';
import { NotaryServerError } from './notary-errors.ts';
import { SingleFlight } from './notary-flight.ts';
import { checkLimits, checkOrigin, NOTARY_CACHE_MAX_BYTES, type NotaryServerLimits, type NotaryServerOptions, readCa } from './notary-options.ts';
import { isVersionedRoot, pullScope, trustPath } from './notary-names.ts';

export { NotaryServerError, type NotaryServerErrorCode } from './notary-errors.ts';
export { NOTARY_CACHE_MAX_BYTES, NOTARY_SERVER_DEFAULTS, type NotaryServerLimits, type NotaryServerOptions } from './notary-options.ts';

/** What the verifier's source returns (verifiers/notaryv1/source.ts MetadataFetch), restated here by shape. */
export type NotaryRoleFetch = { readonly bytes: Uint8Array; readonly maxAgeSeconds?: number } | { readonly notFound: true };

const MAX_ERROR_BODY = 64 * 1024;

export class NotaryServerClient {
  readonly #origin: string;
  readonly #limits: NotaryServerLimits;
  readonly #agent: Agent;
  readonly #auth: Authenticator;
  readonly #cache: NotaryRoleCache;
  readonly #flights = new SingleFlight<NotaryRoleFetch>();
  #closed = false;

  constructor(opts: NotaryServerOptions) {
    this.#origin = checkOrigin(opts.url);
    this.#limits = checkLimits(opts.limits);
    const ca = opts.caFile === undefined ? undefined : readCa(opts.caFile);
    const t = this.#limits.timeoutMs;
    this.#agent = new Agent({
      connections: 8,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: t,
      bodyTimeout: t,
      // `ca` replaces Node's default roots, so the public ones are passed along: the bundle is an addition.
      connect: { timeout: t, ...(ca === undefined ? {} : { ca: [...rootCertificates, ca] }) },
    });
    this.#auth = new Authenticator(this.#origin, opts.credential, withDeadline(this.#agent, t), t);
    const cacheOn = this.#limits.cacheEntries > 0 && this.#limits.maxCacheAgeSeconds > 0;
    this.#cache = new NotaryRoleCache(cacheOn ? this.#limits.cacheEntries : 0, NOTARY_CACHE_MAX_BYTES);
  }

  /** Resolves with the bytes (and the server's remaining max-age) or `{notFound: true}` on a 404; rejects otherwise. */
  async fetchRole(gun: string, name: string, signal?: AbortSignal): Promise<NotaryRoleFetch> {
    const path = trustPath(gun, name);
    if (this.#closed) throw new NotaryServerError('aborted', 'trust-server client is closed');
    if (signal?.aborted) throw new NotaryServerError('aborted', 'trust-server request aborted by the caller');
    const key = `${gun}\n${name}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    return this.#flights.join(key, signal, (flight) => this.#fetch(key, gun, name, path, flight));
  }

  async #fetch(key: string, gun: string, name: string, path: string, flight: AbortSignal): Promise<NotaryRoleFetch> {
    const deadline = AbortSignal.timeout(this.#limits.timeoutMs);
    const signal = AbortSignal.any([flight, deadline]);
    const where = `${this.#origin}${path}`;
    try {
      const res = await this.#get(path, pullScope(gun), signal);
      if (res.statusCode === 404) {
        await drain(res.body);
        return { notFound: true };
      }
      if (res.statusCode !== 200) {
        await drain(res.body);
        const code = res.statusCode === 401 || res.statusCode === 403 ? 'denied' : 'bad_status';
        throw new NotaryServerError(code, `${where} answered HTTP ${res.statusCode}`, res.statusCode);
      }
      const max = this.#limits.maxRoleBytes;
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > max) {
        discard(res.body);
        throw new NotaryServerError('too_large', `${where} is ${declared} bytes, more than the ${max} allowed`);
      }
      const bytes = await readCapped(res.body, max);
      if (bytes === undefined) throw new NotaryServerError('too_large', `${where} is larger than the ${max} bytes allowed`);
      const directives = parseCacheControl(res.headers['cache-control']);
      this.#cache.set(key, bytes, directives.maxAgeSeconds, keepSeconds(directives, isVersionedRoot(name), this.#limits.maxCacheAgeSeconds));
      const out = new Uint8Array(bytes);
      return directives.maxAgeSeconds === undefined ? { bytes: out } : { bytes: out, maxAgeSeconds: directives.maxAgeSeconds };
    } catch (err) {
      throw classify(err, where, deadline, flight, this.#limits.timeoutMs);
    }
  }

  /** One GET, answering one 401 challenge (as UpstreamClient.request does), never following a redirect. */
  async #get(path: string, scope: string, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    let authorization = await untilAborted(this.#auth.prefetch(scope), signal);
    for (let answered = false; ; answered = true) {
      const headers: Record<string, string> = { 'user-agent': 'pullgate', accept: 'application/json, text/plain' };
      if (authorization !== undefined) headers.authorization = authorization;
      const res = await this.#agent.request({ origin: this.#origin, path, method: 'GET', headers, signal });
      if (res.statusCode !== 401 || answered) return res;
      await drain(res.body);
      const retryWith = await untilAborted(this.#auth.answer(res.headers['www-authenticate'], scope, authorization), signal);
      if (retryWith === undefined) throw new NotaryServerError('denied', `${this.#origin}${path} asks for credentials and none are configured`, 401);
      authorization = retryWith;
    }
  }

  /** Aborts what is under way (a token fetch included), forgets the cache, closes the connections. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flights.abortAll();
    this.#cache.clear();
    await this.#agent.destroy();
  }
}

function classify(err: unknown, where: string, deadline: AbortSignal, flight: AbortSignal, timeoutMs: number): NotaryServerError {
  if (err instanceof NotaryServerError) return err;
  if (deadline.aborted) return new NotaryServerError('timeout', `${where}: no complete answer within ${timeoutMs} ms`);
  if (flight.aborted) return new NotaryServerError('aborted', `${where}: aborted`);
  if (err instanceof AuthError) {
    return new NotaryServerError(err.code === 'TOKEN_FETCH_FAILED' ? 'unavailable' : 'denied', `${where}: ${err.message}`);
  }
  return new NotaryServerError('unavailable', `${where} unreachable: ${(err as Error).message}`);
}

/**
 * The pool as the Authenticator sees it: every request it makes (the token fetch) carries the client's deadline, as
 * it takes no signal of its own and undici's timeouts only bound the gaps between chunks. Methods are bound to the
 * Agent itself, whose state is private.
 */
function withDeadline(agent: Agent, ms: number): Dispatcher {
  return new Proxy(agent, {
    get(target, prop) {
      if (prop === 'request') {
        return (opts: Dispatcher.RequestOptions) => target.request({ ...opts, signal: opts.signal ?? AbortSignal.timeout(ms) });
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The deadline (or the caller) also ends the wait for the Authenticator, whatever it is doing. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** Reads a small error body to its end so the connection can be reused; a large one is dropped with its connection. */
async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  if ((await readCapped(body, MAX_ERROR_BODY)) === undefined) return;
}
