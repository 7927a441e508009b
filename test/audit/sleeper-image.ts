/**
 * An image that really runs: /bin/sleep from this machine with the shared libraries `ldd` lists for it, copied
 * into one layer at their host paths. Its entrypoint sleeps, so it serves both as a container image
 * (`ctr run -d`, CRI CreateContainer) and as CRI's pod sandbox ("pause") image. Built in memory; `marker`
 * makes the digests differ between images.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { MEDIA, blobOf, hostPlatform, pushImage, type BuiltImage } from '../harness/images.ts';
import { TAR_TRAILER_SIZE, sha256Digest, tarPadding } from '../harness/oci-build.ts';

const SLEEP = '/bin/sleep';

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** ustar header of a regular file with the given mode (uid/gid 0, mtime 0). */
function header(name: string, size: number, mode: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** /bin/sleep's loader and libraries as ldd reports them ("libc.so.6 => /lib/.../libc.so.6", "/lib64/ld-…"). */
function sleepFiles(): string[] {
  const ldd = spawnSync('ldd', [SLEEP], { encoding: 'utf8', timeout: 10_000 });
  if (ldd.status !== 0) throw new Error(`ldd ${SLEEP}: ${ldd.stderr}`);
  const libs = ldd.stdout.split('\n').map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1]).filter((p): p is string => p !== undefined);
  return [SLEEP, ...libs];
}

export function buildSleeperImage(marker: string): BuiltImage {
  const parts: Buffer[] = [];
  for (const file of sleepFiles()) {
    const bytes = readFileSync(realpathSync(file)); // symlinks become regular files at the path the loader asks for
    parts.push(header(file.slice(1), bytes.length, 0o755), bytes, tarPadding(bytes.length));
  }
  const text = Buffer.from(marker);
  parts.push(header('marker.txt', text.length, 0o644), text, tarPadding(text.length), Buffer.alloc(TAR_TRAILER_SIZE));
  const tar = Buffer.concat(parts);
  const diffId = sha256Digest(tar);
  const layer = blobOf(MEDIA.layerGzip, gzipSync(tar, { level: 1 }));
  const platform = hostPlatform();
  const config = blobOf(MEDIA.config, Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os,
    config: { Entrypoint: [SLEEP], Cmd: ['3600'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  })));
  const d = (b: { mediaType: string; digest: string; size: number }) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const manifest = blobOf(MEDIA.manifest, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: d(config), layers: [d(layer)] })));
  return { manifest, config, layer, diffId, platform };
}

export function pushSleeperImage(registryUrl: string, repo: string, tag: string): ReturnType<typeof pushImage> {
  return pushImage(registryUrl, repo, tag, buildSleeperImage(`${repo}:${tag}`));
}
