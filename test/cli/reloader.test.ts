// The Reloader (cli/reloader.ts) on its own: real files in a temp folder, real config loading, a real metrics
// registry; only the engine is a stand-in (what an engine does is the engine's tests' business, which engine
// the reloader asks for and when is this file's).
import t from 'tap';
import type { Test } from 'tap';
import { mkdir, mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { loadConfig } from '../../config/load.ts';
import type { PullgateConfig } from '../../config/types.ts';
import type { PolicyEngine } from '../../policy/engine.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { reloadMetrics } from '../../telemetry/shared-metrics.ts';
import { Reloader } from '../../cli/reloader.ts';

interface ReloadFixture {
  readonly dir: string;
  readonly configFile: string;
  readonly reloader: Reloader;
  /** Every config loadEngine was called with, in order. */
  readonly engineConfigs: PullgateConfig[];
  /** Every engine applied, in order. */
  readonly applied: PolicyEngine[];
  readonly logs: Record<string, unknown>[];
  /** `pullgate_config_last_reload_success{kind}`. */
  healthy(kind: 'config' | 'policy'): Promise<number | undefined>;
}

/** Replaces `file` atomically (a new inode, as a ConfigMap update does), so the stat fingerprint sees it. */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.hrtime.bigint()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function reloadFixture(t: Test, files: Record<string, string>, dirs: readonly string[] = [], opts: { applyConfig?: boolean } = {}): Promise<ReloadFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pullgate-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const d of dirs) await mkdir(path.join(dir, d));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const configFile = path.join(dir, 'pullgate.yaml');
  const config = await loadConfig(configFile);
  const engineConfigs: PullgateConfig[] = [];
  const applied: PolicyEngine[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger('debug', new Writable({ write(c: Buffer, _e, cb) { logs.push(JSON.parse(c.toString()) as Record<string, unknown>); cb(); } }));
  const registry = new Registry();
  const metrics = reloadMetrics(registry);
  const reloader = new Reloader({
    config,
    logger,
    metrics,
    loadEngine: async (engineConfig) => {
      engineConfigs.push(engineConfig);
      return { ready: true, problems: [] } as unknown as PolicyEngine;
    },
    applyEngine: (engine) => applied.push(engine),
    ...(opts.applyConfig === false ? {} : { applyConfig: () => {} }),
  });
  t.teardown(() => reloader.stop());
  const healthy = async (kind: string) => {
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === 'pullgate_config_last_reload_success');
    return gauge?.values.find((v) => v.labels.kind === kind)?.value;
  };
  return { dir, configFile, reloader, engineConfigs, applied, logs, healthy };
}

t.test('a trust policy change asks loadEngine for an engine built from the running config', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': 'reloadIntervalMs: 0\nnotation:\n  configDir: ./notation\n' }, ['notation']);
  await f.reloader.start();
  await replaceFile(path.join(f.dir, 'notation', 'trustpolicy.json'), '{}');
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1);
  t.equal(f.engineConfigs[0]!.source, f.configFile, 'the config itself, not only its Notation folder');
  t.equal(f.engineConfigs[0]!.notation.configDir, path.join(f.dir, 'notation'));
  t.equal(f.applied.length, 1);
  t.equal(await f.healthy('policy'), 1);
});
