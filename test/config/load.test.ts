import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
});

t.test('relative paths resolve against the config file folder; YAML and JSON both read', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-cfg-'));
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
    [{ lsiten: '127.0.0.1:1' }, 'lsiten', /unknown key/],
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
  writeFileSync(path.join(dir, 'bad.yaml'), 'listen: [unclosed');
  await t.rejects(loadConfig(path.join(dir, 'bad.yaml')), { code: 'CONFIG_INVALID', message: /not valid YAML/ });
});
