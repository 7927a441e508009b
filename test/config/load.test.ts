import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConfig, loadConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';

t.test('built-in defaults are the documented ones', async (t) => {
  const c = await loadConfig(undefined);
  t.same(c.listen, { host: '127.0.0.1', port: 5050 });
  t.same(c.admin, { host: '127.0.0.1', port: 9050 });
  t.equal(c.mode, 'enforce');
  t.equal(c.registries[0]?.host, 'docker.io');
  t.equal(c.registries[0]?.endpoint.origin, 'https://registry-1.docker.io');
  t.match(c.notation.configDir, /notation$/);
  t.equal(c.upstream.manifestMaxBytes, 4 * 1024 * 1024);
  t.same(c.webhook, {
    listen: { host: '127.0.0.1', port: 8443 },
    tlsCert: undefined,
    tlsKey: undefined,
    clientCaFile: undefined,
    pinning: false,
    verify: false,
    verifyCachedDigests: true,
    exemptNamespaces: [],
    exemptImages: [],
    timeoutMs: 3_000,
    maxBodyBytes: 8 * 1024 * 1024,
    cacheTtlMs: 30_000,
    maxResolutionsPerReview: 32,
  });
});

t.test('webhook keys', async (t) => {
  const c = buildConfig({ webhook: { listen: '0.0.0.0:8443', tlsCert: 'tls/tls.crt', tlsKey: 'tls/tls.key', pinning: true, verify: true, verifyCachedDigests: false, exemptNamespaces: ['kube-system'], exemptImages: ['registry.k8s.io/*'], timeoutMs: 3000, maxBodyBytes: 65536, cacheTtlMs: 0, clientCaFile: 'tls/apiserver-ca.crt', maxResolutionsPerReview: 5 } }, '/etc/pullgate/config.yaml');
  t.same(c.webhook, {
    listen: { host: '0.0.0.0', port: 8443 },
    tlsCert: '/etc/pullgate/tls/tls.crt',
    tlsKey: '/etc/pullgate/tls/tls.key',
    clientCaFile: '/etc/pullgate/tls/apiserver-ca.crt',
    pinning: true,
    verify: true,
    verifyCachedDigests: false,
    exemptNamespaces: ['kube-system'],
    exemptImages: ['registry.k8s.io/*'],
    timeoutMs: 3000,
    maxBodyBytes: 65536,
    cacheTtlMs: 0,
    maxResolutionsPerReview: 5,
  });
});

t.test('relative paths resolve against the config file folder; YAML and JSON both read', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'c.yaml'), 'mode: audit\nnotation:\n  configDir: ./notation\ncredentials: auth.json\nregistries:\n  - host: 127.0.0.1:5000\n    endpoint: http://127.0.0.1:5000\n');
  const c = await loadConfig(path.join(dir, 'c.yaml'));
  t.equal(c.mode, 'audit');
  t.equal(c.notation.configDir, path.join(dir, 'notation'));
  t.equal(c.credentials, path.join(dir, 'auth.json'));
  writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ listen: '[::1]:6000' }));
  t.same((await loadConfig(path.join(dir, 'c.json'))).listen, { host: '::1', port: 6000 });
});

