/**
 * `pullgate webhook`: the admission webhook, wired from the validated config. Like `serve`, start-up is all or
 * nothing: bad exemption patterns, unreadable TLS files, credentials or an invalid trust policy stop it with
 * exit 2 and a message. The trust policy is loaded only when something uses it (pinning or verify); the
 * webhook's other rules need only the registry list.
 */
import type { PullgateConfig } from '../config/types.ts';
import { formatHostPort } from '../config/fields.ts';
import { PolicyEngine, type PolicyState } from '../policy/engine.ts';
import { loadPolicyState } from '../policy/load-state.ts';
import { logScopeWarnings } from '../verifiers/notation/trust/scope-lint.ts';
import type { ArtifactFetcher } from '../oci/discovery/fetcher.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { UpstreamClient } from '../registry/client.ts';
import { loadCredentials } from '../registry/credentials.ts';
import { upstreamArtifactFetcher } from '../registry/artifact-fetcher.ts';
import { HttpCrlSource } from '../registry/crl-source.ts';
import { HttpOcspSource } from '../registry/ocsp-source.ts';
import { AdmissionHandler } from '../webhook/admission-handler.ts';
import { AdmissionRules } from '../webhook/admission-rules.ts';
import { Exemptions } from '../webhook/exemptions.ts';
import { ImageResolver } from '../webhook/image-resolver.ts';
import { WebhookMetrics } from '../webhook/metrics.ts';
import { startWebhookServer, type RunningWebhookServer } from '../webhook/server.ts';
import { ColdDecisions, coldDecisionLimits } from '../oci/discovery/cold-decisions.ts';
import { Reloader } from './reloader.ts';
import { TrustServerClients } from './trust-servers.ts';

export interface WebhookStartOptions {
  readonly logger?: Logger;
  /** Verification clock (tests); the system clock by default. */
  readonly clock?: () => Date;
  /** TLS file poll interval (tests use a short one). */
  readonly tlsPollMs?: number;
}

export interface RunningWebhook {
  readonly server: RunningWebhookServer;
  readonly url: string;
  readonly logger: Logger;
  readonly metrics: WebhookMetrics;
  readonly engine: PolicyEngine;
  close(): Promise<void>;
}

