/**
 * Failure behaviour: malformed and oversized AdmissionReviews get HTTP 400 with a message (never a crash);
 * upstream failures, timeouts and internal errors are denials within the configured bound (fail closed);
 * routing, health endpoints and metrics.
 */
import t from 'tap';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeNotationDir } from '../e2e/pullgate-process.ts';
import { AdmissionHandler } from '../../webhook/admission-handler.ts';
import type { AdmissionRules } from '../../webhook/admission-rules.ts';
import { WebhookMetrics } from '../../webhook/metrics.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { startTestWebhook, workloadReview } from './helpers.ts';
import { closedUrl } from '../harness/ports.ts';

// An upstream that refuses connections: a port we just released, not a guessed "closed" one.
const CLOSED = await closedUrl();
const REVIEW = (request: unknown) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

t.test('malformed AdmissionReviews: HTTP 400 with the reason', async (t) => {
  const w = await startTestWebhook({ registries: [{ host: 'docker.io', endpoint: CLOSED }] });
  t.teardown(() => w.close());
  const cases: [string, string | RegExp][] = [
    ['not json', /^malformed AdmissionReview: not JSON \(.+\)\n$/],
    ['', /^malformed AdmissionReview: not JSON \(.+\)\n$/],
    ['null', 'received empty admission request\n'],
    ['[]', 'malformed AdmissionReview: the body is not a JSON object\n'],
    ['{}', 'malformed AdmissionReview: kind is undefined, not "AdmissionReview"\n'],
    [JSON.stringify({ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: {} }), 'unsupported AdmissionReview apiVersion "admission.k8s.io/v2"; send admission.k8s.io/v1\n'],
    [JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 'received empty admission request\n'],
    [REVIEW(null), 'received empty admission request\n'],
    [REVIEW('x'), 'malformed AdmissionReview: request is not an object\n'],
    [REVIEW({ uid: 'u', operation: 'PATCH' }), 'malformed AdmissionReview: request.operation "PATCH" is not one of CREATE, UPDATE, DELETE, CONNECT\n'],
    [REVIEW({ uid: 'u', operation: 'CREATE' }), 'malformed AdmissionReview: request.kind is missing\n'],
    [REVIEW({ uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { version: 'v1' } }), 'malformed AdmissionReview: request.resource must have string group, version and resource\n'],
    [REVIEW({ uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, dryRun: 'yes' }), 'malformed AdmissionReview: request.dryRun is not a boolean\n'],
    [REVIEW({ uid: 'u', operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 7 }), 'malformed AdmissionReview: request.namespace is not a string\n'],
  ];
  for (const [body, message] of cases) {
    const r = await w.post('/validate', body);
    t.equal(r.status, 400, `400 for ${body.slice(0, 60)}`);
    if (typeof message === 'string') t.equal(r.text, message);
    else t.match(r.text, message);
  }
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'error', reason: 'bad_request' }), cases.length);
  const ok = await w.post('/validate', workloadReview({ containers: [{ name: 'a', image: 'nginx' }] }));
  t.equal(ok.status, 200, 'still serving after all that');
});

t.test('oversized bodies: 400, announced or streamed', async (t) => {
  const w = await startTestWebhook({ registries: [{ host: 'docker.io', endpoint: CLOSED }], webhook: { maxBodyBytes: 65536 } });
  t.teardown(() => w.close());
  const big = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { pad: 'x'.repeat(70_000) } });
  const r = await w.post('/validate', big);
  t.equal(r.status, 400);
  t.equal(r.text, 'AdmissionReview body larger than the 65536-byte limit (webhook.maxBodyBytes)\n');
  // Chunked, no Content-Length: the limit is enforced while reading.
  const port = new URL(w.url).port;
  const streamed = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write('x'.repeat(10_000));
    req.end();
  });
  t.equal(streamed.status, 400);
  t.match(streamed.text, /larger than the 65536-byte limit/);
  t.equal((await w.post('/validate', workloadReview({ containers: [{ name: 'a', image: 'nginx' }] }))).status, 200, 'still serving');
});

t.test('routes, methods, health and metrics', async (t) => {
  const w = await startTestWebhook({ registries: [{ host: 'docker.io', endpoint: CLOSED }] });
  t.teardown(() => w.close());
  const get = async (path: string, method = 'GET') => {
    const res = await fetch(`${w.url}${path}`, { method });
    return { status: res.status, text: await res.text() };
  };
  t.same(await get('/healthz'), { status: 200, text: 'ok\n' });
  t.same(await get('/readyz'), { status: 200, text: 'ready\n' }, 'no trust policy needed without pinning or verify');
  t.same(await get('/validate'), { status: 405, text: 'use POST with an AdmissionReview\n' });
  t.same(await get('/nope'), { status: 404, text: 'not found\n' });
  t.same(await get('/healthz', 'POST'), { status: 405, text: 'method not allowed\n' });
  const mutate = await w.post('/mutate', workloadReview({ containers: [{ name: 'a', image: 'nginx' }] }));
  t.same({ status: mutate.status, text: mutate.text }, { status: 404, text: 'pinning is disabled (webhook.pinning: false); /mutate is not served, use /validate\n' });
  const withQuery = await w.post('/validate?timeout=10s', workloadReview({ containers: [{ name: 'a', image: 'nginx' }] }));
  t.equal(withQuery.status, 200, 'the apiserver\'s ?timeout= is ignored by routing');
  const metrics = await get('/metrics');
  t.match(metrics.text, /pullgate_admission_decisions_total\{decision="allow",reason="passed"\} 1/);
  // The duration histogram has the decision (how fast it is belongs to bench/webhook.ts, not to a test).
  t.match(metrics.text, /pullgate_admission_duration_seconds_count\{decision="allow"\} 1\n/, 'one duration observed for the one allow');
  t.match(metrics.text, /pullgate_admission_duration_seconds_bucket\{le="\+Inf",decision="allow"\} 1\n/);
  t.match(metrics.text, /process_cpu_user_seconds_total/);
});

