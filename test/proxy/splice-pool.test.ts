/**
 * The blob splicer's idle pool lets go of connections that die while idle (issue 16.4): a pooled connection
 * holds a 1 MiB ring of read slots (registry/splice/splice-connection.ts), so one that its idle timer or the
 * upstream closed must leave the pool then, not when a later blob happens to pop it — an idle gate would keep
 * up to maxIdle dead connections, and their rings, for as long as it stays idle.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRegistry } from '../harness/registry.ts';
import { pushLargeBlob } from '../harness/images.ts';
import { waitFor } from '../harness/wait.ts';
import { BlobSplicer } from '../../registry/splice/blob-splicer.ts';
import { BLOB_RESPONSE_HEADERS } from '../../registry/headers.ts';

const LIMITS = { connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000 };

/** A front that answers every GET by splicing it from the upstream (what proxy/blobs.ts does first). */
async function front(splicer: BlobSplicer): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    splicer.splice(req.url!, {}, res, () => {}).then((outcome) => {
      if (!outcome.spliced && !res.headersSent) res.writeHead(502).end(outcome.reason);
    }, (err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function sha(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return `sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`;
}

const close = (server: Server) => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

t.test('connections closed by their idle timer leave the pool (real registry)', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const blob = await pushLargeBlob(registry.url, 'pool/idle', 1024 * 1024);
  const splicer = new BlobSplicer(new URL(registry.url), { ...LIMITS, maxIdle: 4, idleMs: 300 }, BLOB_RESPONSE_HEADERS);
  t.teardown(() => splicer.close());
  const gate = await front(splicer);
  t.teardown(() => close(gate.server));
  const path = `/v2/pool/idle/blobs/${blob.digest}`;

  const got = await Promise.all([1, 2, 3].map(() => sha(`${gate.url}${path}`)));
  t.same(got, [blob.digest, blob.digest, blob.digest], 'three blobs spliced whole');
  t.ok(await waitFor(() => splicer.idleConnections === 3), 'their connections wait in the pool');
  t.ok(await waitFor(() => splicer.idleConnections === 0, 10_000), 'once their idle timer closed them, the pool holds none of them');
  t.equal(await sha(`${gate.url}${path}`), blob.digest, 'the next blob opens a fresh connection');
});

t.test('connections the upstream closes while idle leave the pool', async (t) => {
  const body = Buffer.alloc(600_000, 5);
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  // Like a registry behind a load balancer that drops idle keep-alive connections after a moment.
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'docker-content-digest': digest });
    res.end(body);
  });
  upstream.keepAliveTimeout = 200;
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => close(upstream));
  const splicer = new BlobSplicer(new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`), { ...LIMITS, maxIdle: 4 }, BLOB_RESPONSE_HEADERS);
  t.teardown(() => splicer.close());
  const gate = await front(splicer);
  t.teardown(() => close(gate.server));

  const got = await Promise.all([1, 2].map(() => sha(`${gate.url}/v2/x/blobs/${digest}`)));
  t.same(got, [digest, digest]);
  t.ok(await waitFor(() => splicer.idleConnections === 2), 'pooled');
  t.ok(await waitFor(() => splicer.idleConnections === 0, 10_000), 'the upstream closed them: gone from the pool (splicer idle timer is 30 s)');
  t.equal(await sha(`${gate.url}/v2/x/blobs/${digest}`), digest, 'and the next blob still arrives whole');
});
