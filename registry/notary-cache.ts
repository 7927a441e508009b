/**
 * Trust-server metadata kept between decisions, so a burst of pulls of one image asks the server once.
 *
 * How long (RFC 9111): an answer is kept for `min(max-age, cap)` seconds; without a usable max-age, or with
 * `no-store`/`no-cache` (§ 5.2.2.3, § 5.2.2.5: not to be reused without revalidation, which this cache does not do),
 * it is not kept. `s-maxage` is for shared caches (§ 5.2.2.10) and this one is private to the node. A
 * `<version>.root` may be kept for the cap even without max-age: notary stores each root version once, so the bytes
 * of version N never change (notary-server sends `max-age=2592000` for them; REAL-PEERS § 7). Freshness of what is
 * inside is still the verifier's business (expiry, versions); this only saves round trips.
 *
 * How much: an LRU bounded both by entries and by total bytes.
 */
import { LRUCache } from 'lru-cache';

/** RFC 9111 § 1.2.2: delta-seconds beyond 2^31 are to be taken as 2^31. */
const MAX_DELTA_SECONDS = 2 ** 31;
const MAX_HEADER = 4096;

export type CacheDirectives = { readonly maxAgeSeconds: number | undefined; readonly noStore: boolean };

/**
 * `Cache-Control` → what matters here. A max-age that is malformed or given twice with different values makes the
 * answer stale (§ 4.2.1, § 1.2.2), i.e. no max-age.
 */
export function parseCacheControl(header: string | string[] | undefined): CacheDirectives {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined || text.length > MAX_HEADER) return { maxAgeSeconds: undefined, noStore: text !== undefined };
  let maxAge: number | undefined;
  let badMaxAge = false;
  let noStore = false;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') noStore = true;
    if (name !== 'max-age') continue;
    // § 5.2: the token form; the quoted form is tolerated, as the RFC asks recipients to.
    const raw = eq === -1 ? '' : part.slice(eq + 1).trim().replace(/^"([^"]*)"$/, '$1');
    if (!/^[0-9]{1,12}$/.test(raw)) { badMaxAge = true; continue; }
    const value = Math.min(Number(raw), MAX_DELTA_SECONDS);
    if (maxAge !== undefined && maxAge !== value) badMaxAge = true;
    maxAge = value;
  }
  return { maxAgeSeconds: badMaxAge ? undefined : maxAge, noStore };
}

/** Seconds to keep an answer (0: not at all), given its directives, whether it is a `<version>.root`, and the cap. */
export function keepSeconds(d: CacheDirectives, versionedRoot: boolean, capSeconds: number): number {
  if (d.noStore) return 0;
  if (d.maxAgeSeconds === undefined) return versionedRoot ? capSeconds : 0;
  return Math.min(d.maxAgeSeconds, capSeconds);
}

export type CachedRole = { readonly bytes: Uint8Array; readonly maxAgeSeconds?: number };

type Entry = { readonly bytes: Uint8Array; readonly maxAgeSeconds: number | undefined; readonly storedAt: number };

export class NotaryRoleCache {
  readonly #lru: LRUCache<string, Entry> | undefined;

  constructor(maxEntries: number, maxBytes: number) {
    this.#lru = maxEntries === 0 ? undefined : new LRUCache<string, Entry>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (e, key) => e.bytes.length + key.length,
    });
  }

  /**
   * A copy of the kept bytes (a caller must not be able to change what the next one gets), and the server's
   * max-age less the time the answer has been kept (the `Age` of RFC 9111 § 4.2.3), so a hint computed from it
   * never outlives the server's.
   */
  get(key: string): CachedRole | undefined {
    const e = this.#lru?.get(key);
    if (e === undefined) return undefined;
    const bytes = new Uint8Array(e.bytes);
    if (e.maxAgeSeconds === undefined) return { bytes };
    const ageSeconds = Math.ceil((performance.now() - e.storedAt) / 1000);
    return { bytes, maxAgeSeconds: Math.max(0, e.maxAgeSeconds - ageSeconds) };
  }

  set(key: string, bytes: Uint8Array, maxAgeSeconds: number | undefined, keep: number): void {
    if (this.#lru === undefined || keep <= 0) return;
    this.#lru.set(key, { bytes: new Uint8Array(bytes), maxAgeSeconds, storedAt: performance.now() }, { ttl: keep * 1000 });
  }

  get size(): number {
    return this.#lru?.size ?? 0;
  }

  get calculatedSize(): number {
    return this.#lru?.calculatedSize ?? 0;
  }

  clear(): void {
    this.#lru?.clear();
  }
}