export async function startWebhook(config: PullgateConfig, opts: WebhookStartOptions = {}): Promise<RunningWebhook> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const wh = config.webhook;
  const exemptions = Exemptions.fromConfig(wh, config.source);
  const metrics = new WebhookMetrics();
  const credentials = await loadCredentials(config.credentials);
  const observe = (registry: string, kind: string, status: number | 'error') => metrics.upstreamRequests.inc({ registry, kind, status: String(status) });
  const clients = new Map(config.registries.map((r) => [r.host, new UpstreamClient(r, config.upstream, credentials.get(r.host), observe)]));
  const fetchers = new Map<string, ArtifactFetcher>([...clients].map(([host, client]) => [host, upstreamArtifactFetcher(client)]));
  const crlSource = new HttpCrlSource();
  const ocspSource = new HttpOcspSource();
  // One cap on cold decisions for the process, whatever policy generation runs them (as in serve, issue 12.5).
  const coldDecisions = new ColdDecisions(coldDecisionLimits(config.upstream));
  // Notary v1 trust servers of the image policy (the webhook's credentials are read once, at start).
  const trustServers = new TrustServerClients(() => credentials);

  const needsPolicy = wh.pinning || wh.verify || wh.verifyCachedDigests;
  const loadEngine = async (engineConfig: PullgateConfig): Promise<PolicyEngine> => {
    const loaded = await loadPolicyState(
      engineConfig.notation.configDir,
      { fetcherFor: (registry) => fetchers.get(registry), crlSource, ocspSource, coldDecisions, ...(opts.clock ? { clock: opts.clock } : {}), notaryV1: trustServers.deps(opts.clock) },
      engineConfig.imagePolicy,
    );
    logScopeWarnings(logger, loaded.scopeWarnings); // scopes notation accepts that never match here: say so at every load
    return new PolicyEngine(loaded);
  };
  const state: PolicyState = { loaded: false, problem: 'not loaded: webhook.pinning, webhook.verify and webhook.verifyCachedDigests are off' };
  let engine = needsPolicy ? await loadEngine(config) : new PolicyEngine(state);
  if (needsPolicy && !engine.ready) logger.error({ configDir: config.notation.configDir, problem: engine.notReadyReason }, 'no usable trust policy: every pin and verification will be denied');

  const resolver = new ImageResolver({
    clients,
    engine,
    manifestMaxBytes: config.upstream.manifestMaxBytes,
    cacheTtlMs: wh.cacheTtlMs,
    timeoutMs: wh.timeoutMs,
    onEngineError: (err, ref) => logger.error({ err, ref }, 'policy engine failed'),
  });
  // The trust policy and stores hot-reload as in `serve`; a new policy starts a new generation of resolutions
  // (webhook/image-resolver.ts): none made, or still being made, under the old one is used again.
  const reloader = needsPolicy
    ? new Reloader({ config, logger, metrics, loadEngine, applyEngine: (next) => { engine = next; resolver.useEngine(next); } })
    : undefined;
  await reloader?.start();
  const rules = new AdmissionRules({ registries: config.registries, exemptions, resolver, verify: wh.verify, verifyCachedDigests: wh.verifyCachedDigests, maxResolutionsPerReview: wh.maxResolutionsPerReview });
  const handler = new AdmissionHandler({ rules, mode: config.mode, timeoutMs: wh.timeoutMs, metrics, logger });
  const tls = wh.tlsCert !== undefined && wh.tlsKey !== undefined
    ? { certFile: wh.tlsCert, keyFile: wh.tlsKey, ...(wh.clientCaFile === undefined ? {} : { clientCaFile: wh.clientCaFile }) }
    : undefined;
  let server: RunningWebhookServer;
  try {
    server = await startWebhookServer({
      listen: wh.listen,
      tls,
      handler,
      pinning: wh.pinning,
      maxBodyBytes: wh.maxBodyBytes,
      metrics,
      logger,
      // Only pinning and verify make readiness wait for a policy: without them most reviews need none, and an
      // unready webhook (failurePolicy: Fail) would refuse every pod where a policy problem refuses only the
      // digests verifyCachedDigests checks, each with the reason.
      notReadyReason: () => ((wh.pinning || wh.verify) && !engine.ready ? 'no usable Notation trust policy' : undefined),
      ...(opts.tlsPollMs !== undefined ? { tlsPollMs: opts.tlsPollMs } : {}),
    });
  } catch (err) {
    reloader?.stop();
    await Promise.all([...clients.values()].map((c) => c.close()));
    await Promise.all([crlSource.close(), ocspSource.close(), trustServers.closeAll()]);
    throw err;
  }
  logger.info(
    {
      listen: formatHostPort(wh.listen),
      tls: tls !== undefined,
      pinning: wh.pinning,
      verify: wh.verify,
      verifyCachedDigests: wh.verifyCachedDigests,
      mode: config.mode,
      registries: config.registries.map((r) => r.host),
      config: config.source ?? '(defaults)',
    },
    'pullgate webhook serving',
  );
  return {
    server,
    url: server.url,
    logger,
    metrics,
    get engine() {
      return engine;
    },
    async close() {
      reloader?.stop();
      await server.close();
      await Promise.all([...clients.values()].map((c) => c.close()));
      await Promise.all([crlSource.close(), ocspSource.close(), trustServers.closeAll()]);
    },
  };
}

/** Runs until SIGTERM/SIGINT; SIGHUP re-reads the TLS files at once instead of waiting for the poll. */
export async function webhookCommand(config: PullgateConfig): Promise<void> {
  const webhook = await startWebhook(config);
  const stop = (signal: string) => {
    webhook.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      webhook.server.server.closeAllConnections();
      process.exit(0);
    }, 10_000);
    force.unref();
    webhook.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('SIGHUP', () => void webhook.server.reloader?.check());
}
