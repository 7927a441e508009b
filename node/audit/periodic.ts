/**
 * The periodic audit inside `serve` (config audit.intervalMs; off when 0). Each wait is jittered by ±10% so a
 * DaemonSet's nodes do not all read the registry at the same instant. One pass at a time; a failed pass (containerd
 * unreachable) is logged and leaves pullgate_audit_last_success_timestamp_seconds where it was, which is what an
 * alert on staleness watches. Metric labels are bounded: verdict is allow | deny.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AuditEntry } from './audit.ts';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PeriodicAuditOptions {
  readonly intervalMs: number;
  readonly logger: AuditLogger;
  readonly registry: Registry;
  run(): Promise<{ entries: AuditEntry[]; durationMs: number }>;
  /** For tests: the random source of the jitter. */
  readonly random?: () => number;
}

export interface PeriodicAudit {
  /** Runs one pass now (also what the timer calls). */
  runOnce(): Promise<void>;
  stop(): void;
}

export function startPeriodicAudit(opts: PeriodicAuditOptions): PeriodicAudit {
  const images = new Gauge({ name: 'pullgate_node_images', help: 'Images in containerd\'s store at the last audit, by verdict against the current policy.', labelNames: ['verdict'] as const, registers: [opts.registry] });
  const duration = new Histogram({ name: 'pullgate_audit_duration_seconds', help: 'Duration of node image audits.', buckets: [0.1, 0.5, 1, 5, 15, 60, 300], registers: [opts.registry] });
  const lastSuccess = new Gauge({ name: 'pullgate_audit_last_success_timestamp_seconds', help: 'Unix time of the last audit that reached containerd and decided every image.', registers: [opts.registry] });
  const random = opts.random ?? Math.random;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  const pass = async (): Promise<void> => {
    try {
      const { entries, durationMs } = await opts.run();
      duration.observe(durationMs / 1000);
      images.set({ verdict: 'allow' }, entries.filter((e) => e.verdict === 'allow').length);
      images.set({ verdict: 'deny' }, entries.filter((e) => e.verdict !== 'allow').length);
      for (const e of entries) {
        if (e.verdict !== 'allow') opts.logger.warn({ audit: true, references: e.references, digest: e.digest, reason: e.reason, namespaces: e.namespaces, containers: e.containers, action: e.action }, `node image denied by current policy: ${e.message}`);
      }
      lastSuccess.set(Date.now() / 1000);
      opts.logger.info({ audit: true, images: entries.length, denied: entries.filter((e) => e.verdict !== 'allow').length, durationMs: Math.round(durationMs) }, 'node image audit done');
    } catch (err) {
      opts.logger.error({ audit: true, err: (err as Error).message }, 'node image audit failed');
    }
  };
  const runOnce = (): Promise<void> => {
    running ??= pass().finally(() => { running = undefined; });
    return running;
  };
  const schedule = (): void => {
    if (stopped) return;
    const wait = opts.intervalMs * (0.9 + 0.2 * random());
    timer = setTimeout(() => { void runOnce().then(schedule); }, wait);
    timer.unref();
  };
  schedule();
  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
