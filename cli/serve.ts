/**
 * `pullgate serve`: the mirror and its admin listener, wired from the validated config. Startup is all or
 * nothing: a bad config, unreadable credentials or an invalid trust policy stop the process with exit 2 and a
 * message, rather than a gate that runs with half its rules. Afterwards the config file, the trust policy and
 * the trust stores are hot-reloaded (cli/reloader.ts); SIGTERM drains in-flight pulls within a bound.
 */
import type { Server } from 'node:http';
import type { PullgateConfig } from '../config/types.ts';
import { formatHostPort } from '../config/fields.ts';
import type { ArtifactFetcher } from '../oci/discovery/fetcher.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { loadPolicyState } from '../policy/load-state.ts';
import { logScopeWarnings } from '../verifiers/notation/trust/scope-lint.ts';
import { ColdDecisions, coldDecisionLimits } from '../oci/discovery/cold-decisions.ts';
import { createAdminServer } from '../proxy/admin.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { ProxyMetrics } from '../proxy/metrics.ts';
import { Mirror } from '../proxy/server.ts';
import { upstreamArtifactFetcher } from '../registry/artifact-fetcher.ts';
import type { UpstreamClient } from '../registry/client.ts';
import { loadCredentials } from '../registry/credentials.ts';
import { CacheBudget } from '../registry/cache-budget.ts';
import { DEFAULT_CRL_OPTIONS, HttpCrlSource } from '../registry/crl-source.ts';
import { DEFAULT_OCSP_OPTIONS, HttpOcspSource } from '../registry/ocsp-source.ts';
import { Reloader } from './reloader.ts';
import { TrustServerClients } from './trust-servers.ts';
import { startPeriodicAudit } from '../node/audit/periodic.ts';

