/**
 * The validated, typed pullgate configuration. Wire data (YAML/JSON) is converted to these types once, in
 * `load.ts`; everything downstream trusts them.
 */

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
}

export interface WebhookConfig {
  readonly listen: HostPort;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
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
  readonly webhook: WebhookConfig;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}
