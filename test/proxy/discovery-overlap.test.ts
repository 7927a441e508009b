/**
 * A cold decision lists the digest's signatures while its manifest is still being fetched (PolicyEngine.prepare):
 * the upstream below answers the manifest GET only once it has seen a signature lookup for that repository, or
 * after 2 s. Sequential code would make it wait the 2 s and only then ask for the signatures. A hand-written
 * loopback upstream, because the real registry cannot be told to hold one answer for another.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNotationDir, VECTORS } from '../e2e/pullgate-process.ts';
import { startTestGate } from './gate.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const manifestOf = (name: string) => JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [], annotations: { name } });
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

t.test('signature discovery overlaps the manifest fetch; the decision is unchanged', async (t) => {
  const manifests = new Map([['strict', manifestOf('strict')], ['open', manifestOf('open')]].map(([repo, m]) => [digestOf(m!), m!]));
  const events: string[] = [];
  const lookedUp = new Set<string>();
  const waiting = new Map<string, () => void>();
  const upstream = createServer((req, res) => {
    const path = req.url!.split('?')[0]!;
    const m = /^\/v2\/test\/(strict|open)\/(manifests|referrers)\/(.+)$/.exec(path);
    if (m === null) return void res.writeHead(path === '/v2/' ? 200 : 404).end();
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'referrers' || ref.startsWith('sha256-')) {
      // distribution 2.8: no referrers API, and no tag-schema index (the image is unsigned).
      events.push(`${repo} signature lookup`);
      lookedUp.add(repo);
      waiting.get(repo)?.();
      return void res.writeHead(404).end();
    }
    const body = manifests.get(ref);
    if (body === undefined) return void res.writeHead(404).end();
    events.push(`${repo} manifest requested`);
    const answer = () => {
      waiting.delete(repo);
      clearTimeout(timer);
      events.push(`${repo} manifest answered`);
      res.writeHead(200, { 'content-type': OCI, 'content-length': Buffer.byteLength(body), 'docker-content-digest': ref }).end(body);
    };
    const timer = setTimeout(() => {
      events.push(`${repo} fallback fired`);
      answer();
    }, 2000);
    if (lookedUp.has(repo)) setImmediate(answer);
    else waiting.set(repo, () => setImmediate(answer));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pg-overlap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notation = writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [
      { name: 'open', registryScopes: [`${host}/test/open`], signatureVerification: { level: 'skip' } },
      { name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] },
    ],
  }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
  const gate = await startTestGate({ registries: [{ host, endpoint: `http://${host}` }], notation: { configDir: notation } });
  t.teardown(() => gate.close());

  const [strictDigest, openDigest] = [...manifests.keys()];
  const denied = await fetch(`${gate.url}/v2/test/strict/manifests/${strictDigest}?ns=${host}`, { headers: { accept: OCI } });
  t.equal(denied.status, 403, 'an unsigned image is still denied');
  t.match(await denied.text(), /: no signature found"/, 'for the reason sequential discovery gives');
  const strict = events.filter((e) => e.startsWith('strict'));
  t.ok(strict.indexOf('strict signature lookup') !== -1 && strict.indexOf('strict signature lookup') < strict.indexOf('strict manifest answered'),
    `the signature lookup reached the registry before the manifest was answered (${strict.join(' / ')})`);
  t.notOk(strict.includes('strict fallback fired'), 'the manifest was answered because the lookup came, not by the 2 s fallback');

  // A skip statement verifies nothing, so nothing is prepared: the manifest waits out the fallback alone.
  const open = await fetch(`${gate.url}/v2/test/open/manifests/${openDigest}?ns=${host}`, { headers: { accept: OCI } });
  t.equal(open.status, 200, 'skip allows');
  t.same(events.filter((e) => e.startsWith('open')), ['open manifest requested', 'open fallback fired', 'open manifest answered'], 'no signature lookup for a skip statement: the manifest waited for the fallback');
});
