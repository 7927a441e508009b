/**
 * The gate's cap on cold decisions (issue 12.5, upstream.coldDecisions): with one slot held by a decision whose
 * signature lookup the upstream keeps waiting, a warm request (a digest already decided) is answered from the
 * verified store at once, while a new cold one waits its coldDecisionWaitMs and is denied `gate_busy` — counted
 * under that reason — without its signatures ever being looked up. A hand-written loopback upstream, because
 * the real registry cannot be told to hold one answer.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VECTORS, writeNotationDir } from '../e2e/pullgate-process.ts';
import { metricValue, startTestGate } from './gate.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const manifestOf = (name: string) => JSON.stringify({ schemaVersion: 2, mediaType: OCI, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [], annotations: { name } });
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

t.test('past the cap a cold decision is denied gate_busy; a warm one never waits', async (t) => {
  const repos = ['quick', 'slow', 'other'];
  const manifests = new Map(repos.map((r) => [r, manifestOf(r)]));
  const lookups: string[] = [];
  let releaseSlow!: () => void;
  const slowHeld = new Promise<void>((resolve) => (releaseSlow = resolve));
  const upstream = createServer((req, res) => {
    const m = /^\/v2\/test\/(\w+)\/(manifests|referrers)\/([^?]+)/.exec(req.url!);
    if (m === null) return void res.writeHead(req.url === '/v2/' ? 200 : 404).end();
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'referrers' || ref.startsWith('sha256-')) {
      // distribution 2.8: no referrers API; no tag-schema index (unsigned) — "slow" answers only when released.
      lookups.push(`${repo} ${kind}`);
      if (repo === 'slow' && kind === 'manifests') return void slowHeld.then(() => res.writeHead(404).end());
      return void res.writeHead(404).end();
    }
    const body = manifests.get(repo)!;
    res.writeHead(200, { 'content-type': OCI, 'content-length': Buffer.byteLength(body), 'docker-content-digest': digestOf(body) }).end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    releaseSlow();
    upstream.closeAllConnections();
    upstream.close(() => resolve());
  }));
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pg-cold-cap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notation = writeNotationDir(dir, {
    version: '1.0',
    trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
  }, { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] });
  const gate = await startTestGate({
    registries: [{ host, endpoint: `http://${host}` }],
    notation: { configDir: notation },
    upstream: { coldDecisions: 1, coldDecisionQueue: 4, coldDecisionWaitMs: 300 },
  });
  t.teardown(() => gate.close());
  const get = (repo: string) => fetch(`${gate.url}/v2/test/${repo}/manifests/${digestOf(manifests.get(repo)!)}?ns=${host}`, { headers: { accept: OCI } });

  const first = await get('quick');
  t.equal(first.status, 403);
  t.match(await first.text(), /no signature found/, 'a cold decision while there is room');

  let slowDone = false;
  const slow = get('slow').then(async (res) => ((slowDone = true), { status: res.status, text: await res.text() }));
  const deadline = Date.now() + 5000;
  while (!lookups.includes('slow manifests') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.ok(lookups.includes('slow manifests'), 'the slow decision holds the only slot, waiting on its signature lookup');

  t.equal(await metricValue(gate.adminUrl, 'pullgate_cold_decisions', { state: 'running' }), 1, 'pullgate_cold_decisions{state="running"} shows the held slot');

  const warm = await get('quick');
  t.equal(warm.status, 403);
  t.match(await warm.text(), /no signature found/, 'the warm request got its remembered answer, not "busy"');
  t.notOk(slowDone, '...while the slot was still held');

  const busy = await get('other');
  t.equal(busy.status, 403, 'a cold decision past the cap is denied, never allowed');
  t.match(await busy.text(), /too many images are being verified at once \(1\)/);
  t.notOk(slowDone, 'it was denied while the slot was still held');
  t.notOk(lookups.some((l) => l.startsWith('other')), 'its signatures were never looked up');
  t.ok(await metricValue(gate.adminUrl, 'pullgate_pull_decisions_total', { decision: 'deny', reason: 'gate_busy' }) >= 1, 'counted under reason="gate_busy"');

  releaseSlow();
  t.match(await slow, { status: 403, text: /no signature found/ }, 'the slow decision finishes normally once answered');
  t.equal(await metricValue(gate.adminUrl, 'pullgate_cold_decisions', { state: 'running' }), 0, 'and its slot is free again');
  const scraped = await (await fetch(`${gate.adminUrl}/metrics`)).text();
  t.match(scraped, /^pullgate_cold_decision_bytes 0$/m, 'holding no bytes');
});
