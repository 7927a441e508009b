/**
 * Test-only in-memory registry implementing the policy layer's ArtifactFetcher: manifests by digest and tag,
 * blobs by digest, and either a Referrers API (computed from the manifests' `subject`, filtered by artifactType,
 * paged) or none (then discovery falls back to the `sha256-<hex>` tag). Loads OCI image-layout directories the
 * way a registry holds them after `oras copy` (vectors README §1). Failures can be injected per call.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FetchError, type ArtifactFetcher, type ManifestLookup, type ReferrersPage } from '../../../oci/discovery/fetcher.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Stored {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly doc: Record<string, any>;
}

export interface MemoryRegistryOptions {
  /** Serve a Referrers API (default true); false: 404, as distribution 2.8. */
  readonly referrersApi?: boolean;
  /** Descriptors per referrers page (default: all on one page). */
  readonly pageSize?: number;
}

export type CallKind = 'referrers' | 'manifest' | 'blob';

export class MemoryRegistry implements ArtifactFetcher {
  readonly manifests = new Map<string, Stored>();
  readonly tags = new Map<string, string>();
  readonly blobs = new Map<string, Buffer>();
  referrersApi: boolean;
  pageSize: number;
  readonly calls: Record<CallKind, number> = { referrers: 0, manifest: 0, blob: 0 };
  /** Return a FetchError to make that call fail. */
  fail: ((kind: CallKind, ref: string) => FetchError | undefined) | undefined;

  constructor(opts: MemoryRegistryOptions = {}) {
    this.referrersApi = opts.referrersApi ?? true;
    this.pageSize = opts.pageSize ?? 1_000_000;
  }

  static fromLayout(dir: string, opts: MemoryRegistryOptions = {}): MemoryRegistry {
    const reg = new MemoryRegistry(opts);
    const blobDir = join(dir, 'blobs', 'sha256');
    for (const name of readdirSync(blobDir)) {
      const bytes = readFileSync(join(blobDir, name));
      reg.blobs.set(`sha256:${name}`, bytes);
      let doc: unknown;
      try {
        doc = JSON.parse(bytes.toString('utf8'));
      } catch {
        continue;
      }
      const d = doc as Record<string, any>;
      if (d && typeof d === 'object' && d['schemaVersion'] === 2 && (d['mediaType'] === OCI_MANIFEST || d['mediaType'] === OCI_INDEX || Array.isArray(d['layers']) || Array.isArray(d['manifests']))) {
        reg.manifests.set(`sha256:${name}`, { bytes, mediaType: d['mediaType'] ?? (Array.isArray(d['manifests']) ? OCI_INDEX : OCI_MANIFEST), doc: d });
      }
    }
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    for (const m of index.manifests) {
      const tag = m.annotations?.['org.opencontainers.image.ref.name'];
      if (tag !== undefined) reg.tags.set(tag, m.digest);
    }
    return reg;
  }

  putBlob(bytes: Uint8Array): string {
    const digest = sha256(bytes);
    this.blobs.set(digest, Buffer.from(bytes));
    return digest;
  }

  putManifest(doc: object | Uint8Array, tag?: string): { digest: string; size: number; mediaType: string; bytes: Buffer } {
    const bytes = Buffer.from(doc instanceof Uint8Array ? doc : JSON.stringify(doc));
    const parsed = JSON.parse(bytes.toString('utf8')) as Record<string, any>;
    const mediaType = parsed['mediaType'] ?? OCI_MANIFEST;
    const digest = sha256(bytes);
    this.manifests.set(digest, { bytes, mediaType, doc: parsed });
    if (tag !== undefined) this.tags.set(tag, digest);
    return { digest, size: bytes.length, mediaType, bytes };
  }

  /** The manifest a tag (or digest) names. */
  resolve(ref: string): { digest: string; bytes: Buffer; mediaType: string } {
    const digest = ref.includes(':') ? ref : this.tags.get(ref);
    const m = digest === undefined ? undefined : this.manifests.get(digest);
    if (digest === undefined || m === undefined) throw new Error(`no manifest ${ref}`);
    return { digest, bytes: m.bytes, mediaType: m.mediaType };
  }

  /** The referrers index the Referrers API would answer (every page). */
  referrersOf(subject: string, artifactType?: string): object[] {
    const out: object[] = [];
    for (const [digest, m] of this.manifests) {
      if (m.doc['subject']?.digest !== subject) continue;
      const type = m.doc['artifactType'] ?? m.doc['config']?.mediaType;
      if (artifactType !== undefined && type !== artifactType) continue;
      out.push({ mediaType: m.mediaType, digest, size: m.bytes.length, ...(type ? { artifactType: type } : {}), ...(m.doc['annotations'] ? { annotations: m.doc['annotations'] } : {}) });
    }
    return out;
  }

  async referrers(repository: string, subject: string, artifactType: string, next?: string): Promise<ReferrersPage> {
    this.calls.referrers++;
    const injected = this.fail?.('referrers', next ?? subject);
    if (injected) throw injected;
    if (!this.referrersApi) return { supported: false };
    const all = this.referrersOf(subject, artifactType);
    const page = next === undefined ? 0 : Number(new URL(next, 'http://x').searchParams.get('page'));
    const slice = all.slice(page * this.pageSize, (page + 1) * this.pageSize);
    const more = (page + 1) * this.pageSize < all.length;
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: slice }));
    return { supported: true, bytes, next: more ? `/v2/${repository}/referrers/${subject}?page=${page + 1}` : undefined };
  }

  async manifest(_repository: string, reference: string, _accept: readonly string[], maxBytes: number): Promise<ManifestLookup> {
    this.calls.manifest++;
    const injected = this.fail?.('manifest', reference);
    if (injected) throw injected;
    const digest = reference.includes(':') ? reference : this.tags.get(reference);
    const m = digest === undefined ? undefined : this.manifests.get(digest);
    if (m === undefined) return { found: false };
    if (m.bytes.length > maxBytes) throw new FetchError('TOO_LARGE', `manifest ${reference} exceeds ${maxBytes} bytes`);
    return { found: true, bytes: m.bytes, mediaType: m.mediaType };
  }

  async blob(_repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    this.calls.blob++;
    const injected = this.fail?.('blob', digest);
    if (injected) throw injected;
    const b = this.blobs.get(digest);
    if (b === undefined) throw new FetchError('INVALID_RESPONSE', `blob ${digest} unknown (HTTP 404)`);
    if (b.length > maxBytes) throw new FetchError('TOO_LARGE', `blob ${digest} exceeds ${maxBytes} bytes`);
    return b;
  }
}
