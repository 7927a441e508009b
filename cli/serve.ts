/**
 * `pullgate serve`: the mirror and its admin listener, wired from the validated config. Startup is all or
 * nothing: a bad config, unreadable credentials or an invalid trust policy stop the process with exit 2 and
 * a message, rather than a gate that runs with half its rules.
 */
import type { PullgateConfig } from '../config/types.ts';
import { formatHostPort } from '../config/fields.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { loadPolicyState } from '../policy/load-state.ts';
import { createAdminServer } from '../proxy/admin.ts';
import { createLogger, type Logger } from '../proxy/logger.ts';
import { ProxyMetrics } from '../proxy/metrics.ts';
import { Mirror } from '../proxy/server.ts';
import { loadCredentials } from '../proxy/upstream/credentials.ts';
import type { Server } from 'node:http';

export interface RunningGate {
  readonly mirror: Mirror;
  readonly admin: Server;
  readonly logger: Logger;
  readonly metrics: ProxyMetrics;
  close(): Promise<void>;
}

export async function startGate(config: PullgateConfig, logger: Logger = createLogger(config.logLevel)): Promise<RunningGate> {
  const credentials = await loadCredentials(config.credentials);
  const policyState = await loadPolicyState(config.notation.configDir);
  if (!policyState.loaded) logger.error({ configDir: config.notation.configDir, problem: policyState.problem }, 'no usable trust policy: every pull will be denied');
  const engine = new PolicyEngine(policyState);
  const metrics = new ProxyMetrics();
  const mirror = new Mirror({ config, credentials, engine: () => engine, metrics, logger });
  const admin = createAdminServer({
    metrics: metrics.registry,
    notReadyReason: () => (engine.ready ? undefined : 'no usable Notation trust policy'),
  });
  await mirror.listen(config.listen.host, config.listen.port);
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(config.admin.port, config.admin.host, () => resolve());
  });
  logger.info(
    { listen: formatHostPort(config.listen), admin: formatHostPort(config.admin), mode: config.mode, registries: config.registries.map((r) => r.host), config: config.source ?? '(defaults)' },
    'pullgate serving',
  );
  return {
    mirror,
    admin,
    logger,
    metrics,
    async close() {
      await Promise.all([mirror.close(), new Promise<void>((resolve) => admin.close(() => resolve()))]);
    },
  };
}

/** Runs until SIGTERM/SIGINT, then stops accepting and lets in-flight requests finish within a bound. */
export async function serveCommand(config: PullgateConfig): Promise<void> {
  const gate = await startGate(config);
  const stop = (signal: string) => {
    gate.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      gate.mirror.server.closeAllConnections();
      process.exit(0);
    }, 10_000);
    force.unref();
    gate.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
