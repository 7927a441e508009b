/**
 * NotaryServerClient against hand-written loopback servers, for what the real notary-server cannot be made to do:
 * a body too large or dripping, a bad status or a redirect, a Basic or Bearer challenge (the harness's notary-server
 * runs without auth; REAL-PEERS § 7 records that with token auth it answers exactly the registry's Bearer challenge),
 * plus the option and name checks that fail before anything is sent.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepSeconds, parseCacheControl } from '../../../registry/notary-cache.ts';
import { NotaryServerClient, type NotaryServerOptions } from '../../../registry/notary-server.ts';
import { waitFor } from '../../harness/wait.ts';

const GUN = 'registry.test:5000/team/app';
const BODY = Buffer.from('{"signed":{},"signatures":[]}');

interface Loopback { server: Server; origin: string; seen: IncomingMessage[] }
async function listen(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => { seen.push(req); handler(req, res); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
function client(t: Test, origin: string, o: Partial<NotaryServerOptions> = {}): NotaryServerClient {
  const c = new NotaryServerClient({ url: new URL(origin), ...o });
  t.teardown(() => c.close());
  return c;
}
const serve = (res: ServerResponse, body: Buffer = BODY, headers: Record<string, string> = {}) =>
  res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=300', 'content-length': String(body.length), ...headers }).end(body);

t.test('options: origin only, https or loopback http, an absolute PEM CA file, limits in range', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'notary-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
  writeFileSync(join(dir, 'damaged.pem'), '-----BEGIN CERTIFICATE-----\nMIIBdamaged\n-----END CERTIFICATE-----\n');
  const bad: [string, Partial<NotaryServerOptions>][] = [
    ['ftp://127.0.0.1/', {}],
    ['http://notary.example.com/', {}],
    ['https://notary.example.com/v2/', {}],
    ['https://notary.example.com/?x=1', {}],
    ['https://user:pw@notary.example.com/', {}],
    ['https://notary.example.com/', { caFile: 'relative/ca.pem' }],
    ['https://notary.example.com/', { caFile: join(dir, 'missing.pem') }],
    ['https://notary.example.com/', { caFile: join(dir, 'empty.pem') }],
    ['https://notary.example.com/', { caFile: join(dir, 'damaged.pem') }],
    ['https://notary.example.com/', { limits: { maxRoleBytes: 0 } }],
    ['https://notary.example.com/', { limits: { timeoutMs: 1.5 } }],
    ['https://notary.example.com/', { limits: { cacheEntries: -1 } }],
    ['https://notary.example.com/', { limits: { maxCacheAgeSeconds: 86_401 } }],
  ];
  for (const [url, o] of bad) t.throws(() => new NotaryServerClient({ url: new URL(url), ...o }), { code: 'invalid_config' }, `${url} ${JSON.stringify(o)}`);
  for (const url of ['https://notary.example.com', 'http://127.0.0.1:4443', 'http://localhost:4443/', 'http://[::1]:4443']) {
    t.doesNotThrow(() => void new NotaryServerClient({ url: new URL(url) }).close(), url);
  }
});

t.test('GUN and role name are checked before anything is sent', async (t) => {
  const up = await listen(t, (_req, res) => serve(res));
  const c = client(t, up.origin);
  const badGuns = ['', 'app', '127.0.0.1:5000/../etc', '127.0.0.1:5000/a/../b', 'h/a?x', 'h/a#x', 'h/a%2e', 'h/a b', 'h/a\nb', 'h/a\u0000', 'h//a', 'h/a/', '/h/a',
    'h/_trust/tuf', `h/${'a'.repeat(300)}`, 'h/a\\b', 'h/a..b'];
  for (const gun of badGuns) await t.rejects(c.fetchRole(gun, 'root'), { code: 'invalid_request' }, `GUN ${JSON.stringify(gun)}`);
  const badNames = ['', 'Root', 'root.json', '../root', 'targets/', 'targets//a', 'targets/../root', 'targets/a.b', 'targets/A', 'targets/a?b', '0.root', '01.root',
    '1.targets', 'timestamp.abc', 'snapshot.' + 'a'.repeat(64), `targets/${'a'.repeat(260)}`, 'x', 'root\n'];
  for (const name of badNames) await t.rejects(c.fetchRole(GUN, name), { code: 'invalid_request' }, `name ${JSON.stringify(name)}`);
  t.equal(up.seen.length, 0, 'nothing reached the server');
  for (const [gun, name] of [[GUN, 'targets/releases'], [GUN, 'targets/a/b-c_d'], ['docker.io/library/nginx', '12.root'], ['[::1]:5000/a', 'timestamp'], ['localhost/a/b', 'snapshot']] as const) {
    t.ok('bytes' in await c.fetchRole(gun, name), `${gun} ${name} accepted`);
  }
  t.same(up.seen.map((r) => r.url), ['/v2/registry.test:5000/team/app/_trust/tuf/targets/releases.json', '/v2/registry.test:5000/team/app/_trust/tuf/targets/a/b-c_d.json',
    '/v2/docker.io/library/nginx/_trust/tuf/12.root.json', '/v2/[::1]:5000/a/_trust/tuf/timestamp.json', '/v2/localhost/a/b/_trust/tuf/snapshot.json']);
});

t.test('size cap: Content-Length first, then the stream', async (t) => {
  const up = await listen(t, (req, res) => {
    if (req.url!.endsWith('/root.json')) serve(res, Buffer.alloc(1001, 0x20));
    else if (req.url!.endsWith('/targets.json')) { res.writeHead(200); res.write(Buffer.alloc(600, 0x20)); res.end(Buffer.alloc(401, 0x20)); } // chunked, no length
    else serve(res, Buffer.alloc(1000, 0x20));
  });
  const c = client(t, up.origin, { limits: { maxRoleBytes: 1000 } });
  await t.rejects(c.fetchRole(GUN, 'root'), { code: 'too_large', message: /1001 bytes/ }, 'declared too large');
  await t.rejects(c.fetchRole(GUN, 'targets'), { code: 'too_large', message: /larger than the 1000/ }, 'streamed too large');
  const ok = await c.fetchRole(GUN, 'snapshot');
  t.equal('bytes' in ok && ok.bytes.length, 1000, 'exactly the cap is accepted');
});

/** One byte every 20 ms: never a pause long enough for undici's per-chunk bodyTimeout. `closed` once the client hangs up. */
function drip(res: ServerResponse, size: number): { closed: boolean } {
  const state = { closed: false };
  res.writeHead(200, { 'content-length': String(size) });
  let sent = 0;
  const timer = setInterval(() => { if (sent++ < size) res.write(' '); else clearInterval(timer); }, 20);
  res.on('close', () => { clearInterval(timer); state.closed = true; });
  return state;
}

