// HttpOcspSource: POSTs the DER request as application/ocsp-request, http/https only, caps the response size,
// caches answers per (URL, request) and failures briefly, and bypasses the cache on `refresh`.
import t from 'tap';
import { HttpOcspSource } from '../../../registry/ocsp-source.ts';
import { startOcspServer } from '../../policy/x509/make-ocsp.ts';
import { closedUrl } from '../../harness/ports.ts';

t.test('HttpOcspSource', async (t) => {
  const server = await startOcspServer();
  const source = new HttpOcspSource({ timeoutMs: 1_000, maxBytes: 64, cacheMs: 60_000, failureCacheMs: 60_000 });
  t.teardown(() => Promise.all([server.close(), source.close()]));
  server.handler = (req) => Uint8Array.from([...req].reverse());
  const req = Uint8Array.of(1, 2, 3);

  const got = await source.fetchOcsp(`${server.url}/ocsp?x=1`, req);
  t.same(got, { ok: true, bytes: Buffer.from([3, 2, 1]) });
  t.same(server.requests.map((r) => [r.path, r.contentType, [...r.body]]), [['/ocsp?x=1', 'application/ocsp-request', [1, 2, 3]]]);

  await source.fetchOcsp(`${server.url}/ocsp?x=1`, req);
  t.equal(source.fetches, 1, 'cached per (URL, request)');
  await source.fetchOcsp(`${server.url}/ocsp?x=1`, Uint8Array.of(4));
  t.equal(source.fetches, 2, 'another request is another key');
  await source.fetchOcsp(`${server.url}/ocsp?x=1`, req, { refresh: true });
  t.equal(source.fetches, 3, 'refresh bypasses the cache');

  server.handler = () => new Uint8Array(65);
  t.match(await source.fetchOcsp(`${server.url}/big`, req), { ok: false, reason: /larger than 64 bytes/ });
  server.handler = () => undefined;
  t.match(await source.fetchOcsp(`${server.url}/err`, req), { ok: false, reason: /HTTP 500/ });
  t.match(await source.fetchOcsp('ldap://ocsp.example/', req), { ok: false, reason: /scheme ldap: is not supported/ });
  t.match(await source.fetchOcsp('not a url', req), { ok: false, reason: /is not a URL/ });
  t.match(await source.fetchOcsp(`${await closedUrl()}/`, req), { ok: false, reason: /unreachable/ }, 'a port we just released: refused');
  t.match(await source.fetchOcsp(`${server.url}/`, new Uint8Array(5000)), { ok: false, reason: /too large/ });
});
