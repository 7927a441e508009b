// The Reloader (cli/reloader.ts) on its own: real files in a temp folder, real config loading, a real metrics
// registry; only the engine is a stand-in (what an engine does is the engine's tests' business, which engine
// the reloader asks for and when is this file's).
import t from 'tap';
import type { Test } from 'tap';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
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
  /** Every config applied (applyConfig), in order. */
  readonly appliedConfigs: PullgateConfig[];
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

interface FixtureOptions {
  readonly applyConfig?: boolean;
  /** Runs after the real loadConfig has read the files, before the reloader gets its result: a writer racing the read. */
  readonly afterConfigRead?: () => Promise<void>;
  /** The same for the engine stand-in. */
  readonly afterEngineRead?: () => Promise<void>;
}

async function reloadFixture(t: Test, files: Record<string, string>, dirs: readonly string[] = [], opts: FixtureOptions = {}): Promise<ReloadFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pullgate-reload-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const d of dirs) await mkdir(path.join(dir, d));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const configFile = path.join(dir, 'pullgate.yaml');
  const config = await loadConfig(configFile);
  const engineConfigs: PullgateConfig[] = [];
  const applied: PolicyEngine[] = [];
  const appliedConfigs: PullgateConfig[] = [];
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
      await opts.afterEngineRead?.();
      return { ready: true, problems: [] } as unknown as PolicyEngine;
    },
    loadConfig: async (source, loadOpts) => {
      const loaded = await loadConfig(source, loadOpts);
      await opts.afterConfigRead?.();
      return loaded;
    },
    applyEngine: (engine) => applied.push(engine),
    ...(opts.applyConfig === false ? {} : { applyConfig: (next: PullgateConfig) => void appliedConfigs.push(next) }),
  });
  t.teardown(() => reloader.stop());
  const healthy = async (kind: string) => {
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === 'pullgate_config_last_reload_success');
    return gauge?.values.find((v) => v.labels.kind === kind)?.value;
  };
  return { dir, configFile, reloader, engineConfigs, applied, appliedConfigs, logs, healthy };
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

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const KEY_A = pem();
const KEY_B = pem();
const CONFIG_WITH_POLICY_FILE = 'reloadIntervalMs: 0\nnotation:\n  configDir: ./notation\npolicy: ./image-policy.yaml\n';
const policyFile = (scope: string) => `trustServers:
  partner: {url: "https://notary.partner.example"}
rules:
  - scope: "${scope}"
    require:
      - {verifier: notaryv1, trustServer: partner, rootKeyFiles: [./root.pub]}
  - scope: "*"
    require: [{verifier: notation}]
`;
const rootKeyOf = (config: PullgateConfig | undefined) => {
  const action = config?.imagePolicy?.rules[0]?.action;
  const req = action?.kind === 'verify' ? action.requirements[0] : undefined;
  return req?.verifier === 'notaryv1' ? req.rootKeys[0]?.spki.toString('base64') : undefined;
};
const spkiOf = (text: string) => createPublicKey(text).export({ type: 'spki', format: 'der' }).toString('base64');

t.test('a changed policy file: the config is re-read and loadEngine gets it, with the new image policy', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation']);
  await f.reloader.start();
  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('ghcr.io/partner/*'));
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 1, 'the new config is applied');
  t.equal(f.engineConfigs.length, 1, 'and a new engine built');
  t.equal(f.engineConfigs[0]!.imagePolicy?.rules[0]?.scope.text, 'ghcr.io/partner/*', 'from the new image policy');
  t.equal(f.engineConfigs[0], f.appliedConfigs[0], 'the same config the proxy now runs with');
  t.equal(f.applied.length, 1);
  t.equal(await f.healthy('config'), 1);
  t.equal(await f.healthy('policy'), 1);
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1, 'nothing changed since: no reload');
});

