/**
 * The options of a trust-server client (notary-server.ts), checked once when it is built: the server's origin (https,
 * or plain http for a loopback host only, since credentials and tokens go there), an extra CA bundle, and limits.
 * Anything unusable is `invalid_config`, thrown by the constructor.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { BasicCredential } from './credentials.ts';
import { NotaryServerError } from './notary-errors.ts';

export interface NotaryServerLimits {
  /** Largest metadata file read (default 4 MiB). */
  readonly maxRoleBytes: number;
  /** Whole request, token fetch and body included (default 10 s). */
  readonly timeoutMs: number;
  /** Cached files, at most (default 1000; 0 turns the cache off). */
  readonly cacheEntries: number;
  /** No file is kept longer than this, whatever its max-age (default 300 s; 0 turns the cache off). */
  readonly maxCacheAgeSeconds: number;
}

export interface NotaryServerOptions {
  /** The server's origin: https, or http for a loopback host only. */
  readonly url: URL;
  /** Absolute path of a PEM CA bundle trusted in addition to the public roots. */
  readonly caFile?: string;
  /** Basic credentials for this server (the caller looks up the entry). */
  readonly credential?: BasicCredential;
  readonly limits?: Partial<NotaryServerLimits>;
}

export const NOTARY_SERVER_DEFAULTS: NotaryServerLimits = { maxRoleBytes: 4 << 20, timeoutMs: 10_000, cacheEntries: 1000, maxCacheAgeSeconds: 300 };
/** The cache's bound in bytes, beside its bound in entries. */
export const NOTARY_CACHE_MAX_BYTES = 32 << 20;
const MAX_CA_FILE = 1 << 20;

/** The origin requests go to, from the configured URL. */
export function checkOrigin(url: URL): string {
  if (!(url instanceof URL)) throw new NotaryServerError('invalid_config', 'trust server url must be a URL');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new NotaryServerError('invalid_config', `trust server ${url.origin}: scheme must be https`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new NotaryServerError('invalid_config', `trust server ${url.origin}: give the origin only (no path, query, fragment or user info)`);
  }
  // Credentials and tokens go to this origin: in clear text only where nothing leaves the host.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new NotaryServerError('invalid_config', `trust server ${url.origin}: plain http is allowed for a loopback host only`);
  }
  return url.origin;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(hostname);
}

/** The extra CA bundle's PEM, read once at construction (a bad file fails the config, not the first pull). */
export function readCa(file: string): string {
  if (!isAbsolute(file)) throw new NotaryServerError('invalid_config', `trust server caFile must be an absolute path: ${file}`);
  let pem: string;
  try {
    if (statSync(file).size > MAX_CA_FILE) throw new Error(`larger than ${MAX_CA_FILE} bytes`);
    pem = readFileSync(file, 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error('no PEM certificate in it');
    // Each is parsed now: TLS would skip a damaged one silently and fail every fetch with an unhelpful error.
    for (const block of blocks) new X509Certificate(block);
  } catch (err) {
    throw new NotaryServerError('invalid_config', `trust server caFile ${file}: ${(err as Error).message}`);
  }
  return pem;
}

const LIMIT_RANGES: { readonly [K in keyof NotaryServerLimits]: readonly [number, number] } = {
  maxRoleBytes: [1, 64 << 20],
  timeoutMs: [1, 600_000],
  cacheEntries: [0, 100_000],
  maxCacheAgeSeconds: [0, 86_400],
};

export function checkLimits(given: Partial<NotaryServerLimits> | undefined): NotaryServerLimits {
  const limits: { -readonly [K in keyof NotaryServerLimits]: number } = { ...NOTARY_SERVER_DEFAULTS };
  for (const [name, [min, max]] of Object.entries(LIMIT_RANGES) as [keyof NotaryServerLimits, readonly [number, number]][]) {
    const v = given?.[name] ?? NOTARY_SERVER_DEFAULTS[name];
    limits[name] = v;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new NotaryServerError('invalid_config', `trust server limits.${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return limits;
}