t.test('deadline: the whole request, not only the gaps between chunks', { timeout: 30_000 }, async (t) => {
  const drips: { closed: boolean }[] = [];
  const up = await listen(t, (_req, res) => void drips.push(drip(res, 10_000)));
  const c = client(t, up.origin, { limits: { timeoutMs: 400 } });
  await t.rejects(c.fetchRole(GUN, 'targets'), { code: 'timeout', message: /400 ms/ });
  t.equal(up.seen.length, 1);
  t.ok(await waitFor(() => drips[0]!.closed, 5000), 'the dripping response was hung up on');
});

t.test('the caller signal aborts; a shared request survives one caller leaving', { timeout: 30_000 }, async (t) => {
  const drips: { closed: boolean }[] = [];
  const up = await listen(t, (req, res) => void (req.url!.endsWith('/targets.json') ? drips.push(drip(res, 10_000)) : setTimeout(() => serve(res), 200)));
  const c = client(t, up.origin);
  const ac = new AbortController();
  const p = c.fetchRole(GUN, 'targets', ac.signal);
  await waitFor(() => up.seen.length === 1);
  ac.abort();
  await t.rejects(p, { code: 'aborted' });
  t.ok(await waitFor(() => drips[0]?.closed === true, 5000), 'the request was torn down');
  const leaver = new AbortController();
  const a = c.fetchRole(GUN, 'snapshot', leaver.signal);
  const b = c.fetchRole(GUN, 'snapshot');
  leaver.abort();
  await t.rejects(a, { code: 'aborted' });
  t.ok('bytes' in await b, 'the other caller still gets the file');
  t.equal(up.seen.filter((r) => r.url!.endsWith('/snapshot.json')).length, 1, 'one request for both');
  const already = new AbortController();
  already.abort();
  await t.rejects(c.fetchRole(GUN, 'timestamp', already.signal), { code: 'aborted' });
});