t.test('a key file the policy reads (imagePolicy.sources) changing reloads it', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation']);
  await f.reloader.start();
  await replaceFile(path.join(f.dir, 'root.pub'), KEY_B);
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1);
  t.equal(rootKeyOf(f.engineConfigs[0]), spkiOf(KEY_B), 'the engine is built with the new root key');

  // The policy now reads another key file: that one is watched from now on, and the switch is one reload, not two.
  await writeFile(path.join(f.dir, 'other-root.pub'), KEY_A);
  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('ghcr.io/acme/*').replace('./root.pub', './other-root.pub'));
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 2);
  t.equal(rootKeyOf(f.engineConfigs[1]), spkiOf(KEY_A));
  const applied = f.appliedConfigs.length;
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, applied, 'no second reload for the same change');
  t.equal(f.engineConfigs.length, 2);
  await replaceFile(path.join(f.dir, 'root.pub'), KEY_A);
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 2, 'the key file no longer read is no longer watched');
  await replaceFile(path.join(f.dir, 'other-root.pub'), KEY_B);
  await f.reloader.check();
  t.equal(rootKeyOf(f.engineConfigs[2]), spkiOf(KEY_B), 'the one read now is');
});

t.test('a broken policy file keeps the last good config and engine, says where and how to fix it, metric 0', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation']);
  await f.reloader.start();
  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('GHCR.io/acme/*'));
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 0, 'the last good config stays');
  t.equal(f.engineConfigs.length, 0, 'and the last good engine');
  t.equal(f.applied.length, 0);
  t.equal(await f.healthy('config'), 0);
  const error = f.logs.find((l) => l.msg === 'config reload FAILED: keeping the last good config, image policy and engine');
  t.match(error, { level: 50, file: path.join(f.dir, 'image-policy.yaml'), key: 'rules[0].scope', fix: String });
  t.ok(String((error as { fix?: unknown } | undefined)?.fix).length > 0, 'a fix');

  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('ghcr.io/fixed/*'));
  await f.reloader.check();
  t.equal(await f.healthy('config'), 1, 'a good file replaces it');
  t.equal(f.engineConfigs[0]?.imagePolicy?.rules[0]?.scope.text, 'ghcr.io/fixed/*');
});

t.test('a broken config naming a key file that does not exist yet: creating the file is noticed', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation']);
  await f.reloader.start();
  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('ghcr.io/acme/*').replace('./root.pub', './next-root.pub'));
  await f.reloader.check();
  t.equal(await f.healthy('config'), 0);
  t.match(f.logs.at(-1), { key: 'rules[0].require[0].rootKeyFiles[0]' });
  await writeFile(path.join(f.dir, 'next-root.pub'), KEY_B);
  await f.reloader.check();
  t.equal(await f.healthy('config'), 1);
  t.equal(rootKeyOf(f.engineConfigs[0]), spkiOf(KEY_B));
});

t.test('an inline policy edit reloads the engine; other config edits do not, with or without a policy', async (t) => {
  const inline = (scope: string, mode: string) => `reloadIntervalMs: 0\nmode: ${mode}\nnotation:\n  configDir: ./notation\npolicy:\n  rules:\n    - scope: "${scope}"\n      allow: true\n`;
  const f = await reloadFixture(t, { 'pullgate.yaml': inline('ghcr.io/acme/*', 'enforce') }, ['notation']);
  await f.reloader.start();
  await replaceFile(f.configFile, inline('ghcr.io/acme/*', 'audit'));
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 1);
  t.equal(f.engineConfigs.length, 0, 'the same image policy: the engine and its decisions stay');
  await replaceFile(f.configFile, inline('ghcr.io/other/*', 'audit'));
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1, 'a changed rule: a new engine');
  t.equal(f.engineConfigs[0]!.imagePolicy?.rules[0]?.scope.text, 'ghcr.io/other/*');
  await replaceFile(f.configFile, 'reloadIntervalMs: 0\nmode: audit\nnotation:\n  configDir: ./notation\n');
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 2, 'the policy removed: a new engine without one');
  t.equal(f.engineConfigs[1]!.imagePolicy, undefined);
  await replaceFile(f.configFile, 'reloadIntervalMs: 0\nmode: enforce\nnotation:\n  configDir: ./notation\n');
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 4);
  t.equal(f.engineConfigs.length, 2, 'no policy before or after: the engine follows the Notation folder only, as before');
});

