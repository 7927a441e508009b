/**
 * Which upstream response headers a blob response passes on to containerd. Everything else (cookies, upstream
 * auth hints, hop-by-hop headers) stays behind.
 */
export const BLOB_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-range',
  'accept-ranges',
  'docker-content-digest',
  'etag',
  'last-modified',
  'cache-control',
];
