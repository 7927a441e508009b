/**
 * The webhook's rules: which pods would get around the node gate, and what to say about them. One verdict per
 * request, with every offending container and image volume named (kubectl shows the whole message at apply
 * time). An image is a container's `image` or an image volume's `image.reference` (KEP-4639; the kubelet
 * pulls both through CRI, with the same pull policies and defaults), and every rule applies to both.
 *
 *  1. The image's registry must be one pullgate mirrors (`registries`): containerd looks up
 *     `certs.d/<host>/hosts.toml` by the exact host of the reference, so any other host pulls direct.
 *  2. A tag the kubelet may serve from the node's image store without a resolve — imagePullPolicy
 *     IfNotPresent or Never ("Images" in the Kubernetes docs) — never reaches the gate after its first pull,
 *     so it must be pinned by digest. With pinning on (`/mutate`), the tag is resolved and verified through the
 *     policy engine and patched to `repo:tag@sha256:…` instead.
 *  3. A digest the kubelet may serve from the node's store is verified now (`webhook.verifyCachedDigests`, on
 *     unless explicitly turned off): the node may already hold it — pulled before pullgate, or by another
 *     path — and would then start it without asking the gate (issue 12, item 4).
 *  4. With `webhook.verify`, every image must pass the trust policy now.
 *  5. A field that names an image but that pullgate does not read (image-fields.ts) denies the object.
 * Exempt namespaces and images skip all of them; the node gate still applies to them. An UPDATE is judged on
 * the images it changes (reference or pull policy), a DELETE or CONNECT not at all.
 */
import type { RegistryConfig } from '../config/types.ts';
import type { AdmissionRequest, JsonPatchReplace } from './admission-review.ts';
import type { Exemptions } from './exemptions.ts';
import { defaultPullPolicy, ImageReferenceError, parseImageReference, type ImageReference } from './image-reference.ts';
import type { ImageResolver } from './image-resolver.ts';
import { describeContainer, extractWorkload, isBeingDeleted, MalformedObject, workloadKind, type Workload, type WorkloadImage, type WorkloadKind } from './workload.ts';

/** Bounded vocabulary (a metric label). */
export type AdmissionReason =
  | 'passed'
  | 'pinned'
  | 'unchanged'
  | 'not_inspected'
  | 'exempt_namespace'
  | 'being_deleted'
  | 'malformed_object'
  | 'invalid_reference'
  | 'unmirrored_registry'
  | 'unpinned_tag'
  | 'unknown_image_field'
  | 'too_many_images'
  | 'policy_denied'
  | 'unresolved'
  | 'timeout'
  | 'internal_error';

export interface Violation {
  readonly reason: AdmissionReason;
  readonly message: string;
}

export interface AdmissionOutcome {
  /** True when nothing violated the rules (audit mode is applied later, by the handler). */
  readonly allowed: boolean;
  /** The request's reason: the first violation's, or why it was allowed. */
  readonly reason: AdmissionReason;
  readonly violations: readonly Violation[];
  readonly patch: readonly JsonPatchReplace[];
  /** Said to the client either way (kubectl prints "Warning: …"): e.g. what a dry run did not look up. */
  readonly warnings?: readonly string[];
}

export interface RulesOptions {
  readonly registries: readonly RegistryConfig[];
  readonly exemptions: Exemptions;
  readonly resolver: ImageResolver;
  readonly verify: boolean;
  /**
   * Rule 3: verify digests a node may serve from its store (pull policy other than Always). Default true;
   * false reopens the hole and exists for clusters that cannot let admission depend on the registry.
   */
  readonly verifyCachedDigests?: boolean;
  /**
   * Distinct images one review may look up at the registry (those not already decided in the resolver's
   * cache); past it the review is denied. Default 32. A dry run looks up none (issue 12, item 5).
   */
  readonly maxResolutionsPerReview?: number;
}

type ContainerResult = { readonly violation?: Violation; readonly patch?: JsonPatchReplace; readonly warning?: string };

/** One review's registry lookups: which distinct images it started, against the cap; none in a dry run. */
interface LookupBudget {
  readonly started: Set<string>;
  readonly max: number;
  readonly dryRun: boolean;
}

const ALLOW_UNTOUCHED = (reason: AdmissionReason): AdmissionOutcome => ({ allowed: true, reason, violations: [], patch: [] });

export class AdmissionRules {
  readonly #opts: RulesOptions;
  readonly #mirrored: ReadonlySet<string>;
  readonly #mirroredList: string;
  readonly #verifyCachedDigests: boolean;
  readonly #maxResolutions: number;