t.test('without applyConfig (the webhook) a policy change still gets a new engine; the rest waits for a restart', async (t) => {
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation'], { applyConfig: false });
  await f.reloader.start();
  await replaceFile(f.configFile, CONFIG_WITH_POLICY_FILE.replace('reloadIntervalMs: 0', 'reloadIntervalMs: 0\nmode: audit'));
  await replaceFile(path.join(f.dir, 'image-policy.yaml'), policyFile('ghcr.io/partner/*'));
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1);
  t.equal(f.engineConfigs[0]!.imagePolicy?.rules[0]?.scope.text, 'ghcr.io/partner/*', 'the new image policy');
  t.equal(f.engineConfigs[0]!.mode, 'enforce', 'the running config otherwise');
  t.ok(f.logs.some((l) => String(l.msg).startsWith('config file changed: restart to apply it')));
});

t.test('a policy file rewritten while it is read: the truncated YAML that parsed is never applied; the finished file is, once', async (t) => {
  const full = policyFile('ghcr.io/partner/*');
  // What a reader sees mid-write: the first rule only. It parses, and it is not the policy being written.
  const truncated = full.slice(0, full.indexOf('  - scope: "*"'));
  let race: (() => Promise<void>) | undefined;
  const f = await reloadFixture(t, { 'pullgate.yaml': CONFIG_WITH_POLICY_FILE, 'image-policy.yaml': policyFile('ghcr.io/acme/*'), 'root.pub': KEY_A }, ['notation'], {
    afterConfigRead: async () => {
      const finish = race;
      race = undefined;
      await finish?.();
    },
  });
  await f.reloader.start();
  const policy = path.join(f.dir, 'image-policy.yaml');
  await writeFile(policy, truncated);
  race = () => writeFile(policy, full);
  await f.reloader.check();
  t.same(f.appliedConfigs, [], 'the read raced a write: nothing applied');
  t.equal(f.engineConfigs.length, 0, 'and no engine built from it');
  t.equal(await f.healthy('config'), 1, 'not counted as a failure either');
  t.ok(f.logs.some((l) => l.msg === 'config files changed while being read: reading them again at the next check'));
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 1, 'the next check reads the finished file');
  t.equal(f.appliedConfigs[0]!.imagePolicy?.rules.length, 2, 'both rules');
  t.equal(f.engineConfigs.length, 1);
  await f.reloader.check();
  t.equal(f.appliedConfigs.length, 1, 'one write, one reload');
});

t.test('a trust policy rewritten while the engine reads it: that engine is not applied; the next check builds one', async (t) => {
  let race: (() => Promise<void>) | undefined;
  const f = await reloadFixture(t, { 'pullgate.yaml': 'reloadIntervalMs: 0\nnotation:\n  configDir: ./notation\n' }, ['notation'], {
    afterEngineRead: async () => {
      const finish = race;
      race = undefined;
      await finish?.();
    },
  });
  await f.reloader.start();
  const trustPolicy = path.join(f.dir, 'notation', 'trustpolicy.json');
  await writeFile(trustPolicy, '{"version": "1.0", "trustPolicies": [');
  race = () => writeFile(trustPolicy, '{"version": "1.0", "trustPolicies": []}');
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 1, 'an engine was read');
  t.same(f.applied, [], 'but not applied: its files changed under the read');
  t.equal(await f.healthy('policy'), 1);
  await f.reloader.check();
  t.equal(f.engineConfigs.length, 2, 'read again');
  t.equal(f.applied.length, 1, 'and applied');
  await f.reloader.check();
  t.equal(f.applied.length, 1, 'one write, one reload');
});
