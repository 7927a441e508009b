/**
 * One parse of an incoming request line into a typed DistributionRequest (as Spegel does): everything after
 * this works with validated names, references and digests, never with raw URL text.
 *
 * containerd addresses a mirror as `/v2/<name>/manifests/<ref>?ns=<registry>` (REAL-PEERS §3): `ns` is the
 * registry the image reference names, which pullgate uses to pick the upstream.
 */
import { parseDigest, looksLikeDigest, type Digest } from '../oci/digest.ts';
import { canonicalRegistryHost, isValidRepositoryName, isValidTag, normalizeRepository, type ManifestReference } from '../oci/names.ts';
import { OciError } from './oci-errors.ts';


export type DistributionRequest =
  | { readonly kind: 'ping' }
  | {
      readonly kind: 'manifest';
      readonly method: 'GET' | 'HEAD';
      /** Canonical registry host from `?ns=`, undefined when the client sent none. */
      readonly registry: string | undefined;
      readonly repository: string;
      readonly reference: ManifestReference;
    }
  | {
      readonly kind: 'blob';
      readonly method: 'GET' | 'HEAD';
      readonly registry: string | undefined;
      readonly repository: string;
      readonly digest: Digest;
    };

/** Longest request target accepted; real ones are < 400 bytes (255-byte name + sha512 digest + ns). */
const MAX_URL_LENGTH = 2048;

export function parseDistributionRequest(method: string | undefined, rawUrl: string | undefined): DistributionRequest {
  const url = rawUrl ?? '/';
  if (url.length > MAX_URL_LENGTH) throw new OciError('NAME_INVALID', 'pullgate: request path too long');
  const q = url.indexOf('?');
  const pathPart = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));

  if (pathPart === '/v2/' || pathPart === '/v2') {
    if (method !== 'GET' && method !== 'HEAD') throw unsupported(method);
    return { kind: 'ping' };
  }
  if (!pathPart.startsWith('/v2/')) throw new OciError('NAME_UNKNOWN', 'pullgate: not a distribution API path');

  const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(pathPart);
  if (!m) throw unsupported(method);
  if (method !== 'GET' && method !== 'HEAD') throw unsupported(method);

  const registry = parseRegistryParam(query);
  const repository = normalizeRepository(registry ?? '', decodeStrict(m[1]!));
  if (!isValidRepositoryName(repository)) {
    throw new OciError('NAME_INVALID', `pullgate: invalid repository name "${clip(repository)}"`);
  }
  const ref = decodeStrict(m[3]!);

  if (m[2] === 'blobs') {
    const parsed = parseDigest(ref);
    if (!parsed.ok) throw new OciError('DIGEST_INVALID', `pullgate: ${parsed.reason}`);
    return { kind: 'blob', method, registry, repository, digest: parsed.digest };
  }
  if (looksLikeDigest(ref)) {
    const parsed = parseDigest(ref);
    if (!parsed.ok) throw new OciError('DIGEST_INVALID', `pullgate: ${parsed.reason}`);
    return { kind: 'manifest', method, registry, repository, reference: { kind: 'digest', digest: parsed.digest } };
  }
  if (!isValidTag(ref)) throw new OciError('MANIFEST_INVALID', `pullgate: invalid tag "${clip(ref)}"`);
  return { kind: 'manifest', method, registry, repository, reference: { kind: 'tag', tag: ref } };
}

function parseRegistryParam(query: URLSearchParams): string | undefined {
  const all = query.getAll('ns');
  if (all.length === 0) return undefined;
  // Two `ns` values would make "which registry is this?" ambiguous; refuse rather than pick one.
  if (all.length > 1 || all[0] === '') throw new OciError('NAME_INVALID', 'pullgate: exactly one ns=<registry> parameter is allowed');
  return canonicalRegistryHost(all[0]!);
}

function decodeStrict(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new OciError('NAME_INVALID', 'pullgate: malformed percent-encoding in path');
  }
}

function unsupported(method: string | undefined): OciError {
  return new OciError('UNSUPPORTED', `pullgate: ${method ?? 'this method'} is not supported: pullgate is a read-only pull mirror`);
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
