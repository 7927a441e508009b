/**
 * The blob splice path (registry/splice): exact bytes under concurrency and across reused connections, Range,
 * client aborts, and upstreams that misbehave mid-body or close pooled connections.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRegistry } from '../harness/registry.ts';
import { pushLargeBlob } from '../harness/images.ts';
import { startTestGate, metricValue } from './gate.ts';
import { waitFor } from '../harness/wait.ts';

async function download(url: string, headers: Record<string, string> = {}): Promise<{ status: number; sha: string; bytes: number; range?: string | null }> {
  const res = await fetch(url, { headers });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of res.body!) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { status: res.status, sha: `sha256:${hash.digest('hex')}`, bytes, range: res.headers.get('content-range') };
}

t.test('exact bytes from the real registry, concurrent and reused, with Range', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const blob = await pushLargeBlob(registry.url, 'splice/big', 8 * 1024 * 1024);
  const gate = await startTestGate({ registries: [{ host: registry.host, endpoint: registry.url }], notation: { configDir: '/nonexistent' } });
  t.teardown(() => gate.close());
  const url = `${gate.url}/v2/splice/big/blobs/${blob.digest}?ns=${registry.host}`;
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all(Array.from({ length: 6 }, () => download(url)));
    for (const r of results) {
      t.equal(r.status, 200);
      t.equal(r.sha, blob.digest, `round ${round}: every byte as stored`);
    }
  }
  const part = await download(url, { range: 'bytes=1000-1999' });
  t.equal(part.status, 206);
  t.equal(part.bytes, 1000);
  t.equal(part.range, `bytes 1000-1999/${blob.size}`);
  t.equal(await metricValue(gate.adminUrl, 'pullgate_blob_bytes_total', { registry: registry.host }), 18 * blob.size + 1000, 'bytes counted');

  // A client that walks away mid-blob does not poison the pool for the next one.
  await new Promise<void>((resolve) => {
    const req = request(url, (res) => {
      res.once('data', () => { req.destroy(); resolve(); });
    });
    req.end();
  });
  const after = await download(url);
  t.equal(after.sha, blob.digest, 'next download intact after an aborted one');
  const missing = await fetch(`${gate.url}/v2/splice/big/blobs/sha256:${'0'.repeat(64)}?ns=${registry.host}`);
  t.equal(missing.status, 404, 'a 404 falls back to the full path and is passed on');
  t.match(await missing.json(), { errors: [{ code: 'BLOB_UNKNOWN' }] });
});

t.test('misbehaving upstreams: short bodies stay short, closed pooled connections are retried', async (t) => {
  const body = Buffer.alloc(300_000, 7);
  let requests = 0;
  const upstream = createServer((req, res) => {
    requests++;
    if (req.url!.includes('/cut/')) {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000));
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (req.url!.includes('/close/')) {
      // Answers, then closes the connection while it sits idle in pullgate's pool.
      res.writeHead(200, { 'content-length': body.length });
      res.end(body, () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (req.url!.includes('/chunked/')) {
      res.writeHead(200);
      res.end(body);
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => { upstream.close(); upstream.closeAllConnections(); });
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const gate = await startTestGate({ registries: [{ host, endpoint: `http://${host}` }], notation: { configDir: '/nonexistent' }, upstream: { bodyTimeoutMs: 500 } });
  t.teardown(() => gate.close());
  const digest = `sha256:${'1'.repeat(64)}`;
  const want = `sha256:${createHash('sha256').update(body).digest('hex')}`;

  await t.rejects(download(`${gate.url}/v2/cut/blobs/${digest}?ns=${host}`), 'a cut body is a failed download, not a short success');
  const first = await download(`${gate.url}/v2/close/blobs/${digest}?ns=${host}`);
  t.equal(first.sha, want);
  // The upstream closes that connection 20 ms after answering: wait until it has, so the gate's pool holds a
  // connection the upstream already closed.
  const openUpstreamConnections = () => new Promise<number>((resolve, reject) => upstream.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  t.ok(await waitFor(async () => (await openUpstreamConnections()) === 0, 5000), 'the upstream closed the pooled connection');
  const before = requests;
  const second = await download(`${gate.url}/v2/close/blobs/${digest}?ns=${host}`);
  t.equal(second.sha, want, 'pooled connection closed by upstream: retried on a fresh one');
  t.equal(requests, before + 1, 'one upstream request served it');
  const chunked = await download(`${gate.url}/v2/chunked/blobs/${digest}?ns=${host}`);
  t.equal(chunked.sha, want, 'chunked responses go through the full path');
  t.equal((await fetch(`${gate.url}/v2/`)).status, 200, 'still serving');
});
