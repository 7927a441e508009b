/**
 * The node audit (issue 15): what containerd already holds, decided against today's policy. Images are grouped by
 * repository and manifest digest (one decision per pair, every name and namespace listed); the manifest bytes come
 * from containerd's content store, verified against their digest, and the signatures from the registry — through
 * the same PolicyEngine the mirror uses. Every failure to know is a deny with its reason, never an allow.
 */
import type { Decision, ImageTarget } from '../../policy/decision.ts';
import { parseDigest } from '../../oci/digest.ts';
import { canonicalRegistryHost } from '../../oci/names.ts';
import type { ContainerdClient } from '../containerd/client.ts';
import { checkContent } from './content-check.ts';
import { listInventory, type InventoryImage, type InventoryUse } from './inventory.ts';

export type AuditAction = 'kept' | 'removed' | 'in_use' | 'remove_failed';

export interface AuditEntry {
  readonly references: string[];
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly verdict: 'allow' | 'deny';
  readonly reason: string;
  readonly message: string;
  readonly namespaces: string[];
  readonly containers: string[];
  readonly running: boolean;
  /** CRI's image id (config digest) when kubelet's namespace holds the image: what CRI containers refer to. */
  readonly criImageId?: string;
  action?: AuditAction;
  actionMessage?: string;
}

export interface AuditDeps {
  readonly client: ContainerdClient;
  /** undefined when the registry is not configured: the image can never pass. */
  decide(registry: string, target: ImageTarget): Promise<Decision> | undefined;
  readonly manifestMaxBytes: number;
  /** Image name → registry and repository, normalised as containerd does (cli/verify.ts parseReference); throws when invalid. */
  parseName(name: string): { registry: string; repository: string };
}

const BARE_ID = /^sha256:[0-9a-f]{64}$/;

interface Group { registry: string; repository: string; digest: string; mediaType: string; records: InventoryImage[] }

export async function auditImages(deps: AuditDeps): Promise<AuditEntry[]> {
  const { images: records, uses } = await listInventory(deps.client);
  const groups = new Map<string, Group>();
  const entries: AuditEntry[] = [];
  for (const r of records) {
    if (BARE_ID.test(r.name)) continue; // CRI's image-id alias: covered by the named record with the same target
    let parsed;
    try {
      parsed = deps.parseName(r.name);
    } catch (err) {
      entries.push(entry({ registry: '', repository: '', digest: r.digest, mediaType: r.mediaType, records: [r] }, 'deny', 'unparseable_reference', (err as Error).message, []));
      continue;
    }
    const key = `${parsed.registry}/${parsed.repository}@${r.digest}`;
    const g = groups.get(key) ?? { registry: parsed.registry, repository: parsed.repository, digest: r.digest, mediaType: r.mediaType, records: [] };
    g.records.push(r);
    groups.set(key, g);
  }
  for (const g of groups.values()) entries.push(await decideGroup(deps, g, uses));
  // An image known only by its id (every name removed, e.g. a tag moved away and its repo digest deleted) has no
  // repository to look up signatures in: it cannot pass, but it must not vanish from the report either.
  const named = new Set([...groups.values()].map((g) => g.digest));
  const unnamed = new Map<string, InventoryImage[]>();
  for (const r of records) if (BARE_ID.test(r.name) && !named.has(r.digest)) unnamed.set(r.digest, [...(unnamed.get(r.digest) ?? []), r]);
  for (const [digest, rs] of unnamed) {
    const g: Group = { registry: '', repository: '', digest, mediaType: rs[0]!.mediaType, records: rs };
    const criIds = new Set(rs.flatMap((r) => (r.criImageId === undefined ? [] : [r.criImageId])));
    entries.push(entry(g, 'deny', 'unnamed_image', `known only by its image id ${rs[0]!.name}: no repository to fetch signatures from`, uses.filter((u) => (u.imageId !== undefined && criIds.has(u.imageId)) || u.image === rs[0]!.name)));
  }
  return entries;
}

