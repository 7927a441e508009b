/**
 * The image index a registry answers a referrers query with (distribution-spec § "Listing Referrers"), and the
 * same index stored under the referrers tag schema `sha256-<hex>` (§ "Referrers Tag Schema"), read into the
 * descriptors of Notary Project signature manifests. Filtering is done here, client side, whatever the registry
 * says it filtered (signature-specification.md § "OCI Signatures"; a registry may ignore `artifactType`).
 */
import { parseDigest } from '../digest.ts';

export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** image-spec manifest.md § "Guidance for an Empty Descriptor". */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** A referrer that claims to be a Notary Project signature manifest. */
export interface SignatureDescriptor {
  readonly digest: string;
  readonly mediaType: string;
  /** Size in bytes as the index states it (checked again when the manifest is fetched). */
  readonly size: number;
  readonly artifactType: string;
}

export type IndexParse =
  | { readonly ok: true; readonly signatures: readonly SignatureDescriptor[]; readonly others: number }
  | { readonly ok: false; readonly message: string };

/** Bound on descriptors read from one index (a page); a registry page is typically ≤ 1000. */
export const MAX_INDEX_DESCRIPTORS = 10_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses one referrers index. A malformed index is a registry fault (`ok: false`), never "no signatures". Entries
 * that are not image manifests or not of the signature artifact type are counted in `others` and dropped.
 */
export function parseReferrersIndex(bytes: Uint8Array): IndexParse {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return { ok: false, message: 'referrers index is not JSON' };
  }
  if (!isObject(doc)) return { ok: false, message: 'referrers index is not a JSON object' };
  if (doc['mediaType'] !== undefined && doc['mediaType'] !== OCI_INDEX) {
    return { ok: false, message: `referrers index has media type ${JSON.stringify(doc['mediaType'])}, not ${OCI_INDEX}` };
  }
  const manifests = doc['manifests'] ?? [];
  if (!Array.isArray(manifests)) return { ok: false, message: 'referrers index "manifests" is not an array' };
  if (manifests.length > MAX_INDEX_DESCRIPTORS) return { ok: false, message: `referrers index lists more than ${MAX_INDEX_DESCRIPTORS} descriptors` };
  const signatures: SignatureDescriptor[] = [];
  let others = 0;
  for (const d of manifests) {
    if (!isObject(d)) return { ok: false, message: 'referrers index has a descriptor that is not an object' };
    const { digest, mediaType, size, artifactType } = d;
    if (typeof digest !== 'string' || !parseDigest(digest).ok) return { ok: false, message: 'referrers index has a descriptor without a valid digest' };
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return { ok: false, message: `referrers descriptor ${digest} has no valid size` };
    if (mediaType !== OCI_MANIFEST || artifactType !== SIGNATURE_ARTIFACT_TYPE) {
      others++;
      continue;
    }
    signatures.push({ digest, mediaType, size, artifactType });
  }
  return { ok: true, signatures, others };
}

/** distribution-spec § "Referrers Tag Schema": `<alg>-<ref>`, truncated to 128 characters. */
export function referrersTag(digest: { readonly algorithm: string; readonly hex: string }): string {
  return `${digest.algorithm}-${digest.hex}`.slice(0, 128);
}
