/**
 * Where the images of an admitted object are: a Pod's spec, or the pod template of a workload controller
 * (apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet; batch/v1 Job and CronJob; core/v1
 * ReplicationController). The kubelet pulls an image for every container, init container and ephemeral
 * container, and for every image volume (`volumes[].image`, KEP-4639 "ImageVolume": `{reference, pullPolicy}`,
 * pulled through CRI like a container image). Each comes out with the JSON Pointer of its reference, so a pin
 * can be patched in place. The object is wire data: anything that is not the shape the API documents is
 * reported as a MalformedObject, never guessed around (an image we cannot read is an image we cannot vouch
 * for), and image-bearing fields this file does not know are listed (image-fields.ts) so the rules deny them.
 */
import { unknownImageFields, type UnknownImageField } from './image-fields.ts';

export type ContainerField = 'containers' | 'initContainers' | 'ephemeralContainers';
/** Where an image is named: a container list, or `volumes` (an image volume). */
export type ImageField = ContainerField | 'volumes';

/** One image the kubelet would pull for the object: a container's or an image volume's. */
export interface WorkloadImage {
  readonly field: ImageField;
  readonly index: number;
  /** The container's or the volume's name. */
  readonly name: string;
  /** As written; undefined when the field is absent or not a string (templates may omit it). */
  readonly image: string | undefined;
  /** `imagePullPolicy`, or a volume's `image.pullPolicy`, as written; undefined when absent. */
  readonly imagePullPolicy: string | undefined;
  /** RFC 6901 pointer to the image reference (`…/image`, or `…/volumes/i/image/reference`) in the object. */
  readonly imagePointer: string;
}

export interface Workload {
  /** `Pod`, `Deployment`, … for messages. */
  readonly kind: WorkloadKind;
  /** Containers (init, regular, ephemeral) and then image volumes, in that order. */
  readonly containers: readonly WorkloadImage[];
  /**
   * Fields that look image-bearing but that pullgate does not read (image-fields.ts); the rules deny the
   * object rather than let an image through unchecked.
   */
  readonly unknownImageFields: readonly UnknownImageField[];
}

export type WorkloadKind = 'Pod' | 'EphemeralContainers' | 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicationController';

export class MalformedObject extends Error {
  readonly code = 'MALFORMED_OBJECT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'MalformedObject';
  }
}

