/**
 * Issue 12.6: a platform manifest allowed through its signed index is served under the media type the index's
 * descriptor names — not the upstream's Content-Type, not the child's own bytes. The upstream here serves a
 * polyglot child (a JSON body with both `layers` and `manifests`) with an index Content-Type and no mediaType
 * field; the signed index lists it as an image manifest. A second child names another type in its own bytes than
 * the index lists: it gets no allowance from the index and is decided on its own.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { buildConfig } from '../../config/load.ts';
import type { Decision, ImageTarget } from '../../policy/decision.ts';
import type { PolicyEngine } from '../../policy/engine.ts';
import { childAsListed, indexChildren } from '../../proxy/index-closure.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { ProxyMetrics } from '../../proxy/metrics.ts';
import { Mirror } from '../../proxy/server.ts';
import { digestOf } from '../../oci/digest.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const CONFIG = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 };

// No mediaType field: its type is whatever the upstream's Content-Type claims.
const POLYGLOT = Buffer.from(JSON.stringify({ schemaVersion: 2, config: CONFIG, layers: [], manifests: [{ mediaType: OCI_MANIFEST, digest: `sha256:${'2'.repeat(64)}`, size: 10 }] }));
// Names itself an index, but the signed index lists it as an image manifest.
const SELF_NAMED = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
const INDEX = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { mediaType: OCI_MANIFEST, digest: sha(POLYGLOT), size: POLYGLOT.length, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: OCI_MANIFEST, digest: sha(SELF_NAMED), size: SELF_NAMED.length, platform: { os: 'linux', architecture: 'arm64' } },
  ],
}));
const BY_DIGEST = new Map<string, [Buffer, string]>([[sha(INDEX), [INDEX, OCI_INDEX]], [sha(POLYGLOT), [POLYGLOT, OCI_INDEX]], [sha(SELF_NAMED), [SELF_NAMED, OCI_INDEX]]]);

t.test('a child of a signed index is served under the media type the index lists', async (t) => {
  const upstream = createServer((req, res) => {
    const ref = /^\/v2\/app\/manifests\/([^?]+)/.exec(req.url ?? '')?.[1];
    const hit = ref === 'v1' ? BY_DIGEST.get(sha(INDEX)) : ref === undefined ? undefined : BY_DIGEST.get(ref);
    if (hit === undefined) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
    res.writeHead(200, { 'content-type': hit[1], 'docker-content-digest': sha(hit[0]), 'content-length': hit[0].length });
    res.end(req.method === 'HEAD' ? undefined : hit[0]);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => { upstream.closeAllConnections(); upstream.close(() => resolve()); }));
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  // Only the index is signed; anything decided on its own is denied.
  const decided: string[] = [];
  const engine = {
    ready: true,
    problems: [],
    resolveTag: async () => ({ kind: 'registry' }),
    prepare: () => {},
    decide: async (target: ImageTarget): Promise<Decision> => {
      decided.push(target.digest.text);
      return target.digest.text === sha(INDEX)
        ? { allow: true, reason: 'verified', message: 'index signature verified', statement: 's', checks: [] }
        : { allow: false, reason: 'no_signature', message: 'no signature', statement: 's', checks: [] };
    },
  } as unknown as PolicyEngine;
  const config = buildConfig({ registries: [{ host, endpoint: `http://${host}` }] }, '/tmp/x.yaml');
  const mirror = new Mirror({ config, credentials: new Map(), engine, metrics: new ProxyMetrics(), logger: createLogger('silent') });
  await mirror.listen('127.0.0.1', 0);
  t.teardown(() => mirror.close());
  const base = `http://127.0.0.1:${(mirror.server.address() as AddressInfo).port}`;
  const get = (ref: string, method = 'GET') => fetch(`${base}/v2/app/manifests/${ref}?ns=${host}`, { method, headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });

  const index = await get('v1');
  t.equal(index.status, 200, 'the signed index is served');
  await index.arrayBuffer();

  for (const method of ['GET', 'HEAD']) {
    const child = await get(sha(POLYGLOT), method);
    t.equal(child.status, 200, `${method}: the listed child is allowed through the index`);
    t.equal(child.headers.get('content-type'), OCI_MANIFEST, `${method}: served as the image manifest the index signed, not as the upstream's index type`);
    t.equal(child.headers.get('docker-content-digest'), sha(POLYGLOT));
    if (method === 'GET') t.ok(Buffer.from(await child.arrayBuffer()).equals(POLYGLOT), 'the exact bytes');
  }

  const other = await get(sha(SELF_NAMED));
  t.equal(other.status, 403, 'a child whose own bytes name another type gets no allowance from the index');
  await other.arrayBuffer();
  t.same(decided, [sha(INDEX), sha(SELF_NAMED)], 'it was decided on its own; the polyglot child never was');
});

t.test('indexChildren and childAsListed', async (t) => {
  const index = { digest: digestOf(INDEX), mediaType: OCI_INDEX, bytes: INDEX };
  t.same(indexChildren(index, 256), [{ digest: sha(POLYGLOT), mediaType: OCI_MANIFEST }, { digest: sha(SELF_NAMED), mediaType: OCI_MANIFEST }]);
  t.same(indexChildren(index, 1), [], 'more children than the bound: none remembered');
  const odd = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ digest: sha(POLYGLOT) }, { mediaType: 'text/html', digest: sha(POLYGLOT) }, { mediaType: OCI_MANIFEST, digest: 'sha256:abc' }] }));
  t.same(indexChildren({ digest: digestOf(odd), mediaType: OCI_INDEX, bytes: odd }, 256), [], 'descriptors without a servable media type or a well-formed digest are left out');
  t.same(indexChildren({ ...index, mediaType: OCI_MANIFEST }, 256), [], 'not an index: no children');

  const polyglot = { digest: digestOf(POLYGLOT), mediaType: OCI_INDEX, bytes: POLYGLOT };
  t.equal(childAsListed(polyglot, OCI_MANIFEST)?.mediaType, OCI_MANIFEST);
  t.equal(childAsListed({ digest: digestOf(SELF_NAMED), mediaType: OCI_INDEX, bytes: SELF_NAMED }, OCI_MANIFEST), undefined);
  t.equal(childAsListed({ ...polyglot, bytes: Buffer.from('not json') }, OCI_MANIFEST), undefined);
});
