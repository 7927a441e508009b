// The few distribution-API calls the harness needs to push and read test content. Deliberately
// independent of pullgate's own upstream client: the harness must not share bugs with the product.
import { createCipheriv, createHash } from 'node:crypto';
import { request } from 'node:http';
import { MEDIA, TAR_TRAILER_SIZE, sha256Digest, tarHeader } from './oci-build.ts';

/** distribution 2.8 answers 404 to OCI manifests unless Accept names the OCI type (REAL-PEERS §2). */
export const MANIFEST_ACCEPT = [
  MEDIA.manifest,
  MEDIA.index,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

async function fail(what: string, res: Response): Promise<never> {
  const body = (await res.text().catch(() => '')).slice(0, 500);
  throw new Error(`${what}: HTTP ${res.status} ${body}`);
}

function blobUrl(registryUrl: string, repo: string, digest: string): string {
  return `${registryUrl}/v2/${repo}/blobs/${digest}`;
}

export async function blobExists(registryUrl: string, repo: string, digest: string): Promise<boolean> {
  const res = await fetch(blobUrl(registryUrl, repo, digest), { method: 'HEAD' });
  return res.status === 200;
}

/** POST an upload session; returns the absolute upload URL (2.8 already sends an absolute Location). */
async function startUpload(registryUrl: string, repo: string): Promise<URL> {
  const res = await fetch(`${registryUrl}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (res.status !== 202) await fail(`POST ${registryUrl}/v2/${repo}/blobs/uploads/`, res);
  const location = res.headers.get('location');
  if (location === null) throw new Error(`POST ${repo}/blobs/uploads/: 202 without Location`);
  return new URL(location, registryUrl);
}

/** Monolithic upload (POST + PUT ?digest=). Skips the upload when the blob is already there. */
export async function pushBlob(registryUrl: string, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  if (await blobExists(registryUrl, repo, digest)) return digest;
  const upload = await startUpload(registryUrl, repo);
  upload.searchParams.set('digest', digest);
  const res = await fetch(upload, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (res.status !== 201) await fail(`PUT blob ${digest} to ${repo}`, res);
  return digest;
}

/** PUT a manifest or index by tag or digest with its media type; returns the registry's digest. */
export async function putManifest(registryUrl: string, repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  if (res.status !== 201) await fail(`PUT manifest ${repo}:${reference} (${mediaType})`, res);
  const digest = res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
  if (digest !== sha256Digest(bytes)) throw new Error(`PUT manifest ${repo}:${reference}: registry digest ${digest} != ${sha256Digest(bytes)}`);
  return digest;
}

export interface FetchedManifest {
  status: number;
  /** Raw body; empty unless status is 200. */
  bytes: Buffer;
  /** sha256 of the body, computed here (not trusted from the header). */
  digest: string;
  contentType: string | null;
  dockerContentDigest: string | null;
}

/** GET a manifest with OCI + Docker Accept types (override `accept` to test content negotiation). */
export async function getManifest(registryUrl: string, repo: string, reference: string, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${reference}`, { headers: { accept } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    bytes: res.status === 200 ? bytes : Buffer.alloc(0),
    digest: sha256Digest(bytes),
    contentType: res.headers.get('content-type'),
    dockerContentDigest: res.headers.get('docker-content-digest'),
  };
}

const CHUNK = 1 << 20;
const LARGE_FILE = 'large.bin';

/**
 * A valid uncompressed tar of exactly `size` bytes holding one file of AES-128-CTR keystream keyed by
 * the seed: incompressible, reproducible, and unpackable by containerd (so a bench can pull it whole).
 */
function* seededTar(seed: string, size: number): Generator<Buffer> {
  const fileSize = size - 512 - TAR_TRAILER_SIZE;
  yield tarHeader(LARGE_FILE, fileSize);
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = fileSize; left > 0; left -= CHUNK) yield cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
  yield Buffer.alloc(TAR_TRAILER_SIZE);
}

export interface LargeBlob {
  digest: string;
  size: number;
  /** application/vnd.oci.image.layer.v1.tar: uncompressed, so the blob digest is also its diff_id. */
  mediaType: string;
}

/**
 * Push a `sizeBytes` (default 64 MiB, a multiple of 512) layer blob of seeded random content,
 * streamed in 1 MiB chunks (never held in memory). The content is generated twice: once to learn
 * the digest, once to upload, because a monolithic PUT needs the digest up front.
 */
export async function pushLargeBlob(registryUrl: string, repo: string, sizeBytes = 64 * CHUNK, seed = 'pullgate-bench'): Promise<LargeBlob> {
  if (sizeBytes % 512 !== 0 || sizeBytes < 2048) throw new Error(`pushLargeBlob: size ${sizeBytes} must be a multiple of 512 and >= 2048`);
  const hash = createHash('sha256');
  for (const chunk of seededTar(seed, sizeBytes)) hash.update(chunk);
  const digest = `sha256:${hash.digest('hex')}`;
  const result = { digest, size: sizeBytes, mediaType: MEDIA.layerTar };
  if (await blobExists(registryUrl, repo, digest)) return result;
  const upload = await startUpload(registryUrl, repo);
  upload.searchParams.set('digest', digest);
  await new Promise<void>((resolve, reject) => {
    const req = request(upload, {
      method: 'PUT',
      agent: false,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(sizeBytes) },
    }, (res) => {
      const body: Buffer[] = [];
      res.on('data', (b: Buffer) => body.push(b));
      res.on('end', () => res.statusCode === 201
        ? resolve()
        : reject(new Error(`PUT large blob ${digest} to ${repo}: HTTP ${res.statusCode} ${Buffer.concat(body).toString().slice(0, 500)}`)));
    });
    req.on('error', reject);
    const chunks = seededTar(seed, sizeBytes);
    const pump = (): void => {
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        if (!req.write(next.value)) { req.once('drain', pump); return; }
      }
      req.end();
    };
    pump();
  });
  return result;
}
