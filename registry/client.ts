/**
 * The upstream client for one registry, on undici: a pooled Agent (keep-alive connections to the endpoint, the
 * token realm and storage redirect targets), timeouts on connect, headers and body stalls, the auth flow, and
 * redirects that never carry `Authorization` to another origin (blob storage redirects point at S3/GCS/CDNs
 * that must not see registry credentials).
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, type Dispatcher } from 'undici';
import type { RegistryConfig, UpstreamLimits } from '../config/types.ts';
import { Authenticator } from './authenticator.ts';
import type { BasicCredential } from './credentials.ts';
import { credentialScope, scopeRepository, type CredentialScope } from './credential-scope.ts';
import { BlobSplicer } from './splice/blob-splicer.ts';
import { BLOB_RESPONSE_HEADERS } from './headers.ts';

export type UpstreamKind = 'manifest' | 'blob' | 'referrers' | 'token' | 'ping';

export interface UpstreamObserver {
  (registry: string, kind: UpstreamKind, status: number | 'error'): void;
}

export interface UpstreamRequest {
  readonly method: 'GET' | 'HEAD';
  /** Path + query on the registry endpoint, e.g. `/v2/library/nginx/manifests/latest`. */
  readonly path: string;
  readonly headers: Record<string, string>;
  /** Token scope, e.g. `repository:library/nginx:pull`. */
  readonly scope: string;
  readonly kind: UpstreamKind;
  /** `return`: hand a 3xx back to the caller (blob relay). `follow`: follow up to MAX_REDIRECTS. */
  readonly redirects: 'follow' | 'return';
  readonly signal?: AbortSignal;
}

export interface UpstreamResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];
}

const MAX_REDIRECTS = 5;

export class UpstreamClient {
  readonly registry: RegistryConfig;
  readonly #agent: Agent;
  readonly #auth: Authenticator;
  /** Anonymous, for repositories outside `credentialedRepositories` (registry/credential-scope.ts). */
  readonly #anonymous: Authenticator | undefined;
  readonly #credentialed: CredentialScope;
  readonly #limits: UpstreamLimits;
  readonly #observe: UpstreamObserver;
  /** The zero-copy blob path, for plain-HTTP endpoints only (registry/splice). */
  readonly splicer: BlobSplicer | undefined;

  constructor(registry: RegistryConfig, limits: UpstreamLimits, credential: BasicCredential | undefined, observe: UpstreamObserver) {
    this.registry = registry;
    this.#limits = limits;
    this.#observe = observe;
    const ca = registry.caFile === undefined ? undefined : readFileSync(registry.caFile, 'utf8');
    this.#agent = new Agent({
      connections: limits.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: limits.headersTimeoutMs,
      bodyTimeout: limits.bodyTimeoutMs,
      connect: { timeout: limits.connectTimeoutMs, ...(ca === undefined ? {} : { ca }) },
    });
    this.#auth = new Authenticator(registry.endpoint.origin, credential, this.#agent, limits.headersTimeoutMs);
    this.#credentialed = credentialScope(registry.credentialedRepositories);
    this.#anonymous = credential !== undefined && registry.credentialedRepositories !== undefined
      ? new Authenticator(registry.endpoint.origin, undefined, this.#agent, limits.headersTimeoutMs)
      : undefined;
    this.splicer = registry.endpoint.protocol === 'http:'
      ? new BlobSplicer(registry.endpoint, { ...limits, maxIdle: 16 }, BLOB_RESPONSE_HEADERS)
      : undefined;
  }

  /** The limits this client was built with (config `upstream`). */
  get limits(): UpstreamLimits {
    return this.#limits;
  }

  /** The Authorization header this client would send up front for `scope` (a cached token or Basic). */
  authorization(scope: string): Promise<string | undefined> {
    return this.#authFor(scope).prefetch(scope);
  }

  /**
   * The credentialed authenticator only for scopes naming a repository the credentials may reach; anything else
   * (another repository, a scope that names none) goes anonymous when a list is configured.
   */
  #authFor(scope: string): Authenticator {
    if (this.#anonymous === undefined) return this.#auth;
    const repository = scopeRepository(scope);
    return repository !== undefined && this.#credentialed(repository) ? this.#auth : this.#anonymous;
  }

  observe(kind: UpstreamKind, status: number | 'error'): void {
    this.#observe(this.registry.host, kind, status);
  }

  /** The dispatcher, for callers that stream a response body straight into a socket. */
  get dispatcher(): Dispatcher {
    return this.#agent;
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    let origin = this.registry.endpoint.origin;
    let path = req.path;
    const auth = this.#authFor(req.scope);
    let authorization = await auth.prefetch(req.scope);
    let answeredChallenge = false;
    for (let hop = 0; ; hop++) {
      const res = await this.#send(origin, path, req, authorization);
      if (res.statusCode === 401 && !answeredChallenge && origin === this.registry.endpoint.origin) {
        answeredChallenge = true;
        res.body.resume();
        const retryWith = await auth.answer(res.headers['www-authenticate'], req.scope, authorization);
        // Nothing to answer with (Basic challenge, no credentials): the 401 is the answer; its body is drained.
        if (retryWith === undefined) return res;
        authorization = retryWith;
        hop--;
        continue;
      }
      const location = res.headers.location;
      if (res.statusCode < 300 || res.statusCode >= 400 || typeof location !== 'string' || req.redirects === 'return') return res;
      if (hop >= MAX_REDIRECTS) {
        res.body.resume();
        throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      }
      res.body.resume();
      const next = new URL(location, origin + path);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new Error(`redirect to unsupported scheme ${next.protocol}`);
      // Credentials belong to the registry's origin; a storage redirect elsewhere goes anonymous.
      if (next.origin !== this.registry.endpoint.origin) authorization = undefined;
      origin = next.origin;
      path = next.pathname + next.search;
    }
  }

  async #send(origin: string, path: string, req: UpstreamRequest, authorization: string | undefined): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { 'user-agent': 'pullgate', ...req.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    try {
      const res = await this.#agent.request({
        origin,
        path,
        method: req.method,
        headers,
        ...(req.signal ? { signal: req.signal } : {}),
        // undici closes the connection after every HEAD unless told otherwise (undici#258: servers that send a
        // body anyway). Registries answer HEAD properly, and tags are resolved with a HEAD per pull: a new TCP
        // connection each time would cost more than the resolve itself. A stray body would make the next
        // response on that connection unparsable: an error, so a deny, never a wrong answer.
        ...(req.method === 'HEAD' ? { reset: false } : {}),
        highWaterMark: 256 * 1024,
      });
      this.#observe(this.registry.host, req.kind, res.statusCode);
      return res;
    } catch (err) {
      this.#observe(this.registry.host, req.kind, 'error');
      throw err;
    }
  }

  async close(): Promise<void> {
    this.splicer?.close();
    await this.#agent.close();
  }
}
