/**
 * Hot reload of the config file, the image policy's files (a policy file the config names, key files), the
 * Notation trust policy and the trust stores (ConfigMap/Secret mounts update in place). Every `reloadIntervalMs`
 * the watched files are stat-fingerprinted; on a change the new files are loaded and validated in full, and
 * only then swapped in. The image policy is part of the config: a change to any of its files re-reads the
 * config, and an image policy that appeared, changed or went away gets a new engine. A broken new file changes
 * nothing: the last good config, image policy and engine keep running, with an error log line naming the file,
 * the key and the fix, and `pullgate_config_last_reload_success{kind} 0` until a good file replaces it. A new policy engine starts a new
 * policy generation with its own decision cache (proxy/verified-store.ts, webhook/image-resolver.ts), so no
 * decision outlives the policy it was made under, not even one that was still running during the reload.
 */
import { KeyObject } from 'node:crypto';
import { ConfigError } from '../config/fields.ts';
import { loadConfig } from '../config/load.ts';
import type { PullgateConfig } from '../config/types.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import type { ReloadMetrics } from '../telemetry/shared-metrics.ts';
import type { Logger } from '../telemetry/logger.ts';
import { loadCredentials, type CredentialStore } from '../registry/credentials.ts';
import { statFingerprint } from './watch-fingerprint.ts';
import type { ImagePolicy } from '../policy/image-policy/types.ts';

export interface ReloaderOptions {
  readonly config: PullgateConfig;
  readonly logger: Logger;
  readonly metrics: ReloadMetrics;
  /** Builds an engine from everything in the config that decides (the Notation config dir, the image policy). */
  readonly loadEngine: (config: PullgateConfig) => Promise<PolicyEngine>;
  readonly applyEngine: (engine: PolicyEngine) => void;
  /** Absent: config file changes are only reported (the process must be restarted to apply them). */
  readonly applyConfig?: (config: PullgateConfig, credentials: CredentialStore) => void;
  /** loadConfig unless a test passes one that rewrites a file while it reads. */
  readonly loadConfig?: typeof loadConfig;
}

export class Reloader {
  readonly #opts: ReloaderOptions;
  #config: PullgateConfig;
  #configPrint = '';
  /** The files the config was read from besides itself and the credentials: imagePolicy.sources, or after a
   *  failed reload every file that load tried to read (so creating or fixing the one it named is noticed). */
  #configFiles: readonly string[];
  #policyPrint = '';
  /** Set when the config changed what the engine is built from: the next check builds one, whatever the prints. */
  #engineStale = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  /** The config in force: the one it started with, or the last that reloaded (serve's periodic audit reads it). */
  get config(): PullgateConfig {
    return this.#config;
  }

