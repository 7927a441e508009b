/**
 * Upstream authentication for one registry: anonymous, Basic, and the Bearer token flow
 * (docker/distribution docs/spec/auth/token.md). Tokens are cached per scope until shortly before they expire,
 * concurrent requests for the same scope share one token fetch, and the last challenge is remembered so that
 * later requests carry a token up front instead of paying a 401 round trip each.
 *
 * Credentials go only to this registry's endpoint and to the token realm it names. The realm must be HTTPS
 * unless it is the registry's own origin: a registry cannot talk pullgate into sending a password in clear text.
 */
import { LRUCache } from 'lru-cache';
import type { Dispatcher } from 'undici';
import type { BasicCredential } from './credentials.ts';
import { parseChallenge, type Challenge } from './challenge.ts';
import { readCapped } from './body.ts';
import { CodedError } from '../errors/coded-error.ts';

const MAX_TOKEN_RESPONSE = 64 * 1024;
/** docker/distribution token.md: "If omitted, a default of 60 seconds should be assumed". */
const DEFAULT_TOKEN_TTL_S = 60;
/** Renew this long before expiry, so a token never expires in flight. */
const EXPIRY_SLACK_MS = 10_000;

export class AuthError extends CodedError<'TOKEN_FETCH_FAILED' | 'CHALLENGE_UNSUPPORTED' | 'REALM_INSECURE'> {
  override readonly name = 'AuthError';
}

export class Authenticator {
  readonly #origin: string;
  readonly #credential: BasicCredential | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  #bearer: Extract<Challenge, { scheme: 'bearer' }> | undefined;
  #basic = false;
  readonly #tokens = new LRUCache<string, string>({ max: 4096 });
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(origin: string, credential: BasicCredential | undefined, dispatcher: Dispatcher, timeoutMs: number) {
    this.#origin = origin;
    this.#credential = credential;
    this.#dispatcher = dispatcher;
    this.#timeoutMs = timeoutMs;
  }

  /** The Authorization header to send up front for `scope`, if one is known. */
  cached(scope: string): string | undefined {
    if (this.#basic && this.#credential) return basicHeader(this.#credential);
    const token = this.#tokens.get(scope);
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  /**
   * Called with the `WWW-Authenticate` of a 401. Returns the header to retry with, or undefined when there is
   * nothing more to try (anonymous Basic, unknown scheme).
   */
  async answer(header: string | string[] | undefined, scope: string, sent: string | undefined): Promise<string | undefined> {
    const challenge = parseChallenge(header);
    if (challenge === undefined) throw new AuthError('CHALLENGE_UNSUPPORTED', 'upstream asked for an authentication scheme pullgate does not support');
    if (challenge.scheme === 'basic') {
      if (!this.#credential) return undefined;
      this.#basic = true;
      return basicHeader(this.#credential);
    }
    this.#bearer = challenge;
    // A concurrent request may have fetched a fresh token since this one was sent: use it rather than
    // fetching again (50 concurrent first pulls cost one token fetch, not 50).
    const current = this.#tokens.get(scope);
    if (current !== undefined && `Bearer ${current}` !== sent) return `Bearer ${current}`;
    this.#tokens.delete(scope);
    return `Bearer ${await this.#token(scope)}`;
  }

  /** A token for `scope` if a Bearer challenge was seen before: lets the first request skip the 401. */
  async prefetch(scope: string): Promise<string | undefined> {
    const cached = this.cached(scope);
    if (cached !== undefined || this.#bearer === undefined) return cached;
    return `Bearer ${await this.#token(scope)}`;
  }

  #token(scope: string): Promise<string> {
    const pending = this.#inflight.get(scope);
    if (pending) return pending;
    const p = this.#fetchToken(scope).finally(() => this.#inflight.delete(scope));
    this.#inflight.set(scope, p);
    return p;
  }

  async #fetchToken(scope: string): Promise<string> {
    const challenge = this.#bearer!;
    const realm = new URL(challenge.realm);
    if (challenge.service !== undefined) realm.searchParams.set('service', challenge.service);
    realm.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'pullgate' };
    if (this.#credential) {
      if (realm.protocol !== 'https:' && realm.origin !== this.#origin) {
        throw new AuthError('REALM_INSECURE', `token realm ${realm.origin} is not HTTPS; refusing to send credentials`);
      }
      headers.authorization = basicHeader(this.#credential);
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#dispatcher.request({
        origin: realm.origin,
        path: realm.pathname + realm.search,
        method: 'GET',
        headers,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
    } catch (err) {
      throw new AuthError('TOKEN_FETCH_FAILED', `token endpoint ${realm.origin} unreachable: ${(err as Error).message}`);
    }
    const body = await readCapped(res.body, MAX_TOKEN_RESPONSE);
    if (res.statusCode !== 200 || body === undefined) {
      throw new AuthError('TOKEN_FETCH_FAILED', `token endpoint ${realm.origin} answered ${res.statusCode}`);
    }
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AuthError('TOKEN_FETCH_FAILED', `token endpoint ${realm.origin} returned invalid JSON`);
    }
    const token = typeof doc.token === 'string' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token.length === 0 || /[\r\n]/.test(token)) {
      throw new AuthError('TOKEN_FETCH_FAILED', `token endpoint ${realm.origin} returned no token`);
    }
    const ttlS = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_TTL_S;
    const ttlMs = Math.max(1_000, ttlS * 1000 - EXPIRY_SLACK_MS);
    this.#tokens.set(scope, token, { ttl: ttlMs });
    return token;
  }
}

function basicHeader(c: BasicCredential): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
