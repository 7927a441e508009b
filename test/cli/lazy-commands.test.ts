/**
 * Each command loads only its own modules (cli/usage.ts): `pullgate hosts` runs in the DaemonSet's init
 * container under a 128 Mi limit, and a usage error should not pay for the proxy, the verifier and the webhook.
 * A `node --import` hook records the project modules each run loaded.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../harness/processes.ts';

const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));
const HOOK = fileURLToPath(new URL('./record-modules.ts', import.meta.url));
const HEAVY = [
  'proxy/server.ts', 'registry/client.ts', 'policy/engine.ts', 'verifiers/notation/verifier/', 'webhook/server.ts', 'webhook/tls-reloader.ts', 'cli/doctor.ts', 'cli/verify.ts',
  // The signature systems a policy may not use: the cosign verifier (and with it the Sigstore libraries) and the TUF client.
  'verifiers/cosign/sigstore-bundle.ts', 'verifiers/cosign/cosign-verifier.ts', 'verifiers/notaryv1/notaryv1-verifier.ts', 'policy/requirements/notaryv1.ts', 'policy/requirements/cosign.ts',
];

const dir = mkdtempSync(join(tmpdir(), 'pullgate-lazy-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ registries: [{ host: '127.0.0.1:5999', endpoint: 'http://127.0.0.1:5999' }], notation: { configDir: './notation' } }));

async function modulesOf(t: Test, args: string[], expectCode: number): Promise<string[]> {
  const out = join(dir, `modules-${args[0] ?? 'none'}.txt`);
  const r = await runCommand('/usr/bin/env', [`PULLGATE_MODULES_OUT=${out}`, process.execPath, '--import', HOOK, BIN, ...args], 30_000);
  t.equal(r.code, expectCode, `pullgate ${args.join(' ')}: ${r.stderr}`);
  return readFileSync(out, 'utf8').split('\n');
}

t.test('hosts loads the config loader and the hosts writer, nothing of the proxy, verifier or webhook', async (t) => {
  const mods = await modulesOf(t, ['hosts', '--config', config, '--dir', join(dir, 'certs.d')], 0);
  t.ok(mods.includes('cli/hosts.ts'), 'the command ran');
  t.ok(mods.includes('proxy/hosts-toml.ts'), 'and wrote hosts.toml with the shared renderer');
  t.same(mods.filter((m) => HEAVY.some((h) => m.startsWith(h))), [], 'no heavy module');
  t.match(readFileSync(join(dir, 'certs.d/127.0.0.1:5999/hosts.toml'), 'utf8'), /capabilities = \["pull", "resolve"\]/);
});

t.test('a usage error loads no command at all', async (t) => {
  const mods = await modulesOf(t, ['verify'], 2);
  t.same(mods.filter((m) => m.startsWith('cli/') && m !== 'cli/main.ts' && m !== 'cli/usage.ts'), [], 'only main and usage');
  t.same(mods.filter((m) => HEAVY.some((h) => m.startsWith(h))), []);
});

t.test('the command that runs is loaded: verify brings the verifier', async (t) => {
  // No trust policy in the config dir: verify stops with a usage error (exit 2) after loading its modules.
  const mods = await modulesOf(t, ['verify', '--config', config, '127.0.0.1:5999/app:v1'], 2);
  t.ok(mods.includes('cli/verify.ts'));
  t.ok(mods.some((m) => m.startsWith('verifiers/notation/verifier/')), 'the verifier is loaded when verify runs');
  t.notOk(mods.includes('webhook/server.ts'), 'but not the webhook');
  t.same(mods.filter((m) => m.startsWith('verifiers/cosign/cosign-verifier') || m.startsWith('verifiers/cosign/sigstore-bundle') || m.startsWith('verifiers/notaryv1/notaryv1-verifier')), [], 'nor a signature system no policy uses (cosign, Notary v1)');
});
