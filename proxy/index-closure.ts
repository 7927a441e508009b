/**
 * Index closure (DESIGN § Pull path rules): multi-arch images are signed at the index, so a platform manifest
 * that an allowed index lists is allowed as part of it. What the signature covers is the index's descriptor of
 * the child — its digest *and* its media type (image-spec descriptor.md: `mediaType` is required) — so the child is
 * served under that media type, never one taken from the child's own bytes or the upstream's Content-Type.
 * Otherwise an upstream could serve the listed bytes as another kind of document than the one that was signed
 * (a JSON body can carry both `manifests` and `layers`), and containerd would read it that way.
 */
import type { FetchedManifest } from '../registry/manifest-fetch.ts';
import { MANIFEST_MEDIA_TYPES } from '../registry/manifest-fetch.ts';

/** A child as the signed index lists it. */
export interface ListedChild {
  readonly digest: string;
  readonly mediaType: string;
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const SERVABLE: ReadonlySet<string> = new Set(MANIFEST_MEDIA_TYPES);
const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;

/**
 * The children an index lists, with their descriptor media types (already-verified bytes). A descriptor without
 * a digest or with a media type the gate does not serve is left out: that child is then verified on its own.
 * More than `max` children: none (each is then verified on its own).
 */
export function indexChildren(manifest: FetchedManifest, max: number): ListedChild[] {
  if (!INDEX_TYPES.has(manifest.mediaType)) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(manifest.bytes.toString('utf8'));
  } catch {
    return [];
  }
  const list = (doc as { manifests?: unknown }).manifests;
  if (!Array.isArray(list) || list.length > max) return [];
  const children: ListedChild[] = [];
  for (const d of list as { digest?: unknown; mediaType?: unknown }[]) {
    if (typeof d?.digest !== 'string' || !DIGEST.test(d.digest)) continue;
    if (typeof d.mediaType !== 'string' || !SERVABLE.has(d.mediaType)) continue;
    children.push({ digest: d.digest, mediaType: d.mediaType });
  }
  return children;
}

/**
 * The fetched child under the media type its index listed, or undefined when the child's own `mediaType` field
 * names another type (image-spec manifest.md/index.md: when present it must match the descriptor) — such a
 * child is not the one the index's signature described, and gets no allowance from the index.
 */
export function childAsListed(manifest: FetchedManifest, listedType: string): FetchedManifest | undefined {
  let field: unknown;
  try {
    field = (JSON.parse(manifest.bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
  } catch {
    return undefined;
  }
  if (field !== undefined && field !== listedType) return undefined;
  return manifest.mediaType === listedType ? manifest : { digest: manifest.digest, mediaType: listedType, bytes: manifest.bytes };
}
