/**
 * Where the containers of an admitted object are: a Pod's spec, or the pod template of a workload controller
 * (apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet; batch/v1 Job and CronJob; core/v1
 * ReplicationController). Each container comes out with the JSON Pointer of its `image`, so a pin can be
 * patched in place. The object is wire data: anything that is not the shape the API documents is reported as
 * a MalformedObject, never guessed around (a container we cannot read is a container we cannot vouch for).
 */

export type ContainerField = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface WorkloadContainer {
  readonly field: ContainerField;
  readonly index: number;
  readonly name: string;
  /** As written; undefined when the field is absent or not a string (templates may omit it). */
  readonly image: string | undefined;
  /** As written; undefined when absent (requests that bypassed defaulting, e.g. bare samples). */
  readonly imagePullPolicy: string | undefined;
  /** RFC 6901 pointer to the `image` field in the admitted object. */
  readonly imagePointer: string;
}

export interface Workload {
  /** `Pod`, `Deployment`, … for messages. */
  readonly kind: WorkloadKind;
  readonly containers: readonly WorkloadContainer[];
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
  const containers: WorkloadContainer[] = [];
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
  return { kind, containers };
}

/** `metadata.deletionTimestamp` is set: the object is being deleted (finalizers pending). */
export function isBeingDeleted(object: unknown): boolean {
  const metadata = isObject(object) ? object.metadata : undefined;
  return isObject(metadata) && typeof metadata.deletionTimestamp === 'string' && metadata.deletionTimestamp.length > 0;
}

/** For messages: `container "app"`, `init container "setup"`, `ephemeral container "debugger"`. */
export function describeContainer(c: Pick<WorkloadContainer, 'field' | 'name'>): string {
  const kind = c.field === 'initContainers' ? 'init container' : c.field === 'ephemeralContainers' ? 'ephemeral container' : 'container';
  return `${kind} "${c.name}"`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
