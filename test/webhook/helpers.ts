/**
 * An in-process `pullgate webhook` on loopback (plain HTTP, ephemeral port) with captured JSON logs, and
 * helpers to send AdmissionReviews and read the answers, for the webhook tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildConfig } from '../../config/load.ts';
import { startWebhook, type RunningWebhook, type WebhookStartOptions } from '../../cli/webhook.ts';
import { createLogger } from '../../telemetry/logger.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CONNAISSEUR = join(ROOT, 'test/vectors/connaisseur/test/testdata/admission_requests');
export const KUBEWARDEN = join(ROOT, 'test/vectors/kubewarden-verify-image-signatures/test_data');

export interface TestWebhook {
  readonly webhook: RunningWebhook;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  post(path: string, body: string | object): Promise<{ status: number; text: string; json: AdmissionReviewAnswer | undefined }>;
  /** POST an AdmissionReview and return its `response` (fails the caller if the status is not 200). */
  review(path: string, review: object): Promise<AdmissionResponse>;
  metric(name: string, labels: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: string;
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewAnswer {
  apiVersion: string;
  kind: string;
  response: AdmissionResponse;
}

export async function startTestWebhook(config: Record<string, unknown>, opts: WebhookStartOptions = {}): Promise<TestWebhook> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const raw = { ...config, webhook: { listen: '127.0.0.1:0', ...(config.webhook as object | undefined) } };
  const cfg = buildConfig(raw, '/tmp/pullgate-test/config.yaml');
  const webhook = await startWebhook(cfg, { logger: createLogger('debug', sink), ...opts });
  const url = webhook.url;
  const post = async (path: string, body: string | object) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    let json: AdmissionReviewAnswer | undefined;
    try {
      json = JSON.parse(text) as AdmissionReviewAnswer;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  };
  return {
    webhook,
    url,
    logs,
    post,
    async review(path, review) {
      const r = await post(path, review);
      if (r.status !== 200 || r.json === undefined) throw new Error(`${path}: HTTP ${r.status}: ${r.text}`);
      return r.json.response;
    },
    async metric(name, labels) {
      const text = await webhook.metrics.registry.metrics();
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return 0;
    },
    close: () => webhook.close(),
  };
}

/** A vector file's text (AdmissionReview or bare request). */
export function vector(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

/** Wraps a bare AdmissionRequest (the kubewarden samples) into an AdmissionReview v1. */
export function asReview(request: unknown, apiVersion = 'admission.k8s.io/v1'): object {
  return { apiVersion, kind: 'AdmissionReview', request };
}

/** The decoded JSONPatch of a response, or undefined. */
export function patchOf(r: AdmissionResponse): unknown {
  return r.patch === undefined ? undefined : JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8'));
}

let uidCounter = 0;

export interface PodOptions {
  kind?: string;
  group?: string;
  operation?: string;
  namespace?: string;
  subResource?: string;
  resource?: string;
  dryRun?: boolean;
  deletionTimestamp?: string;
  /** UPDATE: the pod spec lists of the stored object (oldObject). */
  old?: PodSpecLists;
}

export interface PodSpecLists {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
  /** Pod volumes, e.g. image volumes `{ name, image: { reference, pullPolicy } }`. */
  volumes?: Record<string, unknown>[];
  /** Any other pod spec field. */
  [field: string]: unknown;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  [field: string]: unknown;
}

const RESOURCES: Record<string, [string, string]> = {
  Pod: ['', 'pods'],
  Deployment: ['apps', 'deployments'],
  ReplicaSet: ['apps', 'replicasets'],
  StatefulSet: ['apps', 'statefulsets'],
  DaemonSet: ['apps', 'daemonsets'],
  Job: ['batch', 'jobs'],
  CronJob: ['batch', 'cronjobs'],
  ReplicationController: ['', 'replicationcontrollers'],
};

/** Where the pod spec sits, as a path of keys, per kind. */
export const SPEC_PATH: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** An AdmissionReview v1 for a workload of `kind` with the given pod spec lists. */
export function workloadReview(podSpec: PodSpecLists, opts: PodOptions = {}): { request: { uid: string; [k: string]: unknown } } {
  const kind = opts.kind ?? 'Pod';
  const [group, resource] = RESOURCES[kind] ?? [opts.group ?? '', opts.resource ?? kind.toLowerCase() + 's'];
  const wrap = (lists: PodSpecLists): Record<string, unknown> => {
    let object: Record<string, unknown> = { ...lists };
    for (const key of [...(SPEC_PATH[kind] ?? ['spec'])].reverse()) object = { [key]: object };
    return { apiVersion: group === '' ? 'v1' : `${group}/v1`, kind, metadata: { name: 'x', namespace: opts.namespace ?? 'default', ...(opts.deletionTimestamp ? { deletionTimestamp: opts.deletionTimestamp } : {}) }, ...object };
  };
  const object = wrap(podSpec);
  const uid = `uid-${++uidCounter}`;
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: opts.group ?? group, version: 'v1', kind },
      resource: { group: opts.group ?? group, version: 'v1', resource: opts.resource ?? resource },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      namespace: opts.namespace ?? 'default',
      operation: opts.operation ?? 'CREATE',
      dryRun: opts.dryRun ?? false,
      object,
      ...(opts.old ? { oldObject: wrap(opts.old) } : {}),
      userInfo: { username: 'test' },
    },
  };
  return review;
}