t.test('bad config names the file, the key and the fix', async (t) => {
  const cases: [unknown, string, RegExp][] = [
    [{ listen: 'nope' }, 'listen', /host:port/],
    [{ mode: 'permissive' }, 'mode', /enforce \| audit/],
    [{ registries: [{ host: 'https://ghcr.io', endpoint: 'https://ghcr.io' }] }, 'registries[0].host', /no scheme/],
    [{ registries: [{ host: 'ghcr.io' }] }, 'registries[0].endpoint', /required/],
    [{ registries: [{ host: 'ghcr.io', endpoint: 'ftp://x' }] }, 'registries[0].endpoint', /https/],
    [{ registries: [{ host: 'ghcr.io', endpoint: 'https://u:p@ghcr.io' }] }, 'registries[0].endpoint', /credentials/],
    [{ registries: [{ host: 'a.io', endpoint: 'https://a.io' }, { host: 'a.io', endpoint: 'https://b.io' }] }, 'registries[1].host', /twice/],
    [{ registries: [] }, 'registries', /non-empty/],
    [{ upstream: { manifestMaxBytes: 10 * 1024 * 1024 } }, 'upstream.manifestMaxBytes', /4194304/],
    [{ webhook: { tlsCert: 'a.crt' } }, 'webhook.tlsCert', /together/],
    [{ webhook: { listen: '10.0.0.1:8443' } }, 'webhook.listen', /not loopback/],
    [{ webhook: { pining: true } }, 'webhook.pining', /unknown key/],
    [{ webhook: { pinning: 'yes' } }, 'webhook.pinning', /true or false/],
    [{ webhook: { verifyCachedDigests: 'no' } }, 'webhook.verifyCachedDigests', /true or false/],
    [{ webhook: { maxResolutionsPerReview: 0 } }, 'webhook.maxResolutionsPerReview', /1/],
    [{ webhook: { exemptNamespaces: 'kube-system' } }, 'webhook.exemptNamespaces', /list of strings/],
    [{ webhook: { exemptNamespaces: ['ok', ''] } }, 'webhook.exemptNamespaces[1]', /non-empty string/],
    [{ webhook: { exemptNamespaces: ['Kube_System'] } }, 'webhook.exemptNamespaces[0]', /namespace name/],
    [{ webhook: { timeoutMs: 60_000 } }, 'webhook.timeoutMs', /100 to 25000/],
    [{ webhook: { maxBodyBytes: 10 } }, 'webhook.maxBodyBytes', /65536/],
    [{ lsiten: '127.0.0.1:1' }, 'lsiten', /unknown key/],
    [{ registries: [{ host: 'r.example', endpoint: 'https://r.example', credentialedRepositories: 'team/*' }] }, 'registries[0].credentialedRepositories', /list/],
    [{ registries: [{ host: 'r.example', endpoint: 'https://r.example', credentialedRepositories: ['Team/App'] }] }, 'registries[0].credentialedRepositories[0]', /not a repository name or prefix glob/],
    [{ registries: [{ host: 'r.example', endpoint: 'https://r.example', credentialedRepositories: ['r.example/team/*:v1'] }] }, 'registries[0].credentialedRepositories[0]', /not a repository name/],
    [[1, 2], '(root)', /mapping/],
  ];
  for (const [raw, key, msg] of cases) {
    try {
      buildConfig(raw, '/etc/pullgate/config.yaml');
      t.fail(`accepted ${JSON.stringify(raw)}`);
    } catch (err) {
      t.ok(err instanceof ConfigError, JSON.stringify(raw));
      t.equal((err as ConfigError).key, key);
      t.match((err as Error).message, /^\/etc\/pullgate\/config\.yaml: /);
      t.match((err as Error).message, msg);
      t.match((err as Error).message, /\(fix: /);
    }
  }
});

t.test('unreadable and unparsable files', async (t) => {
  await t.rejects(loadConfig('/nonexistent/pullgate.yaml'), { code: 'CONFIG_INVALID', message: /cannot read/ });
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'bad.yaml'), 'listen: [unclosed');
  await t.rejects(loadConfig(path.join(dir, 'bad.yaml')), { code: 'CONFIG_INVALID', message: /not valid YAML/ });
});

t.test('registries[].credentialedRepositories: names and prefix globs, absent means every repository', async (t) => {
  const listed = buildConfig({ registries: [{ host: 'r.example', endpoint: 'https://r.example', credentialedRepositories: ['team/*', 'base/image'] }] }, '/etc/pullgate/config.yaml');
  t.same(listed.registries[0]!.credentialedRepositories, ['team/*', 'base/image']);
  const open = buildConfig({ registries: [{ host: 'r.example', endpoint: 'https://r.example' }] }, '/etc/pullgate/config.yaml');
  t.equal(open.registries[0]!.credentialedRepositories, undefined);
  const { credentialScope, scopeRepository } = await import('../../registry/credential-scope.ts');
  const may = credentialScope(['team/*', 'base/image']);
  t.same(['team/app', 'team/a/b', 'base/image', 'team', 'base/image2', 'teams/app', 'other/app'].map(may), [true, true, true, false, false, false, false]);
  t.equal(credentialScope(undefined)('anything'), true);
  t.equal(scopeRepository('repository:team/app:pull'), 'team/app');
  t.equal(scopeRepository('registry:catalog:*'), undefined);
});
