/**
 * The policy layer's ArtifactFetcher (oci/discovery/fetcher.ts) on top of one registry's UpstreamClient:
 * referrers pages, manifests and blobs, each size-capped and digest-checked here so the verifier only ever
 * sees bytes that are what they claim to be. Every non-clean answer is a FetchError, never an empty result.
 * Each call takes the decision's AbortSignal down to undici, which cuts the request and the body it is reading
 * when the decision ends; the budget a decision may spend comes from the client's config
 * (`upstream.decisionMaxRequests`, `upstream.decisionMaxBytes`; oci/discovery/decision-budget.ts).
 */
import { parseDigest, digestOf } from '../oci/digest.ts';
import { FetchError, type ArtifactFetcher, type DecisionBudgetLimits, type ManifestLookup, type ReferrersPage } from '../oci/discovery/fetcher.ts';
import { discard, readCapped } from './body.ts';
import type { UpstreamClient, UpstreamKind, UpstreamResponse } from './client.ts';

const INDEX = 'application/vnd.oci.image.index.v1+json';
/** A referrers index is small; 4 MiB is the manifest cap and bounds it the same way. */
const MAX_REFERRERS_PAGE = 4 * 1024 * 1024;

export function upstreamArtifactFetcher(client: UpstreamClient): ArtifactFetcher {
  const get = async (path: string, repository: string, kind: UpstreamKind, accept: string, signal: AbortSignal | undefined): Promise<UpstreamResponse> => {
    try {
      return await client.request({ method: 'GET', path, headers: { accept }, scope: `repository:${repository}:pull`, kind, redirects: 'follow', ...(signal ? { signal } : {}) });
    } catch (err) {
      throw unavailable(err, signal);
    }
  };
  const { decisionMaxRequests, decisionMaxBytes } = client.limits;
  const decisionLimits: DecisionBudgetLimits | undefined =
    decisionMaxRequests === undefined || decisionMaxBytes === undefined ? undefined : { maxRequests: decisionMaxRequests, maxBytes: decisionMaxBytes };

  return {
    ...(decisionLimits ? { decisionLimits } : {}),

    async referrers(repository, subject, artifactType, next, signal): Promise<ReferrersPage> {
      const path = next ?? `/v2/${repository}/referrers/${subject}?artifactType=${encodeURIComponent(artifactType)}`;
      if (!path.startsWith(`/v2/${repository}/referrers/`)) throw new FetchError('INVALID_RESPONSE', 'referrers Link header points outside the repository');
      const res = await get(path, repository, 'referrers', INDEX, signal);
      // distribution-spec § "Listing Referrers": a registry without the API answers 404 (distribution 2.8:
      // a plain-text 404) — the client falls back to the tag schema.
      if (res.statusCode === 404 || res.statusCode === 405 || res.statusCode === 400) {
        res.body.resume();
        return { supported: false };
      }
      failOnStatus(res);
      const type = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
      const bytes = await capped(res, MAX_REFERRERS_PAGE, signal);
      if (type !== INDEX) return { supported: false };
      return { supported: true, bytes, next: nextLink(res.headers.link, repository) };
    },

    async manifest(repository, reference, accept, maxBytes, signal): Promise<ManifestLookup> {
      const res = await get(`/v2/${repository}/manifests/${reference}`, repository, 'manifest', accept.join(', '), signal);
      if (res.statusCode === 404) {
        res.body.resume();
        return { found: false };
      }
      failOnStatus(res);
      const bytes = await capped(res, maxBytes, signal);
      const byDigest = parseDigest(reference);
      if (byDigest.ok && digestOf(bytes, byDigest.digest.algorithm).text !== byDigest.digest.text) {
        throw new FetchError('DIGEST_MISMATCH', `manifest ${reference}: bytes do not match the digest`);
      }
      const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
      return { found: true, bytes, mediaType };
    },

    async blob(repository, digest, maxBytes, signal): Promise<Buffer> {
      const parsed = parseDigest(digest);
      if (!parsed.ok) throw new FetchError('INVALID_RESPONSE', `blob digest: ${parsed.reason}`);
      const res = await get(`/v2/${repository}/blobs/${digest}`, repository, 'blob', '*/*', signal);
      failOnStatus(res);
      const bytes = await capped(res, maxBytes, signal);
      if (digestOf(bytes, parsed.digest.algorithm).text !== digest) throw new FetchError('DIGEST_MISMATCH', `blob ${digest}: bytes do not match the digest`);
      return bytes;
    },
  };
}

function failOnStatus(res: UpstreamResponse): void {
  const status = res.statusCode;
  if (status === 200) return;
  res.body.resume();
  if (status === 429) throw new FetchError('RATE_LIMITED', 'upstream rate limited');
  if (status === 401 || status === 403) throw new FetchError('UPSTREAM_DENIED', `upstream refused access (HTTP ${status})`);
  if (status === 404) throw new FetchError('INVALID_RESPONSE', 'upstream has no such content (HTTP 404)');
  throw new FetchError('UPSTREAM_UNAVAILABLE', `upstream unavailable (HTTP ${status})`);
}

/** A failed request or body read; when the caller's signal ended it, the caller's reason (e.g. ABORTED) instead. */
function unavailable(err: unknown, signal: AbortSignal | undefined): FetchError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof FetchError ? reason : new FetchError('ABORTED', 'the fetch was aborted');
  }
  return new FetchError('UPSTREAM_UNAVAILABLE', `upstream unavailable (${(err as Error).message})`);
}

async function capped(res: UpstreamResponse, max: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    discard(res.body);
    throw new FetchError('TOO_LARGE', `response of ${declared} bytes exceeds the ${max}-byte limit`);
  }
  let bytes: Buffer | undefined;
  try {
    bytes = await readCapped(res.body, max);
  } catch (err) {
    throw unavailable(err, signal);
  }
  if (bytes === undefined) throw new FetchError('TOO_LARGE', `response exceeds the ${max}-byte limit`);
  return bytes;
}

/** RFC 8288 `Link: </v2/…?last=…>; rel="next"`, kept only when it stays on this repository's referrers path. */
function nextLink(header: string | string[] | undefined, repository: string): string | undefined {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  if (!m) return undefined;
  let url: URL;
  try {
    url = new URL(m[1]!, 'http://registry.invalid');
  } catch {
    return undefined;
  }
  const path = url.pathname + url.search;
  return url.host === 'registry.invalid' && path.startsWith(`/v2/${repository}/referrers/`) ? path : undefined;
}