t.test('bad status; a redirect is not followed', async (t) => {
  const elsewhere = await listen(t, (_req, res) => serve(res));
  const up = await listen(t, (req, res) => {
    if (req.url!.endsWith('/root.json')) res.writeHead(500).end('oops');
    else if (req.url!.endsWith('/timestamp.json')) res.writeHead(403).end();
    else res.writeHead(302, { location: `${elsewhere.origin}${req.url}` }).end();
  });
  const c = client(t, up.origin, { credential: { username: 'u', password: 'p' } });
  await t.rejects(c.fetchRole(GUN, 'root'), { code: 'bad_status', status: 500 });
  await t.rejects(c.fetchRole(GUN, 'timestamp'), { code: 'denied', status: 403 });
  await t.rejects(c.fetchRole(GUN, 'targets'), { code: 'bad_status', status: 302 });
  t.equal(elsewhere.seen.length, 0, 'the redirect target saw nothing');
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

t.test('Basic challenge: answered with the credential, to this origin only', async (t) => {
  const up = await listen(t, (req, res) => {
    if (req.headers.authorization !== basic('alice', 's3cret')) res.writeHead(401, { 'www-authenticate': 'Basic realm="notary"' }).end();
    else serve(res);
  });
  t.ok('bytes' in await client(t, up.origin, { credential: { username: 'alice', password: 's3cret' } }).fetchRole(GUN, 'root'), 'served with Basic');
  t.same(up.seen.map((r) => r.headers.authorization), [undefined, basic('alice', 's3cret')]);
  await t.rejects(client(t, up.origin).fetchRole(GUN, 'root'), { code: 'denied', status: 401 }, 'no credential: denied');
  await t.rejects(client(t, up.origin, { credential: { username: 'alice', password: 'wrong' } }).fetchRole(GUN, 'root'), { code: 'denied', status: 401 }, 'wrong credential: denied');
});

t.test('Bearer token flow: scope repository:<GUN>:pull, Basic to the realm only, token reused', async (t) => {
  const tokens: { scope: string | null; service: string | null; auth: string | undefined }[] = [];
  let origin = '';
  const up = await listen(t, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/auth/token') {
      tokens.push({ scope: url.searchParams.get('scope'), service: url.searchParams.get('service'), auth: req.headers.authorization });
      if (req.headers.authorization !== basic('bob', 'pw')) return void res.writeHead(401).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok:${url.searchParams.get('scope')}`, expires_in: 300 }));
    }
    if (req.headers.authorization !== `Bearer tok:repository:${GUN}:pull`) {
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/auth/token",service="notary-server",scope="repository:${GUN}:pull"` }).end();
    }
    serve(res);
  });
  origin = up.origin;
  const c = client(t, up.origin, { credential: { username: 'bob', password: 'pw' } });
  t.ok('bytes' in await c.fetchRole(GUN, 'root'));
  t.ok('bytes' in await c.fetchRole(GUN, 'targets'));
  t.same(tokens, [{ scope: `repository:${GUN}:pull`, service: 'notary-server', auth: basic('bob', 'pw') }], 'one token fetch, with Basic');
  const files = up.seen.filter((r) => r.url!.startsWith('/v2/'));
  t.same(files.map((r) => r.headers.authorization), [undefined, `Bearer tok:repository:${GUN}:pull`, `Bearer tok:repository:${GUN}:pull`], 'the token is sent up front the second time');
  await t.rejects(client(t, up.origin, { credential: { username: 'bob', password: 'nope' } }).fetchRole(GUN, 'root'), { code: 'unavailable', message: /token endpoint/ }, 'token refused');
});

