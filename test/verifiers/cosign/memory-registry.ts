/**
 * An in-memory registry behind the ArtifactFetcher interface, for the verifier's pure-core tests: it answers from
 * maps and checks digests the way the proxy's fetcher does. (The real registry is exercised by the e2e tests.)
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArtifactFetcher, ManifestLookup, ReferrersPage } from '../../../oci/discovery/fetcher.ts';
import { FetchError } from '../../../oci/discovery/fetcher.ts';

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class MemoryRegistry implements ArtifactFetcher {
  readonly manifests = new Map<string, Buffer>(); // `${repo}:${ref}`
  readonly blobs = new Map<string, Buffer>();
  readonly referrerIndexes = new Map<string, Buffer>(); // `${repo}@${subject}`; absent: referrers API unsupported
  requests = 0;

  putManifest(repo: string, ref: string, bytes: Buffer): string {
    const d = sha256(bytes);
    this.manifests.set(`${repo}:${ref}`, bytes);
    this.manifests.set(`${repo}:${d}`, bytes);
    return d;
  }
  putBlob(bytes: Buffer): { digest: string; size: number } {
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }
  async referrers(repo: string, subject: string): Promise<ReferrersPage> {
    this.requests++;
    const b = this.referrerIndexes.get(`${repo}@${subject}`);
    return b === undefined ? { supported: false } : { supported: true, bytes: b, next: undefined };
  }
  async manifest(repo: string, ref: string, _accept: readonly string[], maxBytes: number): Promise<ManifestLookup> {
    this.requests++;
    const b = this.manifests.get(`${repo}:${ref}`);
    if (b === undefined) return { found: false };
    if (b.length > maxBytes) throw new FetchError('TOO_LARGE', 'manifest too large');
    return { found: true, bytes: b, mediaType: 'application/vnd.oci.image.manifest.v1+json' };
  }
  async blob(_repo: string, digest: string, maxBytes: number): Promise<Buffer> {
    this.requests++;
    const b = this.blobs.get(digest);
    if (b === undefined) throw new FetchError('INVALID_RESPONSE', `blob ${digest} not found`);
    if (b.length > maxBytes) throw new FetchError('TOO_LARGE', 'blob too large');
    if (sha256(b) !== digest) throw new FetchError('DIGEST_MISMATCH', 'blob digest');
    return b;
  }
}

export type SigLayer = { mediaType: string; payload: Buffer; annotations: Record<string, string> };

/** Store signature layers the way cosign does: blobs + an OCI manifest tagged `sha256-<hex>.sig`. */
export function putSignatures(reg: MemoryRegistry, repo: string, imageDigest: string, layers: readonly SigLayer[]): void {
  const config = reg.putBlob(Buffer.from('{}'));
  const manifest = {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: l.mediaType, ...reg.putBlob(l.payload), annotations: l.annotations })),
  };
  reg.putManifest(repo, `${imageDigest.replace(':', '-')}.sig`, Buffer.from(JSON.stringify(manifest)));
}

/**
 * containers/image `dir:` fixture → registry (test/vectors/README.md § 6.1): `manifest.json` is the image, each
 * `signature-N` is `\0sigstore-json\n` + {mimeType, payload (base64), annotations}.
 */
export function readDirSignatures(dir: string): SigLayer[] {
  return readdirSync(dir).filter((f) => f.startsWith('signature-')).sort().map((f) => readSigstoreJson(join(dir, f)));
}
export function readSigstoreJson(file: string): SigLayer {
  const raw = readFileSync(file);
  const prefix = Buffer.from('\x00sigstore-json\n');
  if (!raw.subarray(0, prefix.length).equals(prefix)) throw new Error(`${file}: not a sigstore-json signature`);
  const j = JSON.parse(raw.subarray(prefix.length).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };
  return { mediaType: j.mimeType, payload: Buffer.from(j.payload, 'base64'), annotations: j.annotations ?? {} };
}

/** Connaisseur's mock registry tree (README § 6.2): manifests/<ref>.json and blobs/<digest>.json, as-is. */
export function connaisseurRegistry(root: string, repo: string): MemoryRegistry {
  const reg = new MemoryRegistry();
  for (const f of readdirSync(join(root, 'manifests'))) reg.putManifest(repo, f.replace(/\.json$/, ''), readFileSync(join(root, 'manifests', f)));
  for (const f of readdirSync(join(root, 'blobs'))) reg.blobs.set(f.replace(/\.json$/, ''), readFileSync(join(root, 'blobs', f)));
  return reg;
}