  constructor(opts: ReloaderOptions) {
    this.#opts = opts;
    this.#config = opts.config;
    this.#configFiles = opts.config.imagePolicy?.sources ?? [];
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
      await this.#reloadConfig(configPrint);
    }
    const policyPrint = await statFingerprint([this.#config.notation.configDir]);
    if (policyPrint !== this.#policyPrint || this.#engineStale) {
      this.#policyPrint = policyPrint;
      this.#engineStale = false;
      await this.#reloadPolicy(policyPrint);
    }
  }

  #configFingerprint(): Promise<string> {
    return statFingerprint([this.#config.source, this.#config.credentials, ...this.#configFiles]);
  }

  /**
   * Watch `files` from now on. `printBefore` was taken before the load read them: when the set is unchanged it
   * is kept, so a write that landed after the read is still seen at the next check. A new set (a key file added
   * or removed) is fingerprinted now, which cannot see a write to a new file between its read and this stat.
   */
  async #watchConfigFiles(files: readonly string[], printBefore: string): Promise<void> {
    const unique = [...new Set(files)];
    const same = unique.length === this.#configFiles.length && unique.every((f, i) => f === this.#configFiles[i]);
    this.#configFiles = unique;
    if (!same) this.#configPrint = await this.#configFingerprint();
    else this.#configPrint = printBefore;
  }

  async #reloadConfig(printBefore: string): Promise<void> {
    const { logger, metrics, applyConfig: apply } = this.#opts;
    const attempted: string[] = [];
    const filesBefore = this.#configFiles;
    let loaded: { ok: true; next: PullgateConfig; credentials?: CredentialStore } | { ok: false; err: unknown };
    try {
      const next = await (this.#opts.loadConfig ?? loadConfig)(this.#config.source, { attempted });
      loaded = apply ? { ok: true, next, credentials: await loadCredentials(next.credentials) } : { ok: true, next };
    } catch (err) {
      loaded = { ok: false, err };
    }
    // A file still being written (an editor or `kubectl cp` truncates, then writes) changes under the read: what
    // was read may be a truncated YAML that still parses, with rules missing. Apply nothing and count nothing;
    // #configPrint stays the print from before the read, so the next check sees the change and reads again.
    if ((await statFingerprint([this.#config.source, this.#config.credentials, ...filesBefore])) !== printBefore) {
      logger.info({ file: this.#config.source }, 'config files changed while being read: reading them again at the next check');
      return;
    }
    if (!loaded.ok) {
      const { err } = loaded;
      await this.#watchConfigFiles(attempted.filter((f) => f !== this.#config.source), printBefore);
      metrics.reloads.inc({ kind: 'config', result: 'failed' });
      metrics.reloadHealthy.set({ kind: 'config' }, 0);
      const where = err instanceof ConfigError ? { file: err.file, key: err.key, fix: err.fix } : { file: this.#config.source };
      logger.error({ err: (err as Error).message, ...where }, 'config reload FAILED: keeping the last good config, image policy and engine');
      return;
    }
    const { next, credentials } = loaded;
    await this.#watchConfigFiles(next.imagePolicy?.sources ?? [], printBefore);
    const previous = this.#config;
    // The engine is built from the image policy: one that appeared, changed or went away needs a new engine (a
    // new policy generation). An unchanged one (another key edited, a file touched) keeps the engine and its caches.
    const policyChanged = policyIdentity(previous.imagePolicy) !== policyIdentity(next.imagePolicy);
    if (!apply) {
      if (policyChanged) {
        // This process cannot apply the rest of the config; it can apply the image policy, which needs no restart.
        this.#config = { ...previous, imagePolicy: next.imagePolicy };
        this.#engineStale = true;
      }
      metrics.reloadHealthy.set({ kind: 'config' }, 1);
      logger.warn({ file: this.#config.source }, 'config file changed: restart to apply it (the image policy, trust policy and stores reload on their own)');
      return;
    }
    if (next.listen.port !== previous.listen.port || next.listen.host !== previous.listen.host || next.admin.port !== previous.admin.port || next.admin.host !== previous.admin.host) {
      logger.warn('listen/admin addresses changed: they take effect at the next restart');
    }
    this.#config = next;
    apply(next, credentials!);
    metrics.reloads.inc({ kind: 'config', result: 'ok' });
    metrics.reloadHealthy.set({ kind: 'config' }, 1);
    logger.info({ file: next.source, mode: next.mode, registries: next.registries.map((r) => r.host) }, 'config reloaded');
    if (policyChanged || next.notation.configDir !== previous.notation.configDir) this.#engineStale = true;
  }

  async #reloadPolicy(printBefore: string): Promise<void> {
    const { logger, metrics } = this.#opts;
    const config = this.#config;
    const configDir = config.notation.configDir;
    const imagePolicy = config.imagePolicy?.file;
    let loaded: { ok: true; engine: PolicyEngine } | { ok: false; err: unknown };
    try {
      const engine = await this.#opts.loadEngine(config);
      // A policy file that disappeared is a broken deployment, not an instruction to deny everything.
      if (!engine.ready) throw new Error(`no trust policy in ${configDir}`);
      loaded = { ok: true, engine };
    } catch (err) {
      loaded = { ok: false, err };
    }
    // As for the config: a trust policy or store written while it was read is read again at the next check.
    if ((await statFingerprint([configDir])) !== printBefore) {
      this.#engineStale = true;
      logger.info({ configDir }, 'trust policy files changed while being read: reading them again at the next check');
      return;
    }
    if (!loaded.ok) {
      metrics.reloads.inc({ kind: 'policy', result: 'failed' });
      metrics.reloadHealthy.set({ kind: 'policy' }, 0);
      logger.error({ err: (loaded.err as Error).message, configDir, imagePolicy }, 'trust policy reload FAILED: keeping the last good trust policy, stores and engine');
      return;
    }
    const { engine } = loaded;
    this.#opts.applyEngine(engine);
    for (const problem of engine.problems) logger.error({ store: `${problem.storeType}:${problem.storeName}`, problem: problem.message }, 'trust store unusable: statements using it fail authenticity');
    metrics.reloads.inc({ kind: 'policy', result: 'ok' });
    metrics.reloadHealthy.set({ kind: 'policy' }, 1);
    logger.info({ configDir, imagePolicy }, 'trust policy and trust stores reloaded; decisions made under the old ones are no longer used');
  }
}

/**
 * Everything an ImagePolicy says, as text, to tell a changed policy from an unchanged one: keys by their DER
 * SubjectPublicKeyInfo (the KeyObject is derived from it), maps and sets as their entries, URLs and patterns as text.
 */
function policyIdentity(policy: ImagePolicy | undefined): string {
  if (policy === undefined) return '';
  return JSON.stringify(policy, (_key, value: unknown) => {
    if (value instanceof KeyObject) return undefined;
    if (value instanceof Map) return [...value.entries()];
    if (value instanceof Set) return [...value.values()];
    // JSON.stringify renders every RegExp as {}: two different patterns (cosign identities) must not compare equal.
    if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
    return value;
  });
}
