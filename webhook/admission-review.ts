/**
 * AdmissionReview on the wire (admission.k8s.io/v1, "Dynamic Admission Control": Request and Response), turned
 * into a typed AdmissionRequest once, here, and the response rendered here. The apiserver sends the version
 * named first in the webhook's `admissionReviewVersions` and requires the answer in the same version, with
 * `response.uid` equal to `request.uid`; v1beta1 has the same fields, so it is read too (older clusters and
 * tools still send it). Anything else is a ReviewError → HTTP 400 with the message, never a crash.
 */

import { CodedError } from '../errors/coded-error.ts';

export type ReviewErrorCode = 'BODY_TOO_LARGE' | 'NOT_JSON' | 'NOT_ADMISSION_REVIEW' | 'UNSUPPORTED_VERSION' | 'EMPTY_REQUEST' | 'MALFORMED_REQUEST';

export class ReviewError extends CodedError<ReviewErrorCode> {
  override readonly name = 'ReviewError';
}

export type AdmissionApiVersion = 'admission.k8s.io/v1' | 'admission.k8s.io/v1beta1';
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface AdmissionRequest {
  readonly apiVersion: AdmissionApiVersion;
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  /** '' for the main resource; `ephemeralcontainers`, `status`, `scale`, … */
  readonly subResource: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly operation: Operation;
  readonly dryRun: boolean;
  /** The object as admitted (already defaulted by the apiserver); wire data, read by workload.ts. */
  readonly object: unknown;
  /** UPDATE: the object as stored before; undefined otherwise. */
  readonly oldObject: unknown;
}

const VERSIONS: readonly string[] = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'];
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/** Parses the body text of a POST. The caller has already bounded its size. */
export function parseAdmissionReview(body: string): AdmissionRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new ReviewError('NOT_JSON', `malformed AdmissionReview: not JSON (${(err as Error).message})`);
  }
  // connaisseur's behaviour for a literal `null` body, and the message users of it will recognise.
  if (doc === null) throw new ReviewError('EMPTY_REQUEST', 'received empty admission request');
  if (!isObject(doc)) throw new ReviewError('NOT_ADMISSION_REVIEW', 'malformed AdmissionReview: the body is not a JSON object');
  if (doc.kind !== 'AdmissionReview') throw new ReviewError('NOT_ADMISSION_REVIEW', `malformed AdmissionReview: kind is ${JSON.stringify(doc.kind)}, not "AdmissionReview"`);
  if (typeof doc.apiVersion !== 'string' || !VERSIONS.includes(doc.apiVersion)) {
    throw new ReviewError('UNSUPPORTED_VERSION', `unsupported AdmissionReview apiVersion ${JSON.stringify(doc.apiVersion)}; send admission.k8s.io/v1`);
  }
  const apiVersion = doc.apiVersion as AdmissionApiVersion;
  const request = doc.request;
  if (request === null || request === undefined) throw new ReviewError('EMPTY_REQUEST', 'received empty admission request');
  if (!isObject(request)) throw new ReviewError('MALFORMED_REQUEST', 'malformed AdmissionReview: request is not an object');

  const uid = request.uid;
  if (typeof uid !== 'string' || uid.length === 0) throw malformed('request.uid is missing');
  const operation = request.operation;
  if (typeof operation !== 'string' || !OPERATIONS.includes(operation)) throw malformed(`request.operation ${JSON.stringify(operation)} is not one of ${OPERATIONS.join(', ')}`);
  const kind = gvk(request.kind, 'request.kind', 'kind');
  const resource = gvk(request.resource, 'request.resource', 'resource');
  const dryRun = request.dryRun;
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') throw malformed('request.dryRun is not a boolean');
  return {
    apiVersion,
    uid,
    kind: { group: kind.group, version: kind.version, kind: kind.kind },
    resource: { group: resource.group, version: resource.version, resource: resource.resource },
    subResource: optionalString(request.subResource, 'request.subResource'),
    namespace: optionalString(request.namespace, 'request.namespace'),
    name: optionalString(request.name, 'request.name'),
    operation: operation as Operation,
    dryRun: dryRun === true,
    object: request.object,
    oldObject: request.oldObject ?? undefined,
  };
}

function gvk<K extends 'kind' | 'resource'>(v: unknown, where: string, last: K): { group: string; version: string } & Record<K, string> {
  if (!isObject(v)) throw malformed(`${where} is missing`);
  const group = v.group ?? '';
  const version = v.version;
  const named = v[last];
  if (typeof group !== 'string' || typeof version !== 'string' || typeof named !== 'string' || named.length === 0) {
    throw malformed(`${where} must have string group, version and ${last}`);
  }
  return { group, version, [last]: named } as { group: string; version: string } & Record<K, string>;
}

function optionalString(v: unknown, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw malformed(`${where} is not a string`);
  return v;
}

function malformed(problem: string): ReviewError {
  return new ReviewError('MALFORMED_REQUEST', `malformed AdmissionReview: ${problem}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One JSONPatch operation (RFC 6902); the webhook only ever replaces an image string. */
export interface JsonPatchReplace {
  readonly op: 'replace';
  readonly path: string;
  readonly value: string;
}

export interface AdmissionVerdict {
  readonly allowed: boolean;
  /** For denials: shown by kubectl as `admission webhook "…" denied the request: <message>`. */
  readonly message: string | undefined;
  readonly patch: readonly JsonPatchReplace[];
  /** Shown by kubectl as `Warning: …` (audit mode). */
  readonly warnings: readonly string[];
}

const MAX_WARNINGS = 10;

/** The AdmissionReview answer, in the version asked, `response.uid` echoing `request.uid`. */
export function renderAdmissionResponse(request: Pick<AdmissionRequest, 'apiVersion' | 'uid'>, verdict: AdmissionVerdict): string {
  const response: Record<string, unknown> = { uid: request.uid, allowed: verdict.allowed };
  if (!verdict.allowed) response.status = { code: 403, reason: 'Forbidden', message: verdict.message ?? 'denied by pullgate' };
  if (verdict.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(verdict.patch)).toString('base64');
  }
  if (verdict.warnings.length > 0) {
    // The API server caps the warnings it passes on (about 4 KiB in all): keep the first ones whole and say how
    // many more there were, rather than let a 300-container Pod's list be cut mid-sentence.
    const shown = verdict.warnings.slice(0, MAX_WARNINGS);
    const more = verdict.warnings.length - shown.length;
    response.warnings = more > 0 ? [...shown, `pullgate: … and ${more} more (see the webhook's log)`] : shown;
  }
  return JSON.stringify({ apiVersion: request.apiVersion, kind: 'AdmissionReview', response });
}
