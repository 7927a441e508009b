/**
 * The resolver behind pinning and verify: one upstream fetch for concurrent admissions of an image, reuse for
 * cacheTtlMs, transient failures and engine errors never cached, dry runs leave no trace; and a policy change
 * while a resolution is deciding (issue 12.1): the old decision answers nothing asked afterwards.
 */
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { buildConfig } from '../../config/load.ts';
import type { Decision, ImageTarget } from '../../policy/decision.ts';
import type { DecisionSubject } from '../../policy/decision.ts';
import type { PolicyEngine } from '../../policy/engine.ts';
import { UpstreamClient } from '../../registry/client.ts';
import { ImageResolver } from '../../webhook/image-resolver.ts';
import { parseImageReference } from '../../webhook/image-reference.ts';

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

t.test('single flight, TTL cache, no caching of failures, dry runs', async (t) => {
  let hits = 0;
  const events: string[] = [];
  const upstream = createServer((req, res) => {
    hits++;
    events.push(`fetch ${req.url}`);
    if (req.url === '/v2/app/manifests/v1' || req.url === `/v2/app/manifests/${DIGEST}`) {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': DIGEST }).end(MANIFEST), 30);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => upstream.close());
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const config = buildConfig({ registries: [{ host, endpoint: `http://${host}` }] }, '/tmp/x.yaml');
  const client = new UpstreamClient(config.registries[0]!, config.upstream, undefined, () => {});
  t.teardown(() => client.close());

  let decisions = 0;
  let verdict: Decision | Error = { allow: true, reason: 'verified', message: 'ok', statement: 's', checks: [] };
  const seen: ImageTarget[] = [];
  const engine = {
    decide: async (target: ImageTarget) => {
      decisions++;
      seen.push(target);
      if (verdict instanceof Error) throw verdict;
      return verdict;
    },
    resolveTag: async () => ({ kind: 'registry' }),
    prepare: (subject: DecisionSubject) => void events.push(`prepare ${subject.registry}/${subject.repository}@${subject.digest.text}`),
  } as unknown as PolicyEngine;
  const errors: unknown[] = [];
  const make = (cacheTtlMs: number) => new ImageResolver({ clients: new Map([[host, client]]), engine, manifestMaxBytes: 1 << 20, cacheTtlMs, timeoutMs: 2000, onEngineError: (e) => errors.push(e) });
  const ref = parseImageReference(`${host}/app:v1`);

  const r = make(60_000);
  const five = await Promise.all(Array.from({ length: 5 }, () => r.resolve(ref, true)));
  t.equal(hits, 1, 'five concurrent admissions, one upstream fetch');
  t.equal(decisions, 1, 'and one decision');
  t.same(five.map((x) => x.outcome === 'allowed' && x.digest), Array(5).fill(DIGEST));
  t.match(seen[0], { registry: host, repository: 'app', reference: 'v1', digest: { text: DIGEST }, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: MANIFEST.length });
  await r.resolve(ref, true);
  t.equal(hits, 1, 'cached');
  t.notOk(events.some((e) => e.startsWith('prepare')), 'a tag is resolved by its fetch: nothing to prepare');
  // The tag's decision is about its digest's bytes: a review naming that digest finds it without a lookup.
  t.same(r.peek(parseImageReference(`${host}/app@${DIGEST}`)), five[0], 'the digest the tag resolved to is cached too');
  const byDigest = await r.resolve(parseImageReference(`${host}/app:v1@${DIGEST}`), true);
  t.equal(byDigest.outcome, 'allowed');
  t.equal(hits, 1, 'no second fetch for the digest');
  const fresh = make(60_000);
  const byDigestCold = await fresh.resolve(parseImageReference(`${host}/app:v1@${DIGEST}`), true);
  t.equal(byDigestCold.outcome, 'allowed');
  t.equal(seen[1]?.reference, DIGEST, 'tag+digest is decided by digest');
  t.same(events.slice(-2), [`prepare ${host}/app@${DIGEST}`, `fetch /v2/app/manifests/${DIGEST}`], 'a digest is prepared before its manifest is fetched');
  t.equal(fresh.peek(ref), undefined, 'peek reads without resolving');

  const dry = make(60_000);
  await dry.resolve(ref, false);
  await dry.resolve(ref, false);
  t.equal(hits, 4, 'remember: false reads upstream each time and caches nothing');
  await dry.resolve(ref, true);
  await dry.resolve(ref, true);
  t.equal(hits, 5);

  const none = make(0);
  await none.resolve(ref, true);
  await none.resolve(ref, true);
  t.equal(hits, 7, 'cacheTtlMs 0: no cache (lru-cache would keep ttl 0 forever)');

  const transient = make(60_000);
  verdict = { allow: false, reason: 'upstream_unavailable', message: 'registry down', statement: 's', checks: [] };
  t.equal((await transient.resolve(ref, true)).outcome, 'denied');
  verdict = { allow: true, reason: 'verified', message: 'ok', statement: 's', checks: [] };
  t.equal((await transient.resolve(ref, true)).outcome, 'allowed', 'a transient denial is not cached');

  const broken = make(60_000);
  verdict = new Error('verifier bug');
  const failed = await broken.resolve(ref, true);
  t.same(failed, { outcome: 'unresolved', reason: 'engine_error', message: 'internal error during verification' });
  t.equal(errors.length, 1, 'reported');
  verdict = { allow: true, reason: 'verified', message: 'ok', statement: 's', checks: [] };
  t.equal((await broken.resolve(ref, true)).outcome, 'allowed', 'and retried next time');

  const missing = await make(60_000).resolve(parseImageReference(`${host}/app:nope`), true);
  t.same(missing, { outcome: 'unresolved', reason: 'manifest_unknown', message: 'manifest unknown upstream' });
  const unconfigured = await make(60_000).resolve(parseImageReference('quay.io/app:v1'), true);
  t.same(unconfigured, { outcome: 'unresolved', reason: 'upstream_unavailable', message: 'registry quay.io is not configured' });
});

t.test('a policy change while a resolution is deciding: the new policy never sees the old decision', async (t) => {
  let fetches = 0;
  const upstream = createServer((req, res) => {
    fetches++;
    if (req.url === '/v2/app/manifests/v1') res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': DIGEST }).end(MANIFEST);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.teardown(() => upstream.close());
  const host = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const config = buildConfig({ registries: [{ host, endpoint: `http://${host}` }] }, '/tmp/x.yaml');
  const client = new UpstreamClient(config.registries[0]!, config.upstream, undefined, () => {});
  t.teardown(() => client.close());

  // The old engine's verification is held (as by a slow signature fetch) until the test lets it finish.
  const decided: string[] = [];
  let finishOld: () => void = () => {};
  const oldEngine = {
    resolveTag: async () => ({ kind: 'registry' }),
    prepare: () => {},
    decide: async () => {
      decided.push('old');
      await new Promise<void>((resolve) => (finishOld = resolve));
      return { allow: true, reason: 'verified', message: 'trusted by the old store', statement: 's', checks: [] } satisfies Decision;
    },
  } as unknown as PolicyEngine;
  const newEngine = {
    resolveTag: async () => ({ kind: 'registry' }),
    prepare: () => {},
    decide: async () => {
      decided.push('new');
      return { allow: false, reason: 'untrusted', message: 'certificate chain not trusted', statement: 's', checks: [] } satisfies Decision;
    },
  } as unknown as PolicyEngine;
  const resolver = new ImageResolver({ clients: new Map([[host, client]]), engine: oldEngine, manifestMaxBytes: 1 << 20, cacheTtlMs: 60_000, timeoutMs: 5000 });
  const ref = parseImageReference(`${host}/app:v1`);

  const underOld = resolver.resolve(ref, true);
  // Waits for a condition, with a deadline (no fixed sleep).
  const deadline = Date.now() + 5000;
  while (decided.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.same(decided, ['old'], 'the old engine is deciding');
  resolver.useEngine(newEngine);
  const underNew = resolver.resolve(ref, true);
  finishOld();
  t.equal((await underNew).outcome, 'denied', 'a resolution asked for under the new policy does not join the old one');
  t.equal(fetches, 2, 'it fetched on its own');
  await underOld;
  const later = await resolver.resolve(ref, true);
  t.equal(later.outcome, 'denied', 'the old allow, finished after the change, is not reused');
  t.same(decided.sort(), ['new', 'old'], 'each engine decided once');
});
