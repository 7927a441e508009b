/**
 * Image-bearing fields of a pod spec that pullgate does not read. The webhook vouches only for the images it
 * checked; a field that names an image it does not understand — a key added by a newer Kubernetes, a CSI
 * driver's `volumeAttributes.image` (image-populating drivers pull through the node's runtime), an unknown
 * key under an image volume — could start a pull the rules never saw, so the object is denied rather than
 * the field ignored (issue 12, item 3).
 *
 * What counts as image-bearing: any object key whose name contains `image` (any case), anywhere in the pod
 * spec, and any key of a volume's `image` other than `reference` and `pullPolicy` (core/v1
 * ImageVolumeSource). Understood, and so not reported: a container's `image` and `imagePullPolicy` (all three
 * container lists), the pod's `imagePullSecrets` (secret names), a volume's `image`, and `rbd.image` (a Ceph
 * RADOS block image name, RBDVolumeSource, not an OCI reference). Not searched, because their keys are label
 * names or resource names chosen by users rather than API fields: `metadata`, `nodeSelector`, `matchLabels`,
 * `limits`, `requests`, `overhead`.
 */

/** Keys that hold user-chosen names (labels, annotations, resource names), never API fields. */
const FREE_FORM: ReadonlySet<string> = new Set(['metadata', 'nodeSelector', 'matchLabels', 'limits', 'requests', 'overhead']);
const CONTAINER_LISTS: ReadonlySet<string> = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const CONTAINER_IMAGE_KEYS: ReadonlySet<string> = new Set(['image', 'imagePullPolicy']);
const IMAGE_VOLUME_KEYS: ReadonlySet<string> = new Set(['reference', 'pullPolicy']);
/** More findings than this and the message would only get longer; the object is denied either way. */
const MAX_FINDINGS = 10;
const IMAGE_KEY = /image/i;

export interface UnknownImageField {
  /** Dotted path in the admitted object, e.g. `spec.volumes[0].image.platform`. */
  readonly path: string;
  /** The field's value as written (an UPDATE that leaves it unchanged is not judged on it again). */
  readonly value: unknown;
}

/** What an object in the walk is, which decides which image keys in it are understood. */
type Role = 'spec' | 'container' | 'volume' | 'volumeImage' | 'rbd' | 'other';

/**
 * Dotted paths of the image-bearing fields of `spec` (a PodSpec, or the legacy EphemeralContainers object)
 * that pullgate does not read. `at` is the spec's own path (`spec.template.spec`; '' for the object itself).
 * Iterative, so an object nested thousands of levels deep cannot overflow the stack; its size is already
 * bounded by `webhook.maxBodyBytes`.
 */
export function unknownImageFields(spec: Record<string, unknown>, at: string): UnknownImageField[] {
  const found: UnknownImageField[] = [];
  const stack: { value: unknown; path: string; role: Role }[] = [{ value: spec, path: at, role: 'spec' }];
  while (stack.length > 0 && found.length < MAX_FINDINGS) {
    const { value, path, role } = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, role });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (found.length >= MAX_FINDINGS) break;
      const childPath = path === '' ? key : `${path}.${key}`;
      if (role === 'volumeImage') {
        // Inside a volume's `image` every key matters: a future `platform` or `digest` would change what is pulled.
        if (!IMAGE_VOLUME_KEYS.has(key)) found.push({ path: childPath, value: child });
        continue;
      }
      if (FREE_FORM.has(key)) continue;
      const next = childRole(role, key);
      if (next === 'unknown') {
        found.push({ path: childPath, value: child });
        continue;
      }
      if (next !== 'understood' && typeof child === 'object' && child !== null) stack.push({ value: child, path: childPath, role: next });
    }
  }
  return found;
}

/** The role of `key`'s value inside an object of `role`; `understood` for a known image field, `unknown` for any other. */
function childRole(role: Role, key: string): Role | 'understood' | 'unknown' {
  if (role === 'spec') {
    if (CONTAINER_LISTS.has(key)) return 'container';
    if (key === 'volumes') return 'volume';
    if (key === 'imagePullSecrets') return 'understood';
  } else if (role === 'container') {
    if (CONTAINER_IMAGE_KEYS.has(key)) return 'understood';
  } else if (role === 'volume') {
    if (key === 'image') return 'volumeImage';
    if (key === 'rbd') return 'rbd';
  } else if (role === 'rbd') {
    if (key === 'image') return 'understood';
  }
  return IMAGE_KEY.test(key) ? 'unknown' : 'other';
}
