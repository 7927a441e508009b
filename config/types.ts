/**
 * The validated, typed pullgate configuration. Wire data (YAML/JSON) is converted to these types once, in
 * `load.ts`; everything downstream trusts them.
 */
import type { ImagePolicy } from '../policy/image-policy/types.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** How a blob GET answered with a redirect to storage (S3, GCS, a CDN) is handled. */
export type BlobRedirectMode = 'relay' | 'follow';

export interface RegistryConfig {
  /** The registry as written in image references (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  readonly host: string;
  /** Where pullgate fetches from (`https://registry-1.docker.io`). */
  readonly endpoint: URL;
  /**
   * `relay` (default): hand the storage redirect to containerd, which fetches the content-addressed bytes itself.
   * `follow`: pullgate fetches them and streams them through (for nodes that cannot reach the storage host).
   */
  readonly blobRedirects: BlobRedirectMode;
  /** PEM bundle of extra CAs to trust for this endpoint (private registries). */
  readonly caFile: string | undefined;
  /**
   * The repositories this registry's credentials may be used for (exact names, or `team/*` for every repository
   * below `team/`); any other repository is fetched anonymously. Undefined: every repository (README § Security:
   * credentials make the gate fetch, with them, whatever any pod on the node names).
   */
  readonly credentialedRepositories?: readonly string[] | undefined;
}

export type EnforcementMode = 'enforce' | 'audit';

export interface UpstreamLimits {
  /** TCP + TLS connect bound. */
  readonly connectTimeoutMs: number;
  /** Time to the response headers. */
  readonly headersTimeoutMs: number;
  /** Longest pause between two body chunks (blobs stream for minutes; a stall is what is bounded). */
  readonly bodyTimeoutMs: number;
  /** Manifests above this many bytes are denied unread (DESIGN: 4 MiB). */
  readonly manifestMaxBytes: number;
  /** Connections kept per upstream origin. */
  readonly connections: number;
  // Bounds on the work one pull can cause (README § Security-relevant limits). Always set by load.ts; optional
  // here so code that builds limits by hand (tests, tools) gets the built-in defaults.
  /** Overall deadline for the gate's manifest GET, however the bytes trickle in (default 30 s). */
  readonly manifestTimeoutMs?: number;
  /** Upstream requests one decision may make for signatures (referrers, signature manifests, envelopes). */
  readonly decisionMaxRequests?: number;
  /** Bytes one decision may read for signatures. */
  readonly decisionMaxBytes?: number;
  /** Cold decisions (ones that fetch signatures) running at once, in the whole process. */
  readonly coldDecisions?: number;
  /** Cold decisions waiting for a slot, at most; more are denied at once (`gate_busy`). */
  readonly coldDecisionQueue?: number;
  /** How long a cold decision waits for a slot before it is denied (`gate_busy`). */
  readonly coldDecisionWaitMs?: number;
  /** Downloaded signature bytes all cold decisions may hold at once (they live outside the V8 heap limit). */
  readonly coldDecisionMaxBytes?: number;
}

/** The verified-decision cache (DESIGN § Pull path rules). */
export interface CacheConfig {
  /** How long an allowed digest is served without re-verifying (its bytes are kept for that long too). */
  readonly allowTtlMs: number;
  /** How long a denial is remembered, so kubelet's back-off retries cost nothing. */
  readonly denyTtlMs: number;
  /** How long a tag→digest resolution is trusted; 0 = every resolve asks the upstream (no tag drift). */
  readonly tagTtlMs: number;
  /** Upstream down: a digest (and its tag) verified this recently may still be served. 0 = off. */
  readonly staleIfErrorMs: number;
  /** Bound on the verified manifest bytes kept in memory. */
  readonly maxBytes: number;
}

export interface WebhookConfig {
  readonly listen: HostPort;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /**
   * CA bundle the API server's client certificate must chain to for /validate and /mutate (AdmissionConfiguration
   * `kubeConfigFile` gives the apiserver its certificate). undefined: any client that reaches the port is served.
   */
  readonly clientCaFile: string | undefined;
  /**
   * `/mutate` resolves a tag that a node could run from its cache (imagePullPolicy IfNotPresent/Never),
   * verifies it through the policy engine and patches the image to `repo:tag@sha256:…`. Off by default: the
   * node gate already pins at resolve time, so specs keep their tags (DESIGN § Pull path rules).
   */
  readonly pinning: boolean;
  /** Every image must pass the trust policy at admission time, so the reason shows at `kubectl apply`. */
  readonly verify: boolean;
  /**
   * A digest reference a node may run from its image store (pull policy IfNotPresent or Never) must pass the
   * trust policy at admission: the node may already hold it and would start it without asking the gate. On by
   * default; false is unsafe (it reopens that way around the gate) and is for clusters that must admit such
   * pods while the registry is unreachable.
   */
  readonly verifyCachedDigests: boolean;
  /** Namespaces whose requests are allowed untouched (in addition to the namespaceSelector in daemonset/). */
  readonly exemptNamespaces: readonly string[];
  /** `registry/repository`, `registry/repository:tag` or a `prefix*`; validated by the webhook at start. */
  readonly exemptImages: readonly string[];
  /** Bound on one admission decision; past it the request is denied (kept well under the apiserver's timeout). */
  readonly timeoutMs: number;
  /** Largest AdmissionReview body read; larger ones get HTTP 400. */
  readonly maxBodyBytes: number;
  /** How long a tag resolution + policy decision is reused across admission requests (0 = only concurrent ones). */
  readonly cacheTtlMs: number;
  /** Distinct images one review may look up at the registry; more is a denial. Dry runs look up none. */
  readonly maxResolutionsPerReview: number;
}

/** Node audit (issue 15): decide containerd's stored images against the current policy. */
export interface AuditConfig {
  /** containerd's gRPC socket (CRI and containerd's own API are both served on it). */
  readonly containerdSocket: string;
  /** Periodic audit inside `serve`; 0 = off. Each wait is jittered by ±10%. */
  readonly intervalMs: number;
  /** Remove denied images no running container uses (as `pullgate audit --remove`). */
  readonly remove: boolean;
}

export interface PullgateConfig {
  /** The file the config came from; undefined for the built-in defaults. */
  readonly source: string | undefined;
  readonly listen: HostPort;
  readonly admin: HostPort;
  readonly mode: EnforcementMode;
  readonly registries: readonly RegistryConfig[];
  readonly notation: { readonly configDir: string };
  /** docker config.json with upstream credentials, or undefined for anonymous pulls. */
  readonly credentials: string | undefined;
  readonly upstream: UpstreamLimits;
  readonly cache: CacheConfig;
  readonly webhook: WebhookConfig;
  /** Optional so configs built in code stay valid; loadConfig always fills it. */
  readonly audit?: AuditConfig;
  /**
   * The optional `policy` section (inline, or the file it names): which signature systems each scope requires.
   * undefined = no section: the Notation trust policy alone decides, as before the image policy existed.
   * Optional so configs built in code stay valid; loadConfig always sets it (to undefined without a section).
   */
  readonly imagePolicy?: ImagePolicy | undefined;
  /** How often the config file, trust policy and trust stores are checked for changes; 0 = never. */
  readonly reloadIntervalMs: number;
  /** On SIGTERM: how long in-flight pulls may take to finish before connections are cut. */
  readonly shutdownGraceMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
