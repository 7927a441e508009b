/**
 * Fetch one manifest upstream and turn it into verified-to-digest bytes, or a typed failure. The bytes are
 * capped (4 MiB by default), hashed, and checked against the digest that was asked for (by-digest requests) or
 * the digest the upstream claims (by-tag requests) before anything else looks at them (DESIGN § Pull path).
 * The whole GET has a deadline (`upstream.manifestTimeoutMs`): undici's bodyTimeout only bounds the pause
 * between two chunks, so an upstream dripping one byte every few seconds would otherwise hold the decision (and
 * everyone joined to it) for as long as it likes.
 */
import { digestOf, parseDigest, type Digest } from '../oci/digest.ts';
import { discard, readCapped } from './body.ts';
import type { UpstreamClient, UpstreamResponse } from './client.ts';
import type { ManifestReference } from '../oci/names.ts';

/** What containerd asks for on a resolve; also pullgate's own Accept when the client sent none. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
] as const;

export interface FetchedManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

export type FetchFailureReason =
  | 'manifest_unknown'
  | 'manifest_too_large'
  | 'manifest_invalid'
  | 'digest_mismatch'
  | 'upstream_unavailable'
  | 'upstream_rate_limited'
  | 'upstream_denied';

export type ManifestFetch =
  | { readonly ok: true; readonly manifest: FetchedManifest }
  | { readonly ok: false; readonly reason: FetchFailureReason; readonly message: string };

/** Default for `upstream.manifestTimeoutMs` when the client's limits name none. */
export const DEFAULT_MANIFEST_TIMEOUT_MS = 30_000;

