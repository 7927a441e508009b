// Test images for the real-peer tests: build (oci-build.ts) and push (registry-client.ts) in one call,
// plus OCI-layout replay (oci-layout.ts) and a large image for benchmarks. This file is the entry
// point tests import; the pieces live in the smaller modules it re-exports.
import { MEDIA, blobOf, buildImage, buildMultiArchIndex, hostPlatform } from './oci-build.ts';
import type { BuiltImage, BuiltIndex, OciBlob } from './oci-build.ts';
import { pushBlob, pushLargeBlob, putManifest } from './registry-client.ts';

export { MEDIA, blobOf, buildImage, buildMultiArchIndex, hostPlatform, sha256Digest, tarOneFile } from './oci-build.ts';
export type { BuiltImage, BuiltIndex, ImageOptions, OciBlob, Platform } from './oci-build.ts';
export { MANIFEST_ACCEPT, blobExists, getManifest, pushBlob, pushLargeBlob, putManifest } from './registry-client.ts';
export type { FetchedManifest, LargeBlob } from './registry-client.ts';
export { pushOciLayout } from './oci-layout.ts';
export type { LayoutPushOptions, LayoutPushResult, PushedLayoutManifest } from './oci-layout.ts';

export interface PushedImage extends BuiltImage {
  repo: string;
  tag: string;
  /** "host:port/repo:tag", ready for ctr / CRI. */
  ref: string;
  /** "host:port/repo@sha256:...". */
  digestRef: string;
}

export interface PushedIndex extends BuiltIndex {
  repo: string;
  tag: string;
  ref: string;
  digestRef: string;
}

function hostOf(registryUrl: string): string {
  return new URL(registryUrl).host;
}

/** Push an image's blobs, then its manifest by digest and by tag. */
export async function pushImage(registryUrl: string, repo: string, tag: string, image: BuiltImage): Promise<PushedImage> {
  await pushBlob(registryUrl, repo, image.config.bytes);
  await pushBlob(registryUrl, repo, image.layer.bytes);
  await putManifest(registryUrl, repo, image.manifest.digest, image.manifest.bytes, MEDIA.manifest);
  await putManifest(registryUrl, repo, tag, image.manifest.bytes, MEDIA.manifest);
  const host = hostOf(registryUrl);
  return { ...image, repo, tag, ref: `${host}/${repo}:${tag}`, digestRef: `${host}/${repo}@${image.manifest.digest}` };
}

/** Push every platform image (untagged), then the index by digest and by tag. */
export async function pushIndex(registryUrl: string, repo: string, tag: string, built: BuiltIndex): Promise<PushedIndex> {
  for (const image of built.images) {
    await pushBlob(registryUrl, repo, image.config.bytes);
    await pushBlob(registryUrl, repo, image.layer.bytes);
    await putManifest(registryUrl, repo, image.manifest.digest, image.manifest.bytes, MEDIA.manifest);
  }
  await putManifest(registryUrl, repo, built.index.digest, built.index.bytes, MEDIA.index);
  await putManifest(registryUrl, repo, tag, built.index.bytes, MEDIA.index);
  const host = hostOf(registryUrl);
  return { ...built, repo, tag, ref: `${host}/${repo}:${tag}`, digestRef: `${host}/${repo}@${built.index.digest}` };
}

/** Build and push a single-arch image for this machine's platform whose one file holds `content`. */
export async function pushTestImage(registryUrl: string, repo: string, tag: string, content = `hello from ${repo}:${tag}`): Promise<PushedImage> {
  return pushImage(registryUrl, repo, tag, buildImage({ content }));
}

/** Build and push a linux/amd64 + linux/arm64 index. */
export async function pushTestIndex(registryUrl: string, repo: string, tag: string, content = `hello from ${repo}:${tag}`): Promise<PushedIndex> {
  return pushIndex(registryUrl, repo, tag, buildMultiArchIndex({ content }));
}

export interface PushedLargeImage {
  ref: string;
  digestRef: string;
  manifest: OciBlob;
  config: OciBlob;
  layer: { digest: string; size: number; mediaType: string };
}

/**
 * For benchmarks: an image for this machine's platform whose only layer is pushLargeBlob's seeded tar (default 64 MiB).
 * The layer is uncompressed, so containerd can pull and unpack it like any image.
 */
export async function pushLargeImage(registryUrl: string, repo: string, tag: string, sizeBytes?: number): Promise<PushedLargeImage> {
  const layer = await pushLargeBlob(registryUrl, repo, sizeBytes);
  const config = blobOf(MEDIA.config, Buffer.from(JSON.stringify({
    ...hostPlatform(), config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] },
  })));
  const manifest = blobOf(MEDIA.manifest, Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.manifest,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  })));
  await pushBlob(registryUrl, repo, config.bytes);
  await putManifest(registryUrl, repo, manifest.digest, manifest.bytes, MEDIA.manifest);
  await putManifest(registryUrl, repo, tag, manifest.bytes, MEDIA.manifest);
  const host = hostOf(registryUrl);
  return { ref: `${host}/${repo}:${tag}`, digestRef: `${host}/${repo}@${manifest.digest}`, manifest, config, layer };
}
