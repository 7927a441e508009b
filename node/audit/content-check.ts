/**
 * Is the image containerd holds whole? The manifest is read and hashed (node/containerd/client.ts readContent);
 * here the blobs it references are looked up with Content/Info, without reading them. An image whose content
 * was partly garbage-collected or damaged is denied with the blob named — never allowed, never a crash:
 * - the config, and each platform manifest of an index that is present, must be there with their recorded size;
 * - a layer must be there when containerd was told to keep it: the manifest carries the GC reference label
 *   `containerd.io/gc.ref.content.l.<i>` for it (containerd docs/garbage-collection.md). CRI's
 *   `discard_unpacked_layers` pulls drop those labels on purpose, and their layers are not missing, only
 *   unpacked — so they are not checked.
 * Sizes that differ from the descriptor mean the blob is not what the manifest names (content_corrupt).
 */
import type { ContainerdClient } from '../containerd/client.ts';

export type ContentProblemReason = 'content_missing' | 'content_corrupt' | 'content_too_large' | 'content_incomplete' | 'manifest_invalid';

export interface ContentProblem {
  readonly reason: ContentProblemReason;
  readonly message: string;
}

/** Bounds: an index's platform manifests, a manifest's layers (Linux overlay stacks stop at 128 lower dirs). */
const MAX_CHILDREN = 64;
const MAX_LAYERS = 256;

interface Descriptor { digest: string; size: number }
interface Doc { config?: unknown; layers?: unknown; manifests?: unknown }

export async function checkContent(client: ContainerdClient, ns: string, digest: string, bytes: Buffer, maxBytes: number): Promise<ContentProblem | undefined> {
  const doc = parse(bytes);
  if (doc === undefined) return { reason: 'manifest_invalid', message: `manifest ${digest} is not a JSON object` };
  if (Array.isArray(doc.manifests)) return checkIndex(client, ns, digest, doc.manifests, maxBytes);
  return checkManifest(client, ns, digest, doc);
}

async function checkIndex(client: ContainerdClient, ns: string, digest: string, children: unknown[], maxBytes: number): Promise<ContentProblem | undefined> {
  if (children.length > MAX_CHILDREN) return { reason: 'manifest_invalid', message: `index ${digest} lists ${children.length} manifests (more than ${MAX_CHILDREN})` };
  let present = 0;
  for (const [i, child] of children.entries()) {
    const d = descriptor(child);
    if (d === undefined) return { reason: 'manifest_invalid', message: `index ${digest}: manifests[${i}] has no digest and size` };
    // containerd fetches only the platforms it pulls: an absent child is normal, a damaged one is not.
    const info = await client.contentInfo(ns, d.digest);
    if (!info.ok) continue;
    if (info.size !== d.size) return sizeMismatch(`platform manifest ${d.digest} of index ${digest}`, info.size, d.size);
    const read = await client.readContent(ns, d.digest, maxBytes);
    if (!read.ok) return { reason: read.reason, message: `platform manifest of index ${digest}: ${read.message}` };
    const doc = parse(read.bytes);
    if (doc === undefined || Array.isArray(doc.manifests)) return { reason: 'manifest_invalid', message: `platform manifest ${d.digest} of index ${digest} is not an image manifest` };
    const problem = await checkManifest(client, ns, d.digest, doc);
    if (problem !== undefined) return problem;
    present++;
  }
  if (present === 0) return { reason: 'content_incomplete', message: `none of the ${children.length} platform manifests of index ${digest} is in containerd's content store (garbage-collected)` };
  return undefined;
}

async function checkManifest(client: ContainerdClient, ns: string, digest: string, doc: Doc): Promise<ContentProblem | undefined> {
  const config = descriptor(doc.config);
  const layers = Array.isArray(doc.layers) ? doc.layers : [];
  if (config === undefined) return { reason: 'manifest_invalid', message: `manifest ${digest} has no config descriptor` };
  if (layers.length > MAX_LAYERS) return { reason: 'manifest_invalid', message: `manifest ${digest} lists ${layers.length} layers (more than ${MAX_LAYERS})` };
  const self = await client.contentInfo(ns, digest);
  if (!self.ok) return { reason: 'content_missing', message: self.message };
  const configInfo = await client.contentInfo(ns, config.digest);
  if (!configInfo.ok) return { reason: 'content_incomplete', message: `config ${config.digest} of manifest ${digest} is missing from containerd's content store (partly garbage-collected)` };
  if (configInfo.size !== config.size) return sizeMismatch(`config ${config.digest} of manifest ${digest}`, configInfo.size, config.size);
  for (const [i, layer] of layers.entries()) {
    const d = descriptor(layer);
    if (d === undefined) return { reason: 'manifest_invalid', message: `manifest ${digest}: layers[${i}] has no digest and size` };
    if (self.labels.get(`containerd.io/gc.ref.content.l.${i}`) !== d.digest) continue; // not kept on purpose
    const info = await client.contentInfo(ns, d.digest);
    if (!info.ok) return { reason: 'content_incomplete', message: `layer ${i} (${d.digest}) of manifest ${digest} is missing from containerd's content store (partly garbage-collected); the next pull fetches it again` };
    if (info.size !== d.size) return sizeMismatch(`layer ${i} (${d.digest}) of manifest ${digest}`, info.size, d.size);
  }
  return undefined;
}

function sizeMismatch(what: string, stored: number, expected: number): ContentProblem {
  return { reason: 'content_corrupt', message: `${what} is ${stored} bytes in containerd's content store, the manifest says ${expected}` };
}

function parse(bytes: Buffer): Doc | undefined {
  try {
    const doc: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Doc) : undefined;
  } catch {
    return undefined;
  }
}

function descriptor(value: unknown): Descriptor | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { digest, size } = value as { digest?: unknown; size?: unknown };
  return typeof digest === 'string' && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { digest, size } : undefined;
}
