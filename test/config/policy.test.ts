// The config's optional `policy` section, read by loadConfig from real files: inline, from a file it names, and
// wrong, with ConfigError's shape (file, key, fix) and exit 2 from the commands that load a config.
import t from 'tap';
import type { Test } from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConfig, loadConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';
import { main } from '../../cli/main.ts';

const ROOT_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

async function folder(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pullgate-config-policy-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

async function configError(t: Test, file: string): Promise<ConfigError | undefined> {
  try {
    await loadConfig(file);
  } catch (err) {
    t.ok(err instanceof ConfigError, 'a ConfigError');
    return err as ConfigError;
  }
  t.fail('the config loaded');
  return undefined;
}

const INLINE = `notation:
  configDir: ./notation
policy:
  trustServers:
    partner: {url: "https://notary.partner.example:4443"}
  rules:
    - scope: ghcr.io/acme/*
      require: [{verifier: notation}]
    - scope: registry.partner.example/*
      require:
        - verifier: notaryv1
          trustServer: partner
          rootKeyFiles: [keys/partner-root.pub]
    - scope: "*"
      deny: true
`;

t.test('no policy section: no image policy, from a file or from the built-in defaults', async (t) => {
  const dir = await folder(t, { 'pullgate.yaml': 'mode: audit\n' });
  const c = await loadConfig(path.join(dir, 'pullgate.yaml'));
  t.ok('imagePolicy' in c, 'loadConfig always sets the field');
  t.equal(c.imagePolicy, undefined);
  t.equal((await loadConfig(undefined)).imagePolicy, undefined);
  t.equal(buildConfig({ policy: null }, '/etc/pullgate/config.yaml').imagePolicy, undefined, 'policy: with nothing under it is no section');
});

t.test('an inline policy section: parsed with the config, key files relative to the config file', async (t) => {
  const dir = await folder(t, { 'pullgate.yaml': INLINE });
  await mkdir(path.join(dir, 'keys'));
  await writeFile(path.join(dir, 'keys', 'partner-root.pub'), ROOT_PEM);
  const file = path.join(dir, 'pullgate.yaml');
  const p = (await loadConfig(file)).imagePolicy;
  if (p === undefined) return t.fail('an image policy expected');
  t.equal(p.file, file, 'an inline section is the config file\'s');
  t.same(p.rules.map((r) => [r.key, r.scope.text, r.action.kind]), [
    ['policy.rules[0]', 'ghcr.io/acme/*', 'verify'],
    ['policy.rules[1]', 'registry.partner.example/*', 'verify'],
    ['policy.rules[2]', '*', 'deny'],
  ]);
  t.same([...p.verifiers].sort(), ['notaryv1', 'notation']);
  t.same(p.sources, [path.join(dir, 'keys', 'partner-root.pub')], 'the key file is watched for reloads');
});

t.test('policy: <file>, YAML or JSON, relative to the config file; its key files relative to itself', async (t) => {
  const policy = { rules: [{ scope: 'registry.partner.example/app', require: [{ verifier: 'notaryv1', trustServer: 'partner', rootKeyFiles: ['root.pub'] }] }], trustServers: { partner: { url: 'https://notary.partner.example' } } };
  const dir = await folder(t, { 'pullgate.yaml': 'policy: policies/image-policy.json\n' });
  await mkdir(path.join(dir, 'policies'));
  await writeFile(path.join(dir, 'policies', 'image-policy.json'), JSON.stringify(policy));
  await writeFile(path.join(dir, 'policies', 'root.pub'), ROOT_PEM);
  const p = (await loadConfig(path.join(dir, 'pullgate.yaml'))).imagePolicy;
  if (p === undefined) return t.fail('an image policy expected');
  t.equal(p.file, path.join(dir, 'policies', 'image-policy.json'));
  t.same(p.sources, [path.join(dir, 'policies', 'image-policy.json'), path.join(dir, 'policies', 'root.pub')]);
  t.equal(p.rules[0]!.key, 'rules[0]');

  const yamlDir = await folder(t, { 'pullgate.yaml': 'policy: ./image-policy.yaml\n', 'image-policy.yaml': 'rules:\n  - scope: "*"\n    require: [{verifier: notation}]\n' });
  const y = (await loadConfig(path.join(yamlDir, 'pullgate.yaml'))).imagePolicy;
  t.equal(y?.rules[0]?.scope.text, '*');
  t.same(y?.sources, [path.join(yamlDir, 'image-policy.yaml')]);
});

t.test('a bad rule: the file, the key path and the fix, inline and in a policy file', async (t) => {
  const inline = await folder(t, { 'pullgate.yaml': 'policy:\n  rules:\n    - scope: "*"\n      require: [{verifier: notary}]\n' });
  const err = await configError(t, path.join(inline, 'pullgate.yaml'));
  t.equal(err?.file, path.join(inline, 'pullgate.yaml'));
  t.equal(err?.key, 'policy.rules[0].require[0].verifier');
  t.equal(err?.fix, 'set verifier: notation');

  const inFile = await folder(t, { 'pullgate.yaml': 'policy: image-policy.yaml\n', 'image-policy.yaml': 'rules:\n  - scope: ghcr.io/acme/*\n    anyOf: [{verifier: notation}]\n    count: 2\n' });
  const fileErr = await configError(t, path.join(inFile, 'pullgate.yaml'));
  t.equal(fileErr?.file, path.join(inFile, 'image-policy.yaml'), 'the policy file, not the config, is named');
  t.equal(fileErr?.key, 'rules[0].count');
  t.match(fileErr?.fix, /set count between 1 and 1/);

  const missing = await folder(t, { 'pullgate.yaml': 'policy: nowhere.yaml\n' });
  const missingErr = await configError(t, path.join(missing, 'pullgate.yaml'));
  t.equal(missingErr?.file, path.join(missing, 'pullgate.yaml'));
  t.equal(missingErr?.key, 'policy');
  t.match(missingErr?.message, /cannot read .*nowhere\.yaml/);
});

t.test('serve, webhook, verify and audit stop at start with exit 2 on a bad policy', async (t) => {
  const dir = await folder(t, { 'pullgate.yaml': 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\npolicy:\n  rules:\n    - scope: GHCR.io/acme/*\n      allow: true\n' });
  const config = path.join(dir, 'pullgate.yaml');
  const write = process.stderr.write;
  t.teardown(() => { process.stderr.write = write; });
  for (const argv of [['serve', '--config', config], ['webhook', '--config', config], ['verify', '--config', config, 'ghcr.io/acme/app:v1'], ['audit', '--config', config]]) {
    let stderr = '';
    process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(argv);
    } finally {
      process.stderr.write = write;
    }
    t.equal(code, 2, `${argv[0]}: exit 2`);
    t.match(stderr, `pullgate: ${config}: policy.rules[0].scope:`, `${argv[0]}: the file and key path`);
    t.match(stderr, '(fix: ', `${argv[0]}: the fix`);
  }
});