/** Where the PodSpec sits in each kind (the Kubernetes API reference, "PodTemplateSpec" fields). */
const POD_SPEC_PATHS: Readonly<Record<WorkloadKind, readonly string[]>> = {
  Pod: ['spec'],
  // The pods/ephemeralcontainers subresource of Kubernetes 1.16–1.22 took this kind, its list at top level.
  EphemeralContainers: [],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** API groups each kind is served from; `extensions` and old betas still appear in older clusters' reviews. */
const GROUPS: Readonly<Record<WorkloadKind, readonly string[]>> = {
  Pod: [''],
  EphemeralContainers: [''],
  ReplicationController: [''],
  Deployment: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  DaemonSet: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  Job: ['batch'],
  CronJob: ['batch'],
};

/** The workload kind of a GroupVersionKind, or undefined for kinds that carry no pod spec. */
export function workloadKind(group: string, kind: string): WorkloadKind | undefined {
  if (!Object.hasOwn(GROUPS, kind)) return undefined;
  const k = kind as WorkloadKind;
  return GROUPS[k].includes(group) ? k : undefined;
}

const FIELDS: readonly ContainerField[] = ['initContainers', 'containers', 'ephemeralContainers'];

export function extractWorkload(kind: WorkloadKind, object: unknown): Workload {
  let spec: unknown = object;
  const walked: string[] = [];
  if (!isObject(object)) throw new MalformedObject(`the ${kind} object is missing or not an object`);
  for (const key of POD_SPEC_PATHS[kind]) {
    walked.push(key);
    spec = isObject(spec) ? spec[key] : undefined;
    if (!isObject(spec)) throw new MalformedObject(`the ${kind} object has no ${walked.join('.')}`);
  }
  const base = POD_SPEC_PATHS[kind].map((k) => `/${k}`).join('');
  const containers: WorkloadImage[] = [];
  const specObject = spec as Record<string, unknown>;
  for (const field of FIELDS) {
    const list = specObject[field];
    const where = [...walked, field].join('.');
    if (list === undefined || list === null) {
      // A Pod must have containers (PodSpec: "There must be at least one container in a Pod").
      if (field === 'containers' && kind !== 'EphemeralContainers') throw new MalformedObject(`the ${kind} object has no ${where}`);
      continue;
    }
    if (!Array.isArray(list)) throw new MalformedObject(`${where} of the ${kind} object is not a list`);
    list.forEach((c: unknown, index) => {
      if (!isObject(c)) throw new MalformedObject(`${where}[${index}] of the ${kind} object is not an object`);
      const name = typeof c.name === 'string' && c.name.length > 0 ? c.name : `#${index}`;
      containers.push({
        field,
        index,
        name,
        image: typeof c.image === 'string' ? c.image : undefined,
        imagePullPolicy: typeof c.imagePullPolicy === 'string' && c.imagePullPolicy.length > 0 ? c.imagePullPolicy : undefined,
        imagePointer: `${base}/${field}/${index}/image`,
      });
    });
  }
  containers.push(...imageVolumes(kind, specObject, walked, base));
  return { kind, containers, unknownImageFields: unknownImageFields(specObject, walked.join('.')) };
}

/**
 * `volumes[i].image`: the image volumes. A volume without `image` is some other source (configMap, emptyDir,
 * …) and pulls nothing. `reference` may be absent in a template, as a container's `image` may ("optional to
 * allow higher level config management to default or override"); the rules deny that as "no image".
 */
function imageVolumes(kind: WorkloadKind, spec: Record<string, unknown>, walked: readonly string[], base: string): WorkloadImage[] {
  const list = spec.volumes;
  const where = [...walked, 'volumes'].join('.');
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new MalformedObject(`${where} of the ${kind} object is not a list`);
  const out: WorkloadImage[] = [];
  list.forEach((v: unknown, index) => {
    if (!isObject(v)) throw new MalformedObject(`${where}[${index}] of the ${kind} object is not an object`);
    const source = v.image;
    if (source === undefined || source === null) return;
    if (!isObject(source)) throw new MalformedObject(`${where}[${index}].image of the ${kind} object is not an object`);
    const name = typeof v.name === 'string' && v.name.length > 0 ? v.name : `#${index}`;
    out.push({
      field: 'volumes',
      index,
      name,
      image: typeof source.reference === 'string' ? source.reference : undefined,
      imagePullPolicy: typeof source.pullPolicy === 'string' && source.pullPolicy.length > 0 ? source.pullPolicy : undefined,
      imagePointer: `${base}/volumes/${index}/image/reference`,
    });
  });
  return out;
}

/** `metadata.deletionTimestamp` is set: the object is being deleted (finalizers pending). */
export function isBeingDeleted(object: unknown): boolean {
  const metadata = isObject(object) ? object.metadata : undefined;
  return isObject(metadata) && typeof metadata.deletionTimestamp === 'string' && metadata.deletionTimestamp.length > 0;
}

/** For messages: `container "app"`, `init container "setup"`, `ephemeral container "debugger"`, `volume "data"`. */
export function describeContainer(c: Pick<WorkloadImage, 'field' | 'name'>): string {
  const kind = DESCRIPTIONS[c.field];
  return `${kind} "${c.name}"`;
}

const DESCRIPTIONS: Readonly<Record<ImageField, string>> = {
  containers: 'container',
  initContainers: 'init container',
  ephemeralContainers: 'ephemeral container',
  volumes: 'volume',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
