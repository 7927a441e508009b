/**
 * What the audit looks at: every image name in every containerd namespace, and every container that could use
 * one. Kubelet's namespace k8s.io is read through CRI as well (runtime.v1 ImageService/ListImages): CRI knows
 * each image by its id (the config digest), and that id is what CRI containers record as their image_ref —
 * so "which containers use it" is CRI's answer, not a guess from the content store, and it holds even when the
 * manifest itself is gone. containerd's images API stays the source of the manifest digest each name points to
 * (CRI does not report it for tags) and of the other namespaces.
 */
import type { ContainerdClient, ContainerUse, StoredImage } from '../containerd/client.ts';

export const KUBELET_NAMESPACE = 'k8s.io';

export interface InventoryImage extends StoredImage {
  /** CRI's image id (config digest) for names in k8s.io that CRI lists. */
  readonly criImageId?: string;
}

export interface InventoryUse extends ContainerUse {
  /** CRI containers: the CRI image id their image_ref resolves to (ImageStatus), when CRI still has it. */
  readonly imageId?: string;
}

export interface Inventory {
  readonly images: InventoryImage[];
  readonly uses: InventoryUse[];
}

const REPO_DIGEST = /@(sha256:[0-9a-f]{64})$/;
/** Distinct image refs resolved through ImageStatus per pass; more containers than this share refs in practice. */
const MAX_STATUS_LOOKUPS = 4096;

export async function listInventory(client: ContainerdClient): Promise<Inventory> {
  const images: InventoryImage[] = [];
  const uses: InventoryUse[] = [];
  const cri = await client.criContainers();
  const criIds = new Set(cri.map((c) => c.id));
  for (const ns of await client.namespaces()) {
    if (ns === KUBELET_NAMESPACE) images.push(...(await kubeletImages(client)));
    else images.push(...(await client.images(ns)));
    // In k8s.io, containerd containers that are not CRI containers were made by hand (ctr -n k8s.io run): users
    // too, state unknown (kept by --remove). Pod sandboxes are there as well, but 1.6 records no image on them.
    uses.push(...(await client.containers(ns)).filter((c) => ns !== KUBELET_NAMESPACE || !criIds.has(c.id)));
  }
  uses.push(...(await resolveCriUses(client, cri, images)));
  return { images, uses };
}

/** containerd's names in k8s.io, each with CRI's image id; names CRI lists that containerd did not (a race) too. */
async function kubeletImages(client: ContainerdClient): Promise<InventoryImage[]> {
  const stored = await client.images(KUBELET_NAMESPACE);
  const cri = await client.criImages();
  if (cri === undefined) return stored; // no CRI plugin: containerd's view is all there is
  const idOf = new Map<string, string>();
  for (const img of cri) for (const name of [img.id, ...img.repoTags, ...img.repoDigests]) idOf.set(name, img.id);
  const out: InventoryImage[] = stored.map((r) => {
    const criImageId = idOf.get(r.name);
    return criImageId === undefined ? r : { ...r, criImageId };
  });
  const known = new Set(stored.map((r) => r.name));
  for (const img of cri) {
    for (const name of [...img.repoTags, ...img.repoDigests]) {
      if (known.has(name)) continue;
      // A repo digest names its manifest; a tag containerd no longer lists has no known target (denied as such).
      out.push({ namespace: KUBELET_NAMESPACE, name, mediaType: '', digest: REPO_DIGEST.exec(name)?.[1] ?? '', size: 0, criImageId: img.id });
    }
  }
  return out;
}

/**
 * CRI containers with the image id their image_ref names: containerd 1.6 records the id itself; other runtimes
 * may record a repo digest or a tag, which ImageStatus resolves the way kubelet would.
 */
async function resolveCriUses(client: ContainerdClient, cri: ContainerUse[], images: InventoryImage[]): Promise<InventoryUse[]> {
  const ids = new Set(images.flatMap((i) => (i.criImageId === undefined ? [] : [i.criImageId])));
  const resolved = new Map<string, string | undefined>();
  const out: InventoryUse[] = [];
  for (const use of cri) {
    let imageId: string | undefined = ids.has(use.image) ? use.image : resolved.get(use.image);
    if (imageId === undefined && !resolved.has(use.image) && use.image !== '' && resolved.size < MAX_STATUS_LOOKUPS) {
      imageId = (await client.criImageStatus(use.image))?.id || undefined;
      resolved.set(use.image, imageId);
    }
    out.push(imageId === undefined ? use : { ...use, imageId });
  }
  return out;
}