t.test('Bearer realm on another plain-http origin: credentials are not sent there', async (t) => {
  const realm = await listen(t, (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}'));
  const up = await listen(t, (req, res) => (req.headers.authorization === 'Bearer t' ? serve(res) : res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm.origin}/token",service="s"` }).end()));
  await t.rejects(client(t, up.origin, { credential: { username: 'u', password: 'p' } }).fetchRole(GUN, 'root'), { code: 'denied', message: /not HTTPS/ });
  t.equal(realm.seen.length, 0, 'the realm saw nothing');
  t.ok('bytes' in await client(t, up.origin).fetchRole(GUN, 'root'), 'anonymous: the token is fetched there');
  t.equal(realm.seen[0]?.headers.authorization, undefined, 'without credentials');
});

t.test('unreachable server', async (t) => {
  const up = await listen(t, (_req, res) => serve(res));
  const origin = up.origin;
  await new Promise<void>((r) => { up.server.closeAllConnections(); up.server.close(() => r()); });
  await t.rejects(client(t, origin).fetchRole(GUN, 'root'), { code: 'unavailable' });
});

t.test('cache bounds: entries and bytes', async (t) => {
  const up = await listen(t, (req, res) => serve(res, req.url!.includes('/big/') ? Buffer.alloc(3 << 20, 0x20) : BODY));
  const count = (gun: string) => up.seen.filter((r) => r.url!.startsWith(`/v2/${gun}/`)).length;
  const few = client(t, up.origin, { limits: { cacheEntries: 2 } });
  for (const gun of ['h/a', 'h/b', 'h/c', 'h/a']) await few.fetchRole(gun, 'root');
  t.equal(count('h/a'), 2, 'the oldest of 3 entries was dropped from a 2-entry cache');
  await few.fetchRole('h/c', 'root');
  t.equal(count('h/c'), 1, 'the newest is still kept');
  const big = client(t, up.origin);
  for (let i = 0; i < 12; i++) await big.fetchRole(`h/big/${i}`, 'targets');
  await big.fetchRole('h/big/0', 'targets');
  t.equal(count('h/big/0'), 2, '12 × 3 MiB do not fit in 32 MiB: the first was dropped');
  await big.fetchRole('h/big/11', 'targets');
  t.equal(count('h/big/11'), 1, 'the last is still kept');
});

t.test('the deadline covers the token fetch too', { timeout: 30_000 }, async (t) => {
  const drips: { closed: boolean }[] = [];
  let origin = '';
  const up = await listen(t, (req, res) => {
    if (req.url!.startsWith('/token')) return void drips.push(drip(res, 10_000));
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token",service="notary-server"` }).end();
  });
  origin = up.origin;
  await t.rejects(client(t, up.origin, { limits: { timeoutMs: 400 } }).fetchRole(GUN, 'root'), { code: 'timeout' });
  t.equal(drips.length, 1, 'the token endpoint was asked');
  t.ok(await waitFor(() => drips[0]!.closed, 5000), 'and hung up on at the deadline');
});

t.test('close aborts what is under way and refuses new fetches', { timeout: 30_000 }, async (t) => {
  const drips: { closed: boolean }[] = [];
  const up = await listen(t, (_req, res) => void drips.push(drip(res, 10_000)));
  const c = new NotaryServerClient({ url: new URL(up.origin) });
  const p = c.fetchRole(GUN, 'root');
  await waitFor(() => drips.length === 1);
  const rejected = t.rejects(p, { code: 'aborted' });
  await c.close();
  await rejected;
  t.ok(await waitFor(() => drips[0]!.closed, 5000), 'the response was hung up on');
  await t.rejects(c.fetchRole(GUN, 'root'), { code: 'aborted', message: /closed/ });
});

t.test('the caller signal also ends the wait for a token', { timeout: 30_000 }, async (t) => {
  const drips: { closed: boolean }[] = [];
  let origin = '';
  const up = await listen(t, (req, res) => {
    if (req.url!.startsWith('/token')) return void drips.push(drip(res, 10_000));
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${origin}/token"` }).end();
  });
  origin = up.origin;
  const ac = new AbortController();
  const p = client(t, up.origin).fetchRole(GUN, 'root', ac.signal);
  await waitFor(() => drips.length === 1);
  ac.abort();
  await t.rejects(p, { code: 'aborted' });
});

t.test('Cache-Control: what is kept and for how long (RFC 9111)', async (t) => {
  const cases: [string | string[] | undefined, number | undefined, boolean][] = [
    ['public, max-age=300, s-maxage=300, must-revalidate', 300, false], // notary-server's current metadata
    ['MAX-AGE="60"', 60, false],
    [['max-age=60', 'private'], 60, false],
    ['max-age=60, max-age=60', 60, false],
    ['max-age=60, max-age=30', undefined, false], // conflicting: stale
    ['max-age=-1', undefined, false],
    ['max-age=1e3', undefined, false],
    ['max-age=99999999999', 2 ** 31, false],
    ['s-maxage=300', undefined, false],
    ['no-store, max-age=300', 300, true],
    ['no-cache', undefined, true],
    [undefined, undefined, false],
    ['x'.repeat(5000), undefined, true],
  ];
  for (const [header, maxAge, noStore] of cases) t.same(parseCacheControl(header), { maxAgeSeconds: maxAge, noStore }, JSON.stringify(header)?.slice(0, 60));
  t.equal(keepSeconds({ maxAgeSeconds: 300, noStore: false }, false, 120), 120, 'capped');
  t.equal(keepSeconds({ maxAgeSeconds: 30, noStore: false }, false, 120), 30, 'max-age');
  t.equal(keepSeconds({ maxAgeSeconds: undefined, noStore: false }, false, 120), 0, 'no max-age');
  t.equal(keepSeconds({ maxAgeSeconds: undefined, noStore: false }, true, 120), 120, '<version>.root');
  t.equal(keepSeconds({ maxAgeSeconds: 300, noStore: true }, true, 120), 0, 'no-store wins');
});
