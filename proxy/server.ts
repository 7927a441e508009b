/**
 * The mirror endpoint: parse once, pick the upstream by `?ns=`, hand off to the manifest or blob path. Every
 * failure becomes an OCI error rendered in one place; an unexpected exception is a 500-class error, never a
 * pass-through.
 */
import { CacheBudget } from '../registry/cache-budget.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PullgateConfig } from '../config/types.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { parseDistributionRequest } from './distribution-request.ts';
import { OciError, sendOciError } from './oci-errors.ts';
import { denyManifest, serveManifest, type ManifestDeps } from './manifests.ts';
import { serveBlob } from './blobs.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ProxyMetrics } from './metrics.ts';
import { UpstreamClient } from '../registry/client.ts';
import { DenialNotes } from './denial-notes.ts';
import { VerifiedStore } from './verified-store.ts';
import type { CredentialStore } from '../registry/credentials.ts';

export interface MirrorOptions {
  readonly config: PullgateConfig;
  readonly credentials: CredentialStore;
  /** The policy engine to start with; useEngine() replaces it. */
  readonly engine: PolicyEngine;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** The process's cache byte budget (`cache.maxBytes`), shared with the revocation caches; default: the mirror's own. */
  readonly cacheBudget?: CacheBudget;
}

export class Mirror {
  readonly server: Server;
  #clients: ReadonlyMap<string, UpstreamClient>;
  #config: PullgateConfig;
  /** The current policy generation (see ManifestDeps); a request reads it once, when it arrives. */
  #manifestDeps: ManifestDeps;
  readonly #metrics: ProxyMetrics;
  readonly #logger: Logger;
  readonly #notes = new DenialNotes();
  readonly #cacheBudget: CacheBudget;

  constructor(opts: MirrorOptions) {
    this.#cacheBudget = opts.cacheBudget ?? new CacheBudget(opts.config.cache.maxBytes);
    this.#metrics = opts.metrics;
    this.#logger = opts.logger;
    this.#config = opts.config;
    this.#clients = this.#makeClients(opts.config, opts.credentials);
    this.#manifestDeps = this.#makeDeps(opts.config, opts.engine);
    this.server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#logger.error({ err, url: req.url }, 'request failed');
        sendOciError(res, req.method, new OciError('UNAVAILABLE', 'pullgate: internal error'));
      });
    });
  }

  /**
   * Applies a reloaded config without dropping the listener: new upstream clients, mode, limits and a new
   * policy generation (same engine, empty verified store). Requests already in flight finish on the old
   * clients, which are closed after `graceMs`.
   */
  reconfigure(config: PullgateConfig, credentials: CredentialStore, graceMs = 30_000): void {
    const old = this.#clients;
    this.#config = config;
    this.#cacheBudget.maxBytes = config.cache.maxBytes;
    this.#clients = this.#makeClients(config, credentials);
    this.#replaceGeneration(this.#makeDeps(config, this.#manifestDeps.engine));
    setTimeout(() => void Promise.all([...old.values()].map((c) => c.close())), graceMs).unref();
  }

  /**
   * A reloaded trust policy or trust store: a new policy generation with its own, empty verified store. Requests
   * that arrive from now on decide, share single flights and remember under `engine` only; a decision still
   * running under the old engine can only reach the old store, which is retired here.
   */
  useEngine(engine: PolicyEngine): void {
    if (engine === this.#manifestDeps.engine) return;
    this.#replaceGeneration(this.#makeDeps(this.#config, engine));
  }

  /** The engine of the current generation. */
  get engine(): PolicyEngine {
    return this.#manifestDeps.engine;
  }

  #replaceGeneration(next: ManifestDeps): void {
    const old = this.#manifestDeps;
    this.#manifestDeps = next;
    // Released now rather than when its last in-flight request lets go of it.
    old.store.retire();
  }

  #makeClients(config: PullgateConfig, credentials: CredentialStore): ReadonlyMap<string, UpstreamClient> {
    const observe = (registry: string, kind: string, status: number | 'error') =>
      this.#metrics.upstreamRequests.inc({ registry, kind, status: String(status) });
    return new Map(config.registries.map((r) => [r.host, new UpstreamClient(r, config.upstream, credentials.get(r.host), observe)]));
  }

  #makeDeps(config: PullgateConfig, engine: PolicyEngine): ManifestDeps {
    return {
      engine,
      mode: config.mode,
      manifestMaxBytes: config.upstream.manifestMaxBytes,
      metrics: this.#metrics,
      logger: this.#logger,
      notes: this.#notes,
      store: new VerifiedStore(config.cache, this.#cacheBudget),
    };
  }

  clientFor(registry: string): UpstreamClient | undefined {
    return this.#clients.get(registry);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let request;
    try {
      request = parseDistributionRequest(req.method, req.url);
    } catch (err) {
      if (err instanceof OciError) return sendOciError(res, req.method, err);
      throw err;
    }
    if (request.kind === 'ping') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, 'docker-distribution-api-version': 'registry/2.0' });
      res.end(req.method === 'HEAD' ? undefined : '{}');
      return;
    }
    if (request.registry === undefined) {
      this.#metrics.decisions.inc({ registry: 'unconfigured', decision: 'deny', reason: 'registry_not_configured' });
      return sendOciError(res, req.method, new OciError('DENIED', 'pullgate: no ?ns=<registry> parameter: pullgate serves images as containerd\'s mirror (see `pullgate hosts`)'));
    }
    const client = this.#clients.get(request.registry);
    if (client === undefined) {
      if (request.kind === 'manifest' && request.reference.kind === 'digest') {
        // The GET that follows the denied HEAD-by-tag below: already counted; now the reason can be shown.
        const note = this.#notes.lookup(request.reference.digest.text);
        if (note !== undefined) return sendOciError(res, req.method, new OciError('DENIED', note.message));
      }
      this.#metrics.decisions.inc({ registry: 'unconfigured', decision: 'deny', reason: 'registry_not_configured' });
      this.#logger.warn({ registry: request.registry, repository: request.repository }, 'deny: registry not configured');
      const message = `pullgate: registry ${request.registry} is not configured in pullgate (add it to registries)`;
      // containerd resolves with a HEAD, whose 403 has no body: a denial note lets the reason reach ctr/kubelet.
      if (request.kind === 'manifest') return denyManifest(this.#notes, request, res, message);
      return sendOciError(res, req.method, new OciError('DENIED', message));
    }
    if (request.kind === 'manifest') return serveManifest(this.#manifestDeps, request, client, req, res);
    return serveBlob(this.#metrics, this.#logger, request, client, req, res);
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.all([...this.#clients.values()].map((c) => c.close()));
  }
}
