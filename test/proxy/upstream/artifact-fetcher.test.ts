/**
 * The proxy's ArtifactFetcher against the real distribution registry (no referrers API: the caller must fall
 * back to the tag schema) and against a hand-written registry for what 2.8 cannot do (referrers pages,
 * lying digests). Also the CRL source's cache, single flight and failure handling on loopback.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startRegistry } from '../../harness/registry.ts';
import { pushOciLayout } from '../../harness/images.ts';
import { closedUrl } from '../../harness/ports.ts';
import { UpstreamClient } from '../../../registry/client.ts';
import { upstreamArtifactFetcher } from '../../../registry/artifact-fetcher.ts';
import { HttpCrlSource } from '../../../registry/crl-source.ts';
import { FetchError } from '../../../oci/discovery/fetcher.ts';
import type { UpstreamLimits } from '../../../config/types.ts';

const LIMITS: UpstreamLimits = { connectTimeoutMs: 2000, headersTimeoutMs: 2000, bodyTimeoutMs: 2000, manifestMaxBytes: 4 << 20, connections: 4 };
const LAYOUT = join(import.meta.dirname, '../../vectors/notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature');
const SUBJECT = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const SIG_MANIFEST = 'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f';
const OCI = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'];

t.test('against the real registry', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  await pushOciLayout(registry.url, 'e2e', LAYOUT);
  const client = new UpstreamClient({ host: registry.host, endpoint: new URL(registry.url), blobRedirects: 'relay', caFile: undefined }, LIMITS, undefined, () => {});
  t.teardown(() => client.close());
  const fetcher = upstreamArtifactFetcher(client);

  t.same(await fetcher.referrers('e2e', SUBJECT, 'application/vnd.cncf.notary.signature'), { supported: false }, 'distribution 2.8: no referrers API');
  const tagIndex = await fetcher.manifest('e2e', `sha256-${SUBJECT.slice(7)}`, OCI, 4 << 20);
  t.equal(tagIndex.found, true, 'the referrers tag schema index');
  if (tagIndex.found) t.match(JSON.parse(tagIndex.bytes.toString()), { manifests: [{ digest: SIG_MANIFEST, artifactType: 'application/vnd.cncf.notary.signature' }] });
  const sig = await fetcher.manifest('e2e', SIG_MANIFEST, OCI, 4 << 20);
  t.equal(sig.found, true);
  if (!sig.found) return;
  const layer = JSON.parse(sig.bytes.toString()).layers[0] as { digest: string; size: number; mediaType: string };
  t.equal(layer.mediaType, 'application/jose+json');
  t.equal((await fetcher.blob('e2e', layer.digest, 32 << 20)).length, layer.size);
  await t.rejects(fetcher.blob('e2e', layer.digest, 10), { code: 'TOO_LARGE' });
  t.same(await fetcher.manifest('e2e', 'no-such-tag', OCI, 4 << 20), { found: false });
  await t.rejects(fetcher.blob('e2e', 'sha256:' + '0'.repeat(64), 100), { code: 'INVALID_RESPONSE' });
});

t.test('referrers pages, lying registries, outages', async (t) => {
  const page2 = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
  const server = createServer((req, res) => {
    const url = req.url!;
    if (url.startsWith('/v2/app/referrers/') && !url.includes('last=')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', link: `</v2/app/referrers/${SUBJECT}?last=x>; rel="next"` }).end(page2);
    } else if (url.startsWith('/v2/app/referrers/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', link: '<https://evil.example/v2/app/referrers/x>; rel="next"' }).end(page2);
    } else if (url.startsWith('/v2/evil/referrers/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', link: '</v2/other/referrers/x>; rel="next"' }).end(page2);
    } else if (url.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"not":"what you asked for"}');
    } else if (url.includes('/blobs/')) {
      res.writeHead(url.includes('limit') ? 429 : 500).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new UpstreamClient({ host: 'fake', endpoint: new URL(origin), blobRedirects: 'relay', caFile: undefined }, LIMITS, undefined, () => {});
  t.teardown(() => client.close());
  const fetcher = upstreamArtifactFetcher(client);
  const first = await fetcher.referrers('app', SUBJECT, 'application/vnd.cncf.notary.signature');
  t.match(first, { supported: true, next: `/v2/app/referrers/${SUBJECT}?last=x` });
  const second = await fetcher.referrers('app', SUBJECT, 'x', first.supported ? first.next : undefined);
  t.match(second, { supported: true, next: undefined }, 'a next link to another host is dropped');
  t.match(await fetcher.referrers('evil', SUBJECT, 'x'), { supported: true, next: undefined }, 'a next link to another repository is dropped');
  await t.rejects(fetcher.referrers('app', SUBJECT, 'x', '/v2/other/referrers/y'), { code: 'INVALID_RESPONSE' });
  await t.rejects(fetcher.manifest('app', SUBJECT, OCI, 1000), { code: 'DIGEST_MISMATCH' }, 'by-digest bytes are checked');
  await t.rejects(fetcher.blob('app', SUBJECT, 1000), new FetchError('UPSTREAM_UNAVAILABLE', 'upstream unavailable (HTTP 500)'));
  await t.rejects(fetcher.blob('limit', SUBJECT, 1000), { code: 'RATE_LIMITED' });
});

t.test('CRL source: cached, single flight, failures are reasons', async (t) => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === '/ok.crl') setTimeout(() => res.end(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), 20);
    else if (req.url === '/big.crl') res.end(Buffer.alloc(2048));
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const crls = new HttpCrlSource({ timeoutMs: 1000, maxBytes: 1024, cacheMs: 60_000, failureCacheMs: 60_000 });
  t.teardown(() => crls.close());
  const results = await Promise.all(Array.from({ length: 20 }, () => crls.fetchCrl(`${base}/ok.crl`)));
  t.ok(results.every((r) => r.ok && r.bytes.length === 5));
  t.equal(hits, 1, '20 concurrent lookups, one fetch');
  await crls.fetchCrl(`${base}/ok.crl`);
  t.equal(hits, 1, 'cached');
  await crls.fetchCrl(`${base}/ok.crl`, { refresh: true });
  t.equal(hits, 2, 'refresh bypasses the cache');
  t.match(await crls.fetchCrl(`${base}/down.crl`), { ok: false, reason: /HTTP 503/ });
  t.match(await crls.fetchCrl(`${base}/big.crl`), { ok: false, reason: /larger than 1024/ });
  t.match(await crls.fetchCrl('ldap://ca.example/crl'), { ok: false, reason: /scheme ldap/ });
  t.match(await crls.fetchCrl(`${await closedUrl()}/nothing.crl`), { ok: false, reason: /unreachable/ }, 'a port we just released: refused');
  const before = hits;
  await crls.fetchCrl(`${base}/down.crl`);
  t.equal(hits, before, 'a failure is remembered briefly');
});
