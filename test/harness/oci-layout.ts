// Replay an OCI image-layout directory (oci-layout, index.json, blobs/sha256/*) into a registry repo,
// as notation's e2e harness does with oras.ExtendedCopy (test/vectors/README.md §1). Order matters to
// distribution: blobs before the manifest that lists them, index children before the index. We also
// push a manifest's `subject` first when the layout has it, so registries with a referrers API index it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA, sha256Digest } from './oci-build.ts';
import { pushBlob, putManifest } from './registry-client.ts';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
}

interface ManifestLike {
  mediaType?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
}

export interface PushedLayoutManifest {
  digest: string;
  mediaType: string;
  size: number;
  /** Tag from org.opencontainers.image.ref.name, when the index.json entry has one. */
  tag?: string;
}

export interface LayoutPushResult {
  /** Every manifest and index, in the order it was pushed. */
  manifests: PushedLayoutManifest[];
  /** Tag -> digest for index.json entries with a ref.name. */
  tags: Record<string, string>;
  /** Digests of config/layer/envelope blobs pushed. */
  blobs: string[];
}

export interface LayoutPushOptions {
  /**
   * Also PUT a referrers tag-schema index `sha256-<hex>` for every subject, listing every manifest of
   * the layout that has that subject (replacing the layout's own index under that tag, if any), as
   * oras does against registries without a referrers API. Off by default: replay is byte-exact.
   * Needed on distribution 2.8 for layouts whose tag index is missing (e2e-with-timestamped-signature)
   * or incomplete (e2e-valid-multiple-signatures lists only one of its two signatures).
   */
  rebuildReferrersTags?: boolean;
}

const REF_NAME = 'org.opencontainers.image.ref.name';
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const MANIFEST_TYPES = new Set<string>([MEDIA.manifest, MEDIA.index,
  'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

export async function pushOciLayout(registryUrl: string, repo: string, layoutDir: string, opts: LayoutPushOptions = {}): Promise<LayoutPushResult> {
  const readBlob = async (digest: string): Promise<Buffer> => {
    const [algorithm, hex] = digest.split(':');
    if (algorithm !== 'sha256' || hex === undefined) throw new Error(`pushOciLayout: unsupported digest ${digest} in ${layoutDir}`);
    const bytes = await readFile(join(layoutDir, 'blobs', 'sha256', hex)).catch((err: Error) => {
      throw new Error(`pushOciLayout: ${layoutDir} lacks blob ${digest}: ${err.message}`);
    });
    if (sha256Digest(bytes) !== digest) throw new Error(`pushOciLayout: blob ${digest} in ${layoutDir} does not hash to its name`);
    return bytes;
  };

  const layout = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as ManifestLike;
  const entries = layout.manifests ?? [];
  const inLayout = new Set(entries.map((d) => d.digest));
  const result: LayoutPushResult = { manifests: [], tags: {}, blobs: [] };
  const pushed = new Map<string, PushedLayoutManifest>();
  const referrers = new Map<string, object[]>(); // subject digest -> tag-schema descriptors
  const visiting = new Set<string>();

  const pushNode = async (desc: Descriptor): Promise<PushedLayoutManifest> => {
    const done = pushed.get(desc.digest);
    if (done !== undefined) return done;
    if (visiting.has(desc.digest)) throw new Error(`pushOciLayout: reference cycle through ${desc.digest}`);
    visiting.add(desc.digest);
    const bytes = await readBlob(desc.digest);
    const parsed = JSON.parse(bytes.toString('utf8')) as ManifestLike;
    const mediaType = parsed.mediaType ?? desc.mediaType;
    if (mediaType === undefined || !MANIFEST_TYPES.has(mediaType)) {
      throw new Error(`pushOciLayout: ${desc.digest} has media type ${mediaType ?? '(none)'}, not a manifest or index`);
    }
    if (parsed.subject !== undefined && inLayout.has(parsed.subject.digest)) await pushNode(parsed.subject);
    for (const child of parsed.manifests ?? []) await pushNode(child); // children must exist first
    for (const blob of [parsed.config, ...(parsed.layers ?? [])]) {
      if (blob === undefined) continue;
      await pushBlob(registryUrl, repo, await readBlob(blob.digest));
      result.blobs.push(blob.digest);
    }
    await putManifest(registryUrl, repo, desc.digest, bytes, mediaType);
    if (parsed.subject !== undefined) {
      // distribution-spec: artifactType falls back to the config media type (legacy Notation form).
      const artifactType = parsed.artifactType ?? parsed.config?.mediaType;
      const list = referrers.get(parsed.subject.digest) ?? [];
      list.push({ mediaType, digest: desc.digest, size: bytes.length,
        ...(parsed.annotations ? { annotations: parsed.annotations } : {}), ...(artifactType ? { artifactType } : {}) });
      referrers.set(parsed.subject.digest, list);
    }
    const entry: PushedLayoutManifest = { digest: desc.digest, mediaType, size: bytes.length };
    pushed.set(desc.digest, entry);
    visiting.delete(desc.digest);
    result.manifests.push(entry);
    return entry;
  };

  for (const desc of entries) {
    const entry = await pushNode(desc);
    const tag = desc.annotations?.[REF_NAME];
    if (tag === undefined) continue;
    if (!TAG.test(tag)) throw new Error(`pushOciLayout: ref.name ${JSON.stringify(tag)} in ${layoutDir} is not a plain tag`);
    const bytes = await readBlob(desc.digest);
    await putManifest(registryUrl, repo, tag, bytes, entry.mediaType);
    entry.tag = tag;
    result.tags[tag] = desc.digest;
  }
  if (opts.rebuildReferrersTags) {
    for (const [subject, manifests] of referrers) {
      const tag = subject.replace(':', '-');
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests }));
      const digest = await putManifest(registryUrl, repo, tag, bytes, MEDIA.index);
      result.tags[tag] = digest;
      result.manifests.push({ digest, mediaType: MEDIA.index, size: bytes.length, tag });
    }
  }
  result.blobs = [...new Set(result.blobs)];
  return result;
}
