/**
 * The periodic audit inside `serve` (config audit.intervalMs; off while 0). The settings are read through a
 * getter before every wait and every pass, so a config reload takes effect without a restart: a new interval
 * reschedules the next pass (within recheckMs), a new socket or remove flag applies to the next pass, and
 * intervalMs 0 pauses it. Each wait is jittered by ±10% so a DaemonSet's nodes do not all read the registry at
 * the same instant. One pass at a time; a failed pass (containerd unreachable) is logged and leaves
 * pullgate_audit_last_success_timestamp_seconds where it was, which is what an alert on staleness watches.
 * Metric labels are bounded: verdict is allow | deny. The metrics exist from the first pass on, so a gate with the
 * audit off exports none of them.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AuditConfig } from '../../config/types.ts';
import type { AuditEntry } from './audit.ts';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PeriodicAuditOptions {
  /** The audit settings in force now (serve: the last config that loaded); undefined = off. */
  readonly config: () => AuditConfig | undefined;
  readonly logger: AuditLogger;
  readonly registry: Registry;
  run(config: AuditConfig): Promise<{ entries: AuditEntry[]; durationMs: number }>;
  /** How often the settings are read again while the audit is off or waiting (default 10 s). */
  readonly recheckMs?: number;
  /** For tests: the random source of the jitter. */
  readonly random?: () => number;
}

export interface PeriodicAudit {
  /** Runs one pass now with the settings in force (also what the timer calls); nothing when the audit is off. */
  runOnce(): Promise<void>;
  stop(): void;
}

interface AuditMetrics { images: Gauge<'verdict'>; duration: Histogram; lastSuccess: Gauge }

function createMetrics(registry: Registry): AuditMetrics {
  return {
    images: new Gauge({ name: 'pullgate_node_images', help: 'Images in containerd\'s store at the last audit, by verdict against the current policy.', labelNames: ['verdict'] as const, registers: [registry] }),
    duration: new Histogram({ name: 'pullgate_audit_duration_seconds', help: 'Duration of node image audits.', buckets: [0.1, 0.5, 1, 5, 15, 60, 300], registers: [registry] }),
    lastSuccess: new Gauge({ name: 'pullgate_audit_last_success_timestamp_seconds', help: 'Unix time of the last audit that reached containerd and decided every image.', registers: [registry] }),
  };
}

export function startPeriodicAudit(opts: PeriodicAuditOptions): PeriodicAudit {
  const random = opts.random ?? Math.random;
  const recheckMs = opts.recheckMs ?? 10_000;
  let metrics: AuditMetrics | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  /** The next pass is due at `due.at`, computed for `due.interval` from `since` (start, enabling, or last pass). */
  let due: { at: number; interval: number } | undefined;
  let since = Date.now();
  let enabled = false;

  const pass = async (config: AuditConfig): Promise<void> => {
    metrics ??= createMetrics(opts.registry);
    try {
      const { entries, durationMs } = await opts.run(config);
      metrics.duration.observe(durationMs / 1000);
      metrics.images.set({ verdict: 'allow' }, entries.filter((e) => e.verdict === 'allow').length);
      metrics.images.set({ verdict: 'deny' }, entries.filter((e) => e.verdict !== 'allow').length);
      for (const e of entries) {
        if (e.verdict !== 'allow') opts.logger.warn({ audit: true, references: e.references, digest: e.digest, reason: e.reason, namespaces: e.namespaces, containers: e.containers, action: e.action }, `node image denied by current policy: ${e.message}`);
      }
      metrics.lastSuccess.set(Date.now() / 1000);
      opts.logger.info({ audit: true, images: entries.length, denied: entries.filter((e) => e.verdict !== 'allow').length, durationMs: Math.round(durationMs), socket: config.containerdSocket, remove: config.remove }, 'node image audit done');
    } catch (err) {
      opts.logger.error({ audit: true, socket: config.containerdSocket, err: (err as Error).message }, 'node image audit failed');
    }
  };
  const runOnce = (): Promise<void> => {
    const config = opts.config();
    if (config === undefined) return Promise.resolve();
    running ??= pass(config).finally(() => { running = undefined; });
    return running;
  };
  const wait = (ms: number): void => {
    timer = setTimeout(tick, Math.max(0, ms));
    timer.unref();
  };
  function tick(): void {
    if (stopped) return;
    const interval = opts.config()?.intervalMs ?? 0;
    const now = Date.now();
    if ((interval > 0) !== enabled) {
      enabled = interval > 0;
      opts.logger.info({ audit: true, intervalMs: interval }, enabled ? 'node image audit on' : 'node image audit off');
    }
    if (interval <= 0) {
      due = undefined;
      since = now; // enabling later waits one interval from then, not from a pass long ago
      wait(recheckMs);
      return;
    }
    if (due === undefined || due.interval !== interval) due = { at: since + interval * (0.9 + 0.2 * random()), interval };
    if (now < due.at) {
      wait(Math.min(due.at - now, recheckMs));
      return;
    }
    void runOnce().then(() => {
      since = Date.now();
      due = undefined;
      tick();
    });
  }
  tick();
  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
