/**
 * What the verifier needs from the outside world, and nothing more: the bytes of one metadata file of one GUN, as the
 * trust server serves them at `/v2/<gun>/_trust/tuf/<name>.json` (REAL-PEERS § 7), and a clock. The engine implements
 * this over the registry client (token flow, CA, credentials per configured trust server); tests implement it over
 * saved files. `name` is `root`, `timestamp`, `snapshot`, `targets`, `targets/<delegation>` or `<version>.root`.
 */

export type MetadataFetch =
  | { readonly bytes: Uint8Array; /** from the server's Cache-Control max-age, for the caller's cache */ readonly maxAgeSeconds?: number }
  | { readonly notFound: true };

export interface NotaryV1MetadataSource {
  /** Resolve with the bytes, or `{notFound: true}` for a 404; reject on any other failure (the verifier fails closed). */
  fetchRole(gun: string, name: string): Promise<MetadataFetch>;
}

/** Per-role caching hint returned with every outcome: cache the bytes no longer than `min(maxAge, expires)`. */
export type RoleHint = { readonly role: string; readonly version: number; readonly expires: Date; readonly maxAgeSeconds?: number };