  constructor(opts: RulesOptions) {
    this.#opts = opts;
    this.#verifyCachedDigests = opts.verifyCachedDigests ?? true;
    this.#maxResolutions = opts.maxResolutionsPerReview ?? 32;
    this.#mirrored = new Set(opts.registries.map((r) => r.host));
    this.#mirroredList = opts.registries.map((r) => r.host).join(', ');
  }

  /** `pin`: the `/mutate` endpoint with pinning enabled. */
  async evaluate(request: AdmissionRequest, pin: boolean): Promise<AdmissionOutcome> {
    // Only CREATE and UPDATE carry a pod spec that can start containers.
    if (request.operation === 'DELETE' || request.operation === 'CONNECT') return ALLOW_UNTOUCHED('not_inspected');
    const kind = workloadKind(request.kind.group, request.kind.kind);
    if (kind === undefined) return ALLOW_UNTOUCHED('not_inspected');
    // Subresources (status, scale, binding, …) cannot change images, except pods/ephemeralcontainers, which
    // adds containers to a running Pod ("Ephemeral Containers" in the Kubernetes docs).
    const ephemeral = request.resource.resource === 'pods' && request.subResource === 'ephemeralcontainers';
    if (request.subResource !== '' && !ephemeral) return ALLOW_UNTOUCHED('not_inspected');
    if (this.#opts.exemptions.namespace(request.namespace)) return ALLOW_UNTOUCHED('exempt_namespace');
    // An object with deletionTimestamp only waits for its finalizers; controllers create no pods for it and the
    // kubelet starts no containers in a terminating Pod, while denying the UPDATE that removes a finalizer
    // would wedge the deletion.
    if (request.operation === 'UPDATE' && isBeingDeleted(request.object)) return ALLOW_UNTOUCHED('being_deleted');

    let workload: Workload;
    try {
      workload = extractWorkload(kind, request.object);
    } catch (err) {
      if (!(err instanceof MalformedObject)) throw err;
      return { allowed: false, reason: 'malformed_object', violations: [{ reason: 'malformed_object', message: err.message }], patch: [] };
    }
    let containers = workload.containers;
    let unknown = workload.unknownImageFields;
    // UPDATE: only images whose reference or pull policy changed. The others were admitted before (or predate
    // the webhook) and start no new pull by this request — pods are admitted on their own CREATE — while
    // denying or re-pinning them would block label edits and finalizer removal, and a patched image on a
    // running Pod restarts its container. Unknown image fields likewise: only new or changed ones.
    if (request.operation === 'UPDATE') {
      const before = previousWorkload(kind, request.oldObject);
      if (before !== undefined) {
        const images = new Map(before.containers.map((c) => [`${c.field}/${c.name}`, signature(c)]));
        const fields = new Map(before.unknownImageFields.map((f) => [f.path, JSON.stringify(f.value)]));
        containers = containers.filter((c) => images.get(`${c.field}/${c.name}`) !== signature(c));
        unknown = unknown.filter((f) => fields.get(f.path) !== JSON.stringify(f.value));
      }
      if (containers.length === 0 && unknown.length === 0) return ALLOW_UNTOUCHED('unchanged');
    }
    // A dry run (kubectl --dry-run=server, GitOps diffs) starts nothing on a node: it is answered from what is
    // already decided, and what would need a registry lookup is named in a warning instead. The real request is
    // checked in full. Otherwise the lookups are capped per review (the budget is taken in container order:
    // #container runs synchronously up to its lookup).
    const budget: LookupBudget = { started: new Set(), max: this.#maxResolutions, dryRun: request.dryRun };
    const results = await Promise.all(containers.map((c) => this.#container(c, pin, budget)));
    const warnings = results.flatMap((r) => (r.warning ? [r.warning] : []));
    const violations = [
      ...unknown.map((f): Violation => ({
        reason: 'unknown_image_field',
        message: `${clipPath(f.path)}: pullgate does not understand this image-bearing field and cannot vouch for what it pulls (denied rather than ignored)`,
      })),
      ...results.flatMap((r) => (r.violation ? [r.violation] : [])),
    ];
    const patch = results.flatMap((r) => (r.patch ? [r.patch] : []));
    if (violations.length > 0) return { allowed: false, reason: violations[0]!.reason, violations, patch, warnings };
    return { allowed: true, reason: patch.length > 0 ? 'pinned' : 'passed', violations: [], patch, warnings };
  }

  async #container(c: WorkloadImage, pin: boolean, budget: LookupBudget): Promise<ContainerResult> {
    const who = describeContainer(c);
    if (c.image === undefined || c.image.length === 0) return violation('invalid_reference', `${who} has no image${c.field === 'volumes' ? ' reference' : ''}`);
    const what = `${who} image ${quote(c.image)}`;
    let ref: ImageReference;
    try {
      ref = parseImageReference(c.image);
    } catch (err) {
      if (!(err instanceof ImageReferenceError)) throw err;
      return violation('invalid_reference', `${what}: invalid image reference: ${err.message}`);
    }
    if (this.#opts.exemptions.image(ref)) return {};
    if (!this.#mirrored.has(ref.domain)) {
      const hint = this.#mirrored.has(ref.domain.toLowerCase()) ? `; write the host as ${ref.domain.toLowerCase()} (containerd matches it exactly)` : '';
      return violation('unmirrored_registry', `${what}: registry ${ref.domain} is not mirrored by pullgate on the nodes (mirrored: ${this.#mirroredList})${hint}`);
    }
    if (ref.digest !== undefined && ref.digest.algorithm === 'sha384') {
      return violation('invalid_reference', `${what}: pullgate verifies sha256 and sha512 digests only`);
    }
    const policy = c.imagePullPolicy ?? defaultPullPolicy(ref);
    // Anything but Always may be served from the node's store; an unknown value is treated the same (fail closed).
    const fromStore = policy !== 'Always';
    const cached = ref.digest === undefined && fromStore;
    if (cached && !pin) {
      // An image volume's field is `image.pullPolicy` (ImageVolumeSource), a container's `imagePullPolicy`.
      const field = c.field === 'volumes' ? 'pullPolicy' : 'imagePullPolicy';
      const why = c.imagePullPolicy === undefined ? `${field} defaults to ${policy} for this tag` : `${field} ${policy}`;
      return violation(
        'unpinned_tag',
        `${what}: ${why}, so a node may run its cached copy without asking pullgate; pin it by digest (${clip(c.image)}@sha256:…) or set ${field}: Always`,
      );
    }
    // A digest from the store: the node may hold it from before pullgate (or from a pull that bypassed it) and
    // start it without a resolve, so the gate never decides; the decision is made here instead, once per
    // digest and repository within cacheTtlMs (the resolver's cache).
    const cachedDigest = ref.digest !== undefined && fromStore && this.#verifyCachedDigests;
    if (!cached && !cachedDigest && !this.#opts.verify) return {};

    let resolution = this.#opts.resolver.peek(ref);
    if (resolution === undefined) {
      if (budget.dryRun) return { warning: `${what}: not checked in this dry run (pullgate makes no registry requests for dry runs; the real request is checked)` };
      const key = `${ref.name}${ref.digest ? `@${ref.digest.text}` : `:${ref.tag ?? 'latest'}`}`;
      if (!budget.started.has(key)) {
        if (budget.started.size >= budget.max) {
          return violation('too_many_images', `${what}: not looked up: this request names more than ${budget.max} images that need a registry lookup (webhook.maxResolutionsPerReview)`);
        }
        budget.started.add(key);
      }
      resolution = await this.#opts.resolver.resolve(ref, true);
    }
    const shown = ref.digest?.text ?? ref.tag ?? 'latest';
    if (resolution.outcome === 'unresolved') return violation('unresolved', `${what}: cannot resolve ${shown}: ${resolution.message}`);
    if (resolution.outcome === 'denied') return violation('policy_denied', `${what}: ${resolution.digest ?? shown} is denied by the trust policy: ${resolution.decision.message}`);
    if (!cached) return {};
    return { patch: { op: 'replace', path: c.imagePointer, value: `${c.image}@${resolution.digest}` } };
  }
}

/** The stored object's images and unknown image fields; undefined when it cannot be read (then all are checked). */
function previousWorkload(kind: WorkloadKind, oldObject: unknown): Workload | undefined {
  try {
    return extractWorkload(kind, oldObject);
  } catch (err) {
    if (err instanceof MalformedObject) return undefined;
    throw err;
  }
}

function signature(c: WorkloadImage): string {
  return `${c.image ?? ''}\n${c.imagePullPolicy ?? ''}`;
}

function violation(reason: AdmissionReason, message: string): ContainerResult {
  return { violation: { reason, message } };
}

/** Image text as written, quoted and escaped, clipped: it is user input going into an API response. */
function quote(image: string): string {
  return JSON.stringify(clip(image));
}

/** A field path is built from the object's keys (user input, any length): keep its start and its end. */
function clipPath(path: string): string {
  return path.length > 300 ? `${path.slice(0, 100)}…${path.slice(-200)}` : path;
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
