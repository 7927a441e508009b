/**
 * Hot reload of the config file, the Notation trust policy and the trust stores (ConfigMap/Secret mounts
 * update in place). Every `reloadIntervalMs` the watched files are stat-fingerprinted; on a change the new
 * files are loaded and validated in full, and only then swapped in. A broken new file changes nothing: the
 * last good config and policy keep running, with an error log line naming the problem and
 * `pullgate_config_last_reload_success{kind} 0` until a good file replaces it. A new policy engine starts a new
 * policy generation with its own decision cache (proxy/verified-store.ts, webhook/image-resolver.ts), so no
 * decision outlives the policy it was made under, not even one that was still running during the reload.
 */
import { loadConfig } from '../config/load.ts';
import type { PullgateConfig } from '../config/types.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { ReloadMetrics } from '../telemetry/shared-metrics.ts';
import type { Logger } from '../telemetry/logger.ts';
import { loadCredentials, type CredentialStore } from '../registry/credentials.ts';
import { statFingerprint } from './watch-fingerprint.ts';

export interface ReloaderOptions {
  readonly config: PullgateConfig;
  readonly logger: Logger;
  readonly metrics: ReloadMetrics;
  /** Builds an engine from everything in the config that decides (the Notation config dir, the image policy). */
  readonly loadEngine: (config: PullgateConfig) => Promise<PolicyEngine>;
  readonly applyEngine: (engine: PolicyEngine) => void;
  /** Absent: config file changes are only reported (the process must be restarted to apply them). */
  readonly applyConfig?: (config: PullgateConfig, credentials: CredentialStore) => void;
}

export class Reloader {
  readonly #opts: ReloaderOptions;
  #config: PullgateConfig;
  #configPrint = '';
  #policyPrint = '';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: ReloaderOptions) {
    this.#opts = opts;
    this.#config = opts.config;
  }

  async start(): Promise<void> {
    this.#configPrint = await this.#configFingerprint();
    this.#policyPrint = await statFingerprint([this.#config.notation.configDir]);
    this.#opts.metrics.reloadHealthy.set({ kind: 'config' }, 1);
    this.#opts.metrics.reloadHealthy.set({ kind: 'policy' }, 1);
    const interval = this.#config.reloadIntervalMs;
    if (interval > 0) {
      this.#timer = setInterval(() => void this.check(), interval);
      this.#timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One check; concurrent calls share it. */
  check(): Promise<void> {
    this.#running ??= this.#check().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #check(): Promise<void> {
    const configPrint = await this.#configFingerprint();
    if (configPrint !== this.#configPrint) {
      this.#configPrint = configPrint;
      if (this.#opts.applyConfig) await this.#reloadConfig(this.#opts.applyConfig);
      else this.#opts.logger.warn({ file: this.#config.source }, 'config file changed: restart to apply it (trust policy and stores reload on their own)');
    }
    const policyPrint = await statFingerprint([this.#config.notation.configDir]);
    if (policyPrint !== this.#policyPrint) {
      this.#policyPrint = policyPrint;
      await this.#reloadPolicy();
    }
  }

  #configFingerprint(): Promise<string> {
    return statFingerprint([this.#config.source, this.#config.credentials]);
  }

  async #reloadConfig(apply: NonNullable<ReloaderOptions['applyConfig']>): Promise<void> {
    const { logger, metrics } = this.#opts;
    let next: PullgateConfig;
    let credentials: CredentialStore;
    try {
      next = await loadConfig(this.#config.source);
      credentials = await loadCredentials(next.credentials);
    } catch (err) {
      metrics.reloads.inc({ kind: 'config', result: 'failed' });
      metrics.reloadHealthy.set({ kind: 'config' }, 0);
      logger.error({ err: (err as Error).message, file: this.#config.source }, 'config reload FAILED: keeping the last good config');
      return;
    }
    const previous = this.#config;
    if (next.listen.port !== previous.listen.port || next.listen.host !== previous.listen.host || next.admin.port !== previous.admin.port || next.admin.host !== previous.admin.host) {
      logger.warn('listen/admin addresses changed: they take effect at the next restart');
    }
    this.#config = next;
    apply(next, credentials);
    metrics.reloads.inc({ kind: 'config', result: 'ok' });
    metrics.reloadHealthy.set({ kind: 'config' }, 1);
    logger.info({ file: next.source, mode: next.mode, registries: next.registries.map((r) => r.host) }, 'config reloaded');
    if (next.notation.configDir !== previous.notation.configDir) this.#policyPrint = '';
  }

  async #reloadPolicy(): Promise<void> {
    const { logger, metrics } = this.#opts;
    const configDir = this.#config.notation.configDir;
    let engine: PolicyEngine;
    try {
      engine = await this.#opts.loadEngine(this.#config);
      // A policy file that disappeared is a broken deployment, not an instruction to deny everything.
      if (!engine.ready) throw new Error(`no trust policy in ${configDir}`);
    } catch (err) {
      metrics.reloads.inc({ kind: 'policy', result: 'failed' });
      metrics.reloadHealthy.set({ kind: 'policy' }, 0);
      logger.error({ err: (err as Error).message, configDir }, 'trust policy reload FAILED: keeping the last good trust policy and stores');
      return;
    }
    this.#opts.applyEngine(engine);
    for (const problem of engine.problems) logger.error({ store: `${problem.storeType}:${problem.storeName}`, problem: problem.message }, 'trust store unusable: statements using it fail authenticity');
    metrics.reloads.inc({ kind: 'policy', result: 'ok' });
    metrics.reloadHealthy.set({ kind: 'policy' }, 1);
    logger.info({ configDir }, 'trust policy and trust stores reloaded; decisions made under the old ones are no longer used');
  }
}