export async function fetchManifest(
  client: UpstreamClient,
  repository: string,
  reference: ManifestReference,
  accept: string | undefined,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<ManifestFetch> {
  const timeoutMs = client.limits.manifestTimeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(abortAtDeadline, timeoutMs, deadline);
  // Either the caller's signal or the deadline ends the request and the body read (undici destroys the body).
  const onCallerAbort = signal === undefined ? undefined : () => deadline.abort(signal.reason);
  if (signal !== undefined) {
    if (signal.aborted) deadline.abort(signal.reason);
    else signal.addEventListener('abort', onCallerAbort!, { once: true });
  }
  try {
    return await fetchWithin(client, repository, reference, accept, maxBytes, deadline.signal, timeoutMs);
  } finally {
    clearTimeout(timer);
    if (onCallerAbort !== undefined) signal!.removeEventListener('abort', onCallerAbort);
  }
}

function abortAtDeadline(deadline: AbortController): void {
  deadline.abort(DEADLINE);
}

/** The deadline's abort reason, told apart from a caller's. */
const DEADLINE = Symbol('manifest deadline');

async function fetchWithin(
  client: UpstreamClient,
  repository: string,
  reference: ManifestReference,
  accept: string | undefined,
  maxBytes: number,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<ManifestFetch> {
  const ref = reference.kind === 'tag' ? reference.tag : reference.digest.text;
  const late = () => fail('upstream_unavailable', `upstream did not deliver the manifest within ${timeoutMs} ms (upstream.manifestTimeoutMs)`);
  const res = await requestManifest(client, 'GET', repository, ref, accept, signal);
  if ('reason' in res) return signal.reason === DEADLINE ? late() : res;
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(res.body);
    return fail('manifest_too_large', `manifest is ${declared} bytes, larger than the ${maxBytes}-byte limit`);
  }
  let bytes: Buffer | undefined;
  try {
    bytes = await readCapped(res.body, maxBytes);
  } catch (err) {
    if (signal.reason === DEADLINE) return late();
    return fail('upstream_unavailable', `upstream unavailable (${(err as Error).message})`);
  }
  if (bytes === undefined) return fail('manifest_too_large', `manifest larger than the ${maxBytes}-byte limit`);

  const algorithm = reference.kind === 'digest' ? reference.digest.algorithm : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (reference.kind === 'digest' && digest.text !== reference.digest.text) {
    return fail('digest_mismatch', `upstream bytes hash to ${digest.text}, not the requested digest`);
  }
  const claimed = res.headers['docker-content-digest'];
  if (reference.kind === 'tag' && typeof claimed === 'string') {
    const parsed = parseDigest(claimed);
    if (parsed.ok && parsed.digest.algorithm === 'sha256' && parsed.digest.text !== digest.text) {
      return fail('digest_mismatch', `upstream claims ${parsed.digest.text} but the bytes hash to ${digest.text}`);
    }
  }
  const mediaType = manifestMediaType(bytes, res.headers['content-type']);
  if (typeof mediaType !== 'string') return fail('manifest_invalid', mediaType.problem);
  return { ok: true, manifest: { digest, mediaType, bytes } };
}

/**
 * The manifest's media type: the `mediaType` field when present (image-spec: it must then equal the
 * Content-Type), else the Content-Type. The bytes must be a JSON object either way.
 */
function manifestMediaType(bytes: Buffer, contentType: string | string[] | undefined): string | { problem: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { problem: 'upstream manifest is not JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { problem: 'upstream manifest is not a JSON object' };
  const header = typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : '';
  const field = (doc as { mediaType?: unknown }).mediaType;
  if (field !== undefined) {
    if (typeof field !== 'string' || field.length === 0) return { problem: 'manifest mediaType is not a string' };
    // A registry that labels the bytes as a different manifest type is confused or lying; a generic type
    // (application/json) is merely unhelpful.
    if ((MANIFEST_MEDIA_TYPES as readonly string[]).includes(header) && header !== field) return { problem: `manifest mediaType ${field} differs from Content-Type ${header}` };
    return field;
  }
  if (header === '') return { problem: 'upstream manifest has neither mediaType nor Content-Type' };
  return header;
}

/** One upstream manifest request; anything but a 200 becomes the typed failure (upstream 429/5xx are denials). */
async function requestManifest(
  client: UpstreamClient,
  method: 'GET' | 'HEAD',
  repository: string,
  ref: string,
  accept: string | undefined,
  signal: AbortSignal | undefined,
): Promise<UpstreamResponse | { readonly ok: false; readonly reason: FetchFailureReason; readonly message: string }> {
  let res: UpstreamResponse;
  try {
    res = await client.request({
      method,
      path: `/v2/${repository}/manifests/${ref}`,
      // distribution 2.8 answers 404 to OCI manifests unless Accept names the OCI type (REAL-PEERS §2).
      headers: { accept: accept && accept.length > 0 ? accept : MANIFEST_MEDIA_TYPES.join(', ') },
      scope: `repository:${repository}:pull`,
      kind: 'manifest',
      redirects: 'follow',
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    return { ok: false, reason: 'upstream_unavailable', message: `upstream unavailable (${(err as Error).message})` };
  }
  const status = res.statusCode;
  if (status === 200) return res;
  res.body.resume();
  if (status === 404) return { ok: false, reason: 'manifest_unknown', message: 'manifest unknown upstream' };
  if (status === 429) return { ok: false, reason: 'upstream_rate_limited', message: 'upstream rate limited' };
  if (status === 401 || status === 403) return { ok: false, reason: 'upstream_denied', message: `upstream refused access (HTTP ${status})` };
  return { ok: false, reason: 'upstream_unavailable', message: `upstream unavailable (HTTP ${status})` };
}

function fail(reason: FetchFailureReason, message: string): ManifestFetch {
  return { ok: false, reason, message };
}

export type ManifestHead =
  | { readonly ok: true; readonly digest: Digest }
  /** The upstream answered the HEAD without a usable digest header: resolve with a GET instead. */
  | { readonly ok: true; readonly digest: undefined }
  | { readonly ok: false; readonly reason: FetchFailureReason; readonly message: string };

/**
 * Resolves a tag with one upstream HEAD (what containerd itself does): the digest the tag points at now. The
 * bytes are fetched and checked against that digest afterwards, so trusting the header here gives the
 * upstream no more say than a GET by tag would.
 */
export async function headManifest(client: UpstreamClient, repository: string, tag: string, accept: string | undefined): Promise<ManifestHead> {
  const res = await requestManifest(client, 'HEAD', repository, tag, accept, undefined);
  if ('reason' in res) return res;
  res.body.resume();
  const claimed = res.headers['docker-content-digest'];
  const parsed = typeof claimed === 'string' ? parseDigest(claimed) : undefined;
  return { ok: true, digest: parsed?.ok ? parsed.digest : undefined };
}
