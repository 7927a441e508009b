/**
 * Deadlines that really stop the download (issue 12.5), against a loopback upstream that drips its bodies one
 * byte at a time — slower than any sane registry, yet never pausing long enough for undici's per-chunk
 * bodyTimeout to fire:
 * - a decision that times out aborts the envelope download under way: the upstream sees its socket closed long
 *   before the body is complete (before, the decision answered "timeout" and the download ran on behind it);
 * - the gate's manifest GET has an overall deadline (upstream.manifestTimeoutMs), not only the stall timeout.
 * A hand-written server, because the real registry cannot be made to drip.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UpstreamLimits } from '../../../config/types.ts';
import { digestOf } from '../../../oci/digest.ts';
import { fetchManifest } from '../../../registry/manifest-fetch.ts';
import { upstreamArtifactFetcher } from '../../../registry/artifact-fetcher.ts';
import { UpstreamClient } from '../../../registry/client.ts';
import { makeSigningCert } from '../../policy/envelope/make-signed.ts';
import { MemoryRegistry } from '../../policy/verifier/memory-registry.ts';
import { engineWith, notationDir, signatureManifest } from '../../policy/verifier/fixtures.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A body of `size` bytes sent one byte every `everyMs`; records what happened to it. */
interface Drip {
  sent: number;
  closed: boolean;
  readonly size: number;
}

function drip(res: ServerResponse, size: number, headers: Record<string, string | number>, everyMs = 50): Drip {
  const state: Drip = { sent: 0, closed: false, size };
  res.writeHead(200, { ...headers, 'content-length': size });
  const socket: Socket = res.socket!;
  const timer = setInterval(() => {
    if (state.sent >= size) return void clearInterval(timer);
    res.write(' ');
    state.sent++;
  }, everyMs);
  socket.once('close', () => {
    state.closed = true;
    clearInterval(timer);
  });
  return state;
}

/** Polls `cond` until it holds or `ms` pass; `what` names the wait for whoever reads the test. */
async function waitFor(_what: string, cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function dripServer(t: { teardown(fn: () => Promise<void>): void }, route: (path: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => route(req.url!.split('?')[0]!, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const limits: UpstreamLimits = { connectTimeoutMs: 2000, headersTimeoutMs: 2000, bodyTimeoutMs: 5000, manifestMaxBytes: 4 << 20, connections: 4, manifestTimeoutMs: 400 };
  const client = new UpstreamClient({ host: '127.0.0.1', endpoint: new URL(url), blobRedirects: 'relay', caFile: undefined }, limits, undefined, () => {});
  t.teardown(async () => {
    // Cut what is still dripping first, so the client's close does not wait for it.
    server.closeAllConnections();
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { client, url };
}

t.test('a timed-out decision aborts its envelope download', async (t) => {
  const subjectBytes = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 }, layers: [] });
  const subject = { mediaType: OCI_MANIFEST, digest: sha256(subjectBytes), size: Buffer.byteLength(subjectBytes) };
  const envelopeDigest = sha256('never completes');
  const sig = JSON.stringify(signatureManifest({ digest: envelopeDigest, size: 1 << 20, mediaType: 'application/jose+json' }, subject));
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(sig), size: Buffer.byteLength(sig), artifactType: 'application/vnd.cncf.notary.signature' }] });
  let envelope: Drip | undefined;
  const { client } = await dripServer(t, (path, res) => {
    if (path.includes('/referrers/')) return void res.writeHead(404).end();
    if (path === `/v2/app/manifests/${subject.digest.replace(':', '-')}`) return void res.writeHead(200, { 'content-type': OCI_INDEX }).end(index);
    if (path === `/v2/app/manifests/${sha256(sig)}`) return void res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(sig);
    if (path === `/v2/app/blobs/${envelopeDigest}`) return void (envelope = drip(res, 1 << 20, { 'content-type': 'application/octet-stream' }));
    res.writeHead(404).end();
  });
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const fetcher = upstreamArtifactFetcher(client);
  const engine = await engineWith(dir, new MemoryRegistry(), { fetcherFor: () => fetcher, timeoutMs: 300 });
  const bytes = Buffer.from(subjectBytes);
  const decision = await engine.decide({ registry: '127.0.0.1', repository: 'app', reference: 'v1', digest: digestOf(bytes), mediaType: OCI_MANIFEST, size: bytes.length, bytes });
  t.match(decision, { allow: false, reason: 'verification_timeout' }, decision.message);
  t.ok(await waitFor('the envelope request', () => envelope !== undefined), 'the envelope download had started');
  t.ok(await waitFor('the socket to close', () => envelope!.closed), 'the upstream saw the download cut off');
  t.ok(envelope!.sent < envelope!.size, `with ${envelope!.sent} of ${envelope!.size} bytes sent`);
});

t.test('the manifest GET has an overall deadline, whatever the per-chunk stall timeout', async (t) => {
  let body: Drip | undefined;
  const { client } = await dripServer(t, (path, res) => {
    if (path === '/v2/app/manifests/slow') return void (body = drip(res, 200, { 'content-type': OCI_MANIFEST }));
    res.writeHead(404).end();
  });
  const fetched = await fetchManifest(client, 'app', { kind: 'tag', tag: 'slow' }, undefined, 4 << 20);
  t.match(fetched, { ok: false, reason: 'upstream_unavailable', message: /within 400 ms \(upstream\.manifestTimeoutMs\)/ });
  t.ok(await waitFor('the socket to close', () => body?.closed === true), 'the upstream saw the request cut off');
  t.ok(body!.sent < body!.size, `with ${body!.sent} of ${body!.size} bytes sent (each byte within the 5 s stall timeout)`);

  // A caller's own signal still ends it early too (the webhook passes one).
  const caller = new AbortController();
  const pending = fetchManifest(client, 'app', { kind: 'tag', tag: 'slow' }, undefined, 4 << 20, caller.signal);
  await waitFor('the second request', () => body !== undefined && body.sent > 0 && !body.closed);
  caller.abort(new Error('caller gave up'));
  t.match(await pending, { ok: false, reason: 'upstream_unavailable' });
});
