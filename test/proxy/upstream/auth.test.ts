/**
 * The upstream auth flow against a hand-written loopback registry + token server (a unit test: the real
 * distribution registry in the harness runs without auth).
 */
import t from 'tap';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamClient } from '../../../registry/client.ts';
import { parseDockerConfig } from '../../../registry/credentials.ts';
import { parseChallenge } from '../../../registry/challenge.ts';
import type { RegistryConfig, UpstreamLimits } from '../../../config/types.ts';

const LIMITS: UpstreamLimits = { connectTimeoutMs: 2000, headersTimeoutMs: 2000, bodyTimeoutMs: 2000, manifestMaxBytes: 4 << 20, connections: 4 };

async function listen(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; origin: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function registryConfig(origin: string): RegistryConfig {
  return { host: 'reg.test', endpoint: new URL(origin), blobRedirects: 'relay', caFile: undefined };
}

t.test('WWW-Authenticate parsing', async (t) => {
  t.same(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'), {
    scheme: 'bearer', realm: new URL('https://auth.docker.io/token'), service: 'registry.docker.io', scope: 'repository:library/nginx:pull',
  });
  t.same(parseChallenge('Basic realm="Registry"'), { scheme: 'basic' });
  t.equal(parseChallenge('Bearer service="x"'), undefined, 'no realm');
  t.equal(parseChallenge('Bearer realm="file:///etc/passwd"'), undefined, 'non-http realm');
  t.equal(parseChallenge('Negotiate abc'), undefined);
  t.equal(parseChallenge(undefined), undefined);
});

t.test('docker config.json credentials', async (t) => {
  const store = parseDockerConfig({
    auths: {
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:secret').toString('base64') },
      'ghcr.io': { username: 'u', password: 'p:w' },
      'empty.io': {},
    },
  }, 'auth.json');
  t.same(store.get('docker.io'), { username: 'hub', password: 'secret' });
  t.same(store.get('ghcr.io'), { username: 'u', password: 'p:w' });
  t.notOk(store.has('empty.io'));
  t.throws(() => parseDockerConfig({ auths: { 'x.io': { auth: 'bm9jb2xvbg==' } } }, 'a.json'), /user:password/);
  t.throws(() => parseDockerConfig({ auths: { 'x.io': { identitytoken: 't' } } }, 'a.json'), /identitytoken/);
  t.throws(() => parseDockerConfig({ auths: [] }, 'a.json'), /object/);
});

t.test('Bearer token flow: one token fetch per scope, cached, Basic creds sent to the realm only', async (t) => {
  let tokenFetches = 0;
  const seen: { path: string; auth: string | undefined }[] = [];
  const token = await listen((req, res) => {
    tokenFetches++;
    const url = new URL(req.url!, 'http://x');
    seen.push({ path: req.url!, auth: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: `tok-${url.searchParams.get('scope')}`, expires_in: 300 }));
  });
  const registry = await listen((req, res) => {
    const want = `Bearer tok-repository:${req.url!.split('/')[2]}:pull`;
    if (req.headers.authorization !== want) {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${token.origin}/token",service="reg.test"` }).end();
      return;
    }
    res.end('ok');
  });
  t.teardown(() => { token.server.close(); registry.server.close(); });
  // The realm is plain http on another origin: with credentials that must be refused, so test anonymous first.
  const anon = new UpstreamClient(registryConfig(registry.origin), LIMITS, undefined, () => {});
  t.teardown(() => anon.close());
  const get = (c: UpstreamClient, repo: string) =>
    c.request({ method: 'GET', path: `/v2/${repo}/manifests/v1`, headers: {}, scope: `repository:${repo}:pull`, kind: 'manifest', redirects: 'follow' });
  const results = await Promise.all(Array.from({ length: 10 }, () => get(anon, 'app')));
  for (const r of results) { t.equal(r.statusCode, 200); await r.body.text(); }
  t.equal(tokenFetches, 1, '10 concurrent first requests share one token fetch');
  const before = tokenFetches;
  for (let i = 0; i < 5; i++) { const r = await get(anon, 'app'); t.equal(r.statusCode, 200); await r.body.text(); }
  t.equal(tokenFetches, before, 'cached token reused, no new fetch');
  const other = await get(anon, 'other');
  t.equal(other.statusCode, 200);
  await other.body.text();
  t.equal(tokenFetches, before + 1, 'a new scope fetches its own token up front (no second 401)');
  t.match(seen.at(-1)!.path, /service=reg\.test/);
  t.equal(seen.at(-1)!.auth, undefined, 'anonymous token request');

  const withCreds = new UpstreamClient(registryConfig(registry.origin), LIMITS, { username: 'u', password: 'p' }, () => {});
  t.teardown(() => withCreds.close());
  await t.rejects(get(withCreds, 'app'), { code: 'REALM_INSECURE' }, 'credentials never go to a plain-http realm elsewhere');
});

t.test('Basic auth and credentials never follow a redirect to another origin', async (t) => {
  const storageSaw: (string | undefined)[] = [];
  const storage = await listen((req, res) => { storageSaw.push(req.headers.authorization); res.end('blob-bytes'); });
  const registry = await listen((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      return;
    }
    if (req.url!.includes('/blobs/')) { res.writeHead(307, { location: `${storage.origin}/bucket/x?sig=1` }).end(); return; }
    if (req.url!.includes('/same/')) { res.writeHead(302, { location: '/v2/final/manifests/v1' }).end(); return; }
    res.end('manifest');
  });
  t.teardown(() => { storage.server.close(); registry.server.close(); });
  const client = new UpstreamClient(registryConfig(registry.origin), LIMITS, { username: 'u', password: 'p' }, () => {});
  t.teardown(() => client.close());
  const relayed = await client.request({ method: 'GET', path: '/v2/a/blobs/sha256:x', headers: {}, scope: 's', kind: 'blob', redirects: 'return' });
  t.equal(relayed.statusCode, 307);
  await relayed.body.text();
  t.equal(storageSaw.length, 0, 'relay mode does not fetch');
  const followed = await client.request({ method: 'GET', path: '/v2/a/blobs/sha256:x', headers: {}, scope: 's', kind: 'blob', redirects: 'follow' });
  t.equal(await followed.body.text(), 'blob-bytes');
  t.same(storageSaw, [undefined], 'Authorization dropped on the cross-origin redirect');
  const same = await client.request({ method: 'GET', path: '/v2/same/manifests/v1', headers: {}, scope: 's', kind: 'manifest', redirects: 'follow' });
  t.equal(await same.body.text(), 'manifest', 'same-origin redirect keeps credentials');

  const anon = new UpstreamClient(registryConfig(registry.origin), LIMITS, undefined, () => {});
  t.teardown(() => anon.close());
  const denied = await anon.request({ method: 'GET', path: '/v2/a/manifests/v1', headers: {}, scope: 's', kind: 'manifest', redirects: 'follow' });
  t.equal(denied.statusCode, 401, 'no credentials: the 401 is the answer');
});