export interface RunningGate {
  readonly mirror: Mirror;
  readonly admin: Server;
  readonly logger: Logger;
  readonly metrics: ProxyMetrics;
  /** The policy engine now in use (hot reload swaps it). */
  engine(): PolicyEngine;
  /** Checks the watched files once, now (tests; the timer does the same every reloadIntervalMs). */
  reloadNow(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startGate(config: PullgateConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningGate> {
  const credentials = await loadCredentials(config.credentials);
  // Notary v1 trust servers (image policy): clients per server definition, and the one version state per process.
  let currentCredentials = credentials;
  const trustServers = new TrustServerClients(() => currentCredentials);
  // Signature discovery goes through the mirror's own upstream clients (looked up per decision, so a config
  // reload that replaces the clients is picked up).
  // One fetcher per client: the verifier remembers per fetcher that a registry has no referrers API.
  const holder: { mirror?: Mirror } = {};
  const fetchers = new WeakMap<UpstreamClient, ArtifactFetcher>();
  const fetcherFor = (registry: string): ArtifactFetcher | undefined => {
    const client = holder.mirror?.clientFor(registry);
    if (client === undefined) return undefined;
    let fetcher = fetchers.get(client);
    if (fetcher === undefined) fetchers.set(client, (fetcher = upstreamArtifactFetcher(client)));
    return fetcher;
  };
  // cache.maxBytes bounds every cache of registry bytes together: verified manifests and revocation answers.
  const cacheBudget = new CacheBudget(config.cache.maxBytes);
  const crlSource = new HttpCrlSource({ ...DEFAULT_CRL_OPTIONS, budget: cacheBudget });
  const ocspSource = new HttpOcspSource({ ...DEFAULT_OCSP_OPTIONS, budget: cacheBudget });
  // One cap on cold decisions for the process, whatever policy generation runs them (issue 12.5).
  const coldDecisions = new ColdDecisions(coldDecisionLimits(config.upstream));
  const loadEngine = async (engineConfig: PullgateConfig): Promise<PolicyEngine> => {
    const state = await loadPolicyState(engineConfig.notation.configDir, { fetcherFor, crlSource, ocspSource, coldDecisions, notaryV1: trustServers.deps() }, engineConfig.imagePolicy);
    logScopeWarnings(logger, state.scopeWarnings); // scopes notation accepts that never match here: say so at every load
    return new PolicyEngine(state);
  };
  let engine = await loadEngine(config);
  if (!engine.ready) logger.error({ configDir: config.notation.configDir }, 'no usable trust policy: every pull will be denied');
  if (engine.hasImagePolicy) logger.info({ policy: config.imagePolicy?.file, rules: config.imagePolicy?.rules.length }, 'image policy: the most specific rule decides each image');
  for (const problem of engine.problems) logger.error({ store: `${problem.storeType}:${problem.storeName}`, problem: problem.message }, 'trust store unusable: statements using it fail authenticity');
  const metrics = new ProxyMetrics();
  metrics.watchColdDecisions(coldDecisions);
  const mirror = new Mirror({ config, credentials, engine, metrics, logger, cacheBudget });
  holder.mirror = mirror;
  let draining = false;
  const admin = createAdminServer({
    metrics: metrics.registry,
    notReadyReason: () => (draining ? 'shutting down' : engine.notReadyReason),
  });
  await mirror.listen(config.listen.host, config.listen.port);
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(config.admin.port, config.admin.host, () => resolve());
  });
  const reloader = new Reloader({
    config,
    logger,
    metrics,
    loadEngine,
    applyEngine: (next) => {
      engine = next;
      // A new policy generation: its own verified store and single flights (proxy/verified-store.ts).
      mirror.useEngine(next);
    },
    applyConfig: (next, nextCredentials) => {
      currentCredentials = nextCredentials;
      coldDecisions.configure(coldDecisionLimits(next.upstream));
      mirror.reconfigure(next, nextCredentials);
    },
  });
  await reloader.start();
  // Periodic node audit (issue 15), off while audit.intervalMs is 0; it reads the config in force (reloads too)
  // before every wait and pass, and each pass re-reads the trust policy. The module loads at the first pass.
  const audit = startPeriodicAudit({
    config: () => reloader.config.audit,
    logger,
    registry: metrics.registry,
    recheckMs: config.reloadIntervalMs > 0 ? config.reloadIntervalMs : undefined, // a reload is seen as soon as it lands
    run: async (auditConfig) => (await import('./audit.ts')).runAudit(reloader.config, { socket: auditConfig.containerdSocket, remove: auditConfig.remove }),
  });
  logger.info(
    { listen: formatHostPort(config.listen), admin: formatHostPort(config.admin), mode: config.mode, registries: config.registries.map((r) => r.host), config: config.source ?? '(defaults)' },
    'pullgate serving',
  );
  const closeAdmin = () => new Promise<void>((resolve) => admin.close(() => resolve()));
  return {
    mirror,
    admin,
    logger,
    metrics,
    engine: () => engine,
    reloadNow: () => reloader.check(),
    async drain(graceMs) {
      draining = true;
      reloader.stop();
      audit?.stop();
      const cut = setTimeout(() => mirror.server.closeAllConnections(), graceMs);
      cut.unref();
      await mirror.close();
      clearTimeout(cut);
      await Promise.all([crlSource.close(), ocspSource.close(), trustServers.closeAll(), closeAdmin()]);
    },
    async close() {
      reloader.stop();
      audit?.stop();
      await Promise.all([mirror.close(), crlSource.close(), ocspSource.close(), trustServers.closeAll(), closeAdmin()]);
    },
  };
}

/** Runs until SIGTERM/SIGINT, then stops accepting and lets in-flight pulls finish within shutdownGraceMs. */
export async function serveCommand(config: PullgateConfig): Promise<void> {
  const gate = await startGate(config);
  const stop = (signal: string) => {
    gate.logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: no new connections, finishing in-flight pulls');
    gate.drain(config.shutdownGraceMs).then(
      () => {
        gate.logger.info('shut down');
        gate.logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        gate.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