t.test('upstream failures and timeouts deny within the bound (pinning on)', async (t) => {
  // An "upstream" that accepts connections and never answers.
  const sockets = new Set<Socket>();
  const hang: Server = createServer(() => {});
  hang.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    hang.close();
  });
  const hangHost = `127.0.0.1:${(hang.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pg-wh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notation = writeNotationDir(dir, { version: '1.0', trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:x'], trustedIdentities: ['*'] }] });
  const w = await startTestWebhook({
    registries: [{ host: hangHost, endpoint: `http://${hangHost}` }, { host: 'down.example', endpoint: CLOSED }],
    notation: { configDir: notation },
    webhook: { pinning: true, timeoutMs: 300 },
  });
  t.teardown(() => w.close());

  const started = performance.now();
  const slow = await w.review('/mutate', workloadReview({ containers: [{ name: 'a', image: `${hangHost}/app:v1`, imagePullPolicy: 'IfNotPresent' }] }));
  const elapsed = performance.now() - started;
  t.same(slow.status, { code: 403, reason: 'Forbidden', message: 'pullgate: the admission decision did not finish within 300 ms; denied (fail closed)' });
  t.equal(slow.allowed, false);
  // The upstream never answers, so this answer can only come from the bound; it did not give up before it.
  t.ok(sockets.size >= 1, 'the upstream request was in flight when the webhook denied');
  t.ok(elapsed >= 290, `not answered before the bound (${elapsed.toFixed(0)} ms)`);
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'timeout' }), 1);

  const down = await w.review('/mutate', workloadReview({ containers: [{ name: 'a', image: 'down.example/app:v1', imagePullPolicy: 'IfNotPresent' }] }));
  t.equal(down.allowed, false);
  t.match(down.status?.message, /^pullgate: container "a" image "down\.example\/app:v1": cannot resolve v1: upstream unavailable \(.+\)$/);
  t.equal(await w.metric('pullgate_admission_decisions_total', { decision: 'deny', reason: 'unresolved' }), 1);
  t.equal(await w.metric('pullgate_upstream_requests_total', { registry: 'down.example', kind: 'manifest', status: 'error' }), 1, 'upstream requests are counted');

  const pinned = `down.example/app:v1@sha256:${'a'.repeat(64)}`;
  const pinnedAlways = await w.review('/mutate', workloadReview({ containers: [{ name: 'a', image: pinned, imagePullPolicy: 'Always' }] }));
  t.same(pinnedAlways.allowed, true, 'a digest pulled Always needs no resolution (verify is off)');
  t.equal(pinnedAlways.patch, undefined);
  // IfNotPresent: the node may run the digest from its store, so it is verified at admission
  // (webhook.verifyCachedDigests, on by default) and the registry being down denies it.
  const pinnedCached = await w.review('/mutate', workloadReview({ containers: [{ name: 'a', image: pinned, imagePullPolicy: 'IfNotPresent' }] }));
  t.equal(pinnedCached.allowed, false, 'a digest the node may serve from its store is denied while its registry is down');
  t.match(pinnedCached.status?.message, /^pullgate: container "a" image "down\.example\/app:v1@sha256:a{64}": cannot resolve sha256:a{64}: upstream unavailable \(.*ECONNREFUSED.*\)$/, 'refused: the closed port');
});

t.test('an internal error is a denial, not a crash or an allow', async (t) => {
  const logs: string[] = [];
  const logger = createLogger('debug', new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb(); } }));
  const rules = { evaluate: async () => { throw new Error('boom'); } } as unknown as AdmissionRules;
  const metrics = new WebhookMetrics();
  const handler = new AdmissionHandler({ rules, mode: 'enforce', timeoutMs: 1000, metrics, logger });
  const review = workloadReview({ containers: [{ name: 'a', image: 'nginx' }] });
  const answer = await handler.handle(JSON.stringify(review), 'validate', false);
  t.equal(answer.status, 200);
  t.same(JSON.parse(answer.body), {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: review.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'pullgate: internal error while deciding (boom); denied (fail closed)' } },
  });
  t.match(logs.join(''), /admission evaluation failed/);
  // Audit mode does not turn an internal error into silence either: it is allowed with a warning.
  const audit = new AdmissionHandler({ rules, mode: 'audit', timeoutMs: 1000, metrics, logger });
  const a = JSON.parse((await audit.handle(JSON.stringify(review), 'validate', false)).body);
  t.same(a.response.warnings, ['pullgate (audit mode, would deny): internal error while deciding (boom); denied (fail closed)']);
});
