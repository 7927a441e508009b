/**
 * Starts pullgate's gate in-process on loopback with ephemeral ports, capturing its JSON log lines, for tests.
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { buildConfig } from '../../config/load.ts';
import { startGate, type RunningGate } from '../../cli/serve.ts';
import { createLogger } from '../../telemetry/logger.ts';

export interface TestGate {
  readonly gate: RunningGate;
  readonly url: string;
  readonly host: string;
  readonly adminUrl: string;
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function startTestGate(config: Record<string, unknown>, configFile = '/tmp/pullgate-test/config.yaml'): Promise<TestGate> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const cfg = buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', ...config }, configFile);
  const gate = await startGate(cfg, createLogger('debug', sink));
  const port = (gate.mirror.server.address() as AddressInfo).port;
  const adminPort = (gate.admin.address() as AddressInfo).port;
  return {
    gate,
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    logs,
    close: () => gate.close(),
  };
}

/** The value of one sample of a metric in Prometheus text, or 0 when absent. */
export async function metricValue(adminUrl: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
