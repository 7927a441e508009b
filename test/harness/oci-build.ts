// Deterministic OCI test images built in memory: no tar/gzip/skopeo binaries, no clock, no randomness.
// The same inputs always give the same digests, so tests can pin them and failures are reproducible.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** Content plus its descriptor fields. */
export interface OciBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export interface Platform { os: string; architecture: string }

export interface BuiltImage {
  manifest: OciBlob;
  config: OciBlob;
  layer: OciBlob;
  /** sha256 of the uncompressed layer tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  platform: Platform;
}

export interface BuiltIndex {
  index: OciBlob;
  /** One image per platform, in index order (amd64, then arm64). */
  images: BuiltImage[];
}

/** linux/<this machine's arch>, so containerd (which pulls the host platform) can pull the default image. */
export function hostPlatform(): Platform {
  const architecture = ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch];
  return { os: 'linux', architecture: architecture ?? process.arch };
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function blobOf(mediaType: string, bytes: Buffer): OciBlob {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length, bytes };
}

function jsonBlob(mediaType: string, value: unknown): OciBlob {
  return blobOf(mediaType, Buffer.from(JSON.stringify(value)));
}

function descriptor(blob: OciBlob): { mediaType: string; digest: string; size: number } {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

/** One ustar header field: octal, NUL-terminated, zero-padded to the field width. */
function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** The 512-byte POSIX ustar header of a regular file (mode 0644, uid/gid 0, mtime 0). */
export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tarHeader: name longer than 100 bytes: ${name}`);
  const header = Buffer.alloc(512);
  header.write(name, 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii'); // uid
  header.write(octal(0, 8), 116, 'ascii'); // gid
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii'); // mtime
  header.write('        ', 148, 'ascii'); // checksum is computed with its own field as spaces
  header.write('0', 156, 'ascii'); // regular file
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(octal(sum, 7) + ' ', 148, 'ascii');
  return header;
}

/** Zero padding after `size` bytes of file content, up to the next 512-byte block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** Two zero blocks end a tar archive. */
export const TAR_TRAILER_SIZE = 1024;

/** A tar archive with one regular file. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  return Buffer.concat([tarHeader(name, content.length), content, tarPadding(content.length), Buffer.alloc(TAR_TRAILER_SIZE)]);
}

export interface ImageOptions {
  /** Content of the single file in the layer; different content gives different digests. */
  content: string;
  fileName?: string;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export function buildImage(opts: ImageOptions): BuiltImage {
  const fileName = opts.fileName ?? 'hello.txt';
  const platform = opts.platform ?? hostPlatform();
  const tar = tarOneFile(fileName, Buffer.from(opts.content, 'utf8'));
  const diffId = sha256Digest(tar);
  // gzip header from zlib has mtime 0 and no file name, so the output is stable.
  const layer = blobOf(MEDIA.layerGzip, gzipSync(tar, { level: 9 }));
  const config = jsonBlob(MEDIA.config, {
    architecture: platform.architecture,
    os: platform.os,
    config: { Cmd: [`/${fileName}`] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'pullgate test harness' }],
  });
  const manifest = jsonBlob(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: descriptor(config),
    layers: [descriptor(layer)],
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  });
  return { manifest, config, layer, diffId, platform };
}

/** A multi-arch index over linux/amd64 and linux/arm64, each image with its own config and layer. */
export function buildMultiArchIndex(opts: { content: string }): BuiltIndex {
  const images = (['amd64', 'arm64'] as const).map((architecture) =>
    buildImage({ content: `${opts.content} (${architecture})`, platform: { os: 'linux', architecture } }));
  const index = jsonBlob(MEDIA.index, {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: images.map((img) => ({ ...descriptor(img.manifest), platform: img.platform })),
  });
  return { index, images };
}