async function decideGroup(deps: AuditDeps, g: Group, uses: InventoryUse[]): Promise<AuditEntry> {
  const ns = g.records[0]!.namespace;
  const names = new Set(g.records.map((r) => r.name));
  const criIds = new Set(g.records.flatMap((r) => (r.criImageId === undefined ? [] : [r.criImageId])));
  // Which containers use it: CRI containers by the image id CRI resolved; others by name or manifest digest.
  const users = uses.filter((u) => (u.imageId !== undefined && criIds.has(u.imageId)) || names.has(u.image) || u.image === g.digest || u.image.endsWith(`@${g.digest}`));
  const deny = (reason: string, message: string) => entry(g, 'deny', reason, message, users);
  if (g.digest === '') return deny('image_unresolved', `CRI lists ${[...names].join(', ')} but containerd records no target for it`);
  const digest = parseDigest(g.digest);
  if (!digest.ok) return deny('invalid_digest', `containerd records target ${JSON.stringify(g.digest)}: ${digest.reason}`);
  const content = await deps.client.readContent(ns, g.digest, deps.manifestMaxBytes);
  if (!content.ok) return deny(content.reason, content.message);
  const problem = await checkContent(deps.client, ns, g.digest, content.bytes, deps.manifestMaxBytes);
  if (problem !== undefined) return deny(problem.reason, problem.message);
  const mediaType = g.mediaType || mediaTypeOf(content.bytes);
  const target: ImageTarget = { registry: g.registry, repository: g.repository, reference: g.digest, digest: digest.digest, mediaType, size: content.bytes.length, bytes: content.bytes };
  const pending = deps.decide(g.registry, target);
  if (pending === undefined) return deny('registry_not_configured', `registry ${g.registry} is not mirrored by pullgate (add it to "registries")`);
  let decision: Decision;
  try {
    decision = await pending;
  } catch (err) {
    return deny('verification_error', `internal error during verification: ${(err as Error).message}`);
  }
  return entry(g, decision.allow ? 'allow' : 'deny', decision.reason, decision.message, users);
}

/** A manifest's own mediaType field, for names CRI listed without a containerd descriptor. */
function mediaTypeOf(bytes: Buffer): string {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    return typeof doc.mediaType === 'string' ? doc.mediaType : '';
  } catch {
    return '';
  }
}

function entry(g: Group, verdict: 'allow' | 'deny', reason: string, message: string, users: InventoryUse[]): AuditEntry {
  const criImageId = g.records.find((r) => r.criImageId !== undefined)?.criImageId;
  return {
    references: [...new Set(g.records.map((r) => r.name))].sort(),
    registry: g.registry ? canonicalRegistryHost(g.registry) : '',
    repository: g.repository,
    digest: g.digest,
    verdict,
    reason,
    message,
    namespaces: [...new Set(g.records.map((r) => r.namespace))].sort(),
    containers: users.map((u) => `${u.namespace}/${u.name || u.id}${u.running ? '' : ' (not running)'}`),
    running: users.some((u) => u.running),
    ...(criImageId === undefined ? {} : { criImageId }),
  };
}

/**
 * --remove: delete every name of a denied image (and CRI's bare-id alias for the same target in that namespace),
 * unless a running container uses it — then report in_use and keep it, so no running workload loses its image.
 */
export async function removeDenied(client: ContainerdClient, entries: AuditEntry[]): Promise<void> {
  for (const e of entries) {
    if (e.verdict === 'allow') { e.action = 'kept'; continue; }
    if (e.running) { e.action = 'in_use'; e.actionMessage = `kept: used by ${e.containers.join(', ')}`; continue; }
    try {
      for (const ns of e.namespaces) {
        const present = await client.images(ns);
        const names = new Set(e.references);
        for (const r of present) if (BARE_ID.test(r.name) && r.digest === e.digest) names.add(r.name);
        for (const name of names) if (present.some((r) => r.name === name)) await client.deleteImage(ns, name);
      }
      e.action = 'removed';
    } catch (err) {
      e.action = 'remove_failed';
      e.actionMessage = (err as Error).message;
    }
  }
}
