/**
 * Issue 12.1 at the Mirror's level, with an upstream the test controls and two engines whose verdicts it picks:
 * an engine swap while a decision is parked on the upstream. The request that arrives under the new engine
 * decides on its own, nothing the old decision remembers is seen afterwards (fresh or stale), the old store is
 * retired, and once its last request finished nothing keeps the old generation alive.
 * (test/e2e/policy-swap.test.ts proves the same with the real registry, a real reload and containerd.)
 */
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildConfig } from '../../config/load.ts';
import type { Decision } from '../../policy/decision.ts';
import type { PolicyEngine } from '../../policy/engine.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { ProxyMetrics } from '../../proxy/metrics.ts';
import { Mirror } from '../../proxy/server.ts';
import { VerifiedStore } from '../../proxy/verified-store.ts';

const MEDIA = 'application/vnd.oci.image.manifest.v1+json';
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 }, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** A registry for one image, `app:v1`, whose GETs by digest can be parked and which can be taken down (503). */
async function controllableUpstream() {
  const parked: (() => void)[] = [];
  let park = false;
  let down = false;
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    if (down) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down"}]}');
    if (req.url === '/v2/app/manifests/v1' || req.url === `/v2/app/manifests/${DIGEST}`) {
      res.writeHead(200, { 'content-type': MEDIA, 'docker-content-digest': DIGEST, 'content-length': MANIFEST.length });
      return void res.end(req.method === 'HEAD' ? undefined : MANIFEST);
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
  };
  const server = createServer((req, res) => {
    if (park && req.method === 'GET' && req.url === `/v2/app/manifests/${DIGEST}`) parked.push(() => answer(req, res));
    else answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    parked: () => parked.length,
    park: () => void (park = true),
    release: () => {
      park = false;
      for (const go of parked.splice(0)) go();
    },
    setDown: (value: boolean) => void (down = value),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function fakeEngine(verdict: Decision, calls: string[], name: string): PolicyEngine {
  return {
    ready: true,
    problems: [],
    resolveTag: async () => ({ kind: 'registry' }),
    prepare: () => {},
    decide: async () => {
      calls.push(name);
      return verdict;
    },
  } as unknown as PolicyEngine;
}

const ALLOW: Decision = { allow: true, reason: 'verified', message: 'signature verified (old trust store)', statement: 's', checks: [] };
const DENY: Decision = { allow: false, reason: 'untrusted', message: 'certificate chain not trusted (new trust store)', statement: 's', checks: [] };

t.test('engine swapped while a decision is parked on the upstream', async (t) => {
  const upstream = await controllableUpstream();
  t.teardown(() => upstream.close());
  const config = buildConfig({ registries: [{ host: upstream.host, endpoint: `http://${upstream.host}` }], cache: { staleIfErrorMs: 600_000 } }, '/tmp/x.yaml');
  const calls: string[] = [];
  const metrics = new ProxyMetrics();
  // The old engine is made and dropped inside a function: afterwards only the gate could still hold it.
  const { mirror, oldEngine } = (() => {
    const engine = fakeEngine(ALLOW, calls, 'old');
    return { mirror: new Mirror({ config, credentials: new Map(), engine, metrics, logger: createLogger('silent') }), oldEngine: new WeakRef(engine) };
  })();
  await mirror.listen('127.0.0.1', 0);
  t.teardown(() => mirror.close());
  const base = `http://127.0.0.1:${(mirror.server.address() as AddressInfo).port}`;
  const manifest = (ref: string, method = 'GET') => fetch(`${base}/v2/app/manifests/${ref}?ns=${upstream.host}`, { method, headers: { accept: MEDIA } });
  const cacheAnswers = async (result: string) => (await metrics.decisionCache.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  upstream.park();
  const old = manifest('v1', 'HEAD');
  t.ok(await eventually(() => upstream.parked() === 1), 'the first decision is parked on the upstream');
  mirror.useEngine(fakeEngine(DENY, calls, 'new'));
  const fresh = manifest(DIGEST);
  t.ok(await eventually(() => upstream.parked() === 2), 'the request under the new engine fetched on its own: it did not join the old decision');
  upstream.release();
  await (await old).arrayBuffer();
  const freshAnswer = await fresh;
  t.equal(freshAnswer.status, 403, 'denied under the new engine');
  t.match(await freshAnswer.text(), /certificate chain not trusted \(new trust store\)/);
  t.same(calls.sort(), ['new', 'old'], 'each engine decided once, for the requests that started under it');

  const again = await manifest(DIGEST);
  t.equal(again.status, 403, 'after the old decision finished: still denied (it wrote nothing the new generation reads)');
  const head = await manifest('v1', 'HEAD');
  t.not(head.headers.get('docker-content-digest'), DIGEST, 'a resolve by tag gets the denial note, not the image');
  t.equal(await cacheAnswers('hit'), 0, 'no answer came from an allow');

  upstream.setDown(true);
  const byTag = await manifest('v1');
  t.equal(byTag.status, 403, 'upstream down: denied, not served stale from the old decision');
  t.equal((await manifest(DIGEST)).status, 403, 'by digest too');
  t.equal(await cacheAnswers('stale'), 0, 'nothing served stale');

  // Nothing keeps the old generation (its engine and store) once its last request finished.
  const released = await eventually(async () => {
    gc();
    await sleep(10);
    return oldEngine.deref() === undefined;
  });
  t.ok(released, 'the old generation was garbage-collected');
});

t.test('a retired store forgets everything and ignores late writes', async (t) => {
  const config = buildConfig({ cache: { staleIfErrorMs: 600_000, tagTtlMs: 60_000 } }, '/tmp/x.yaml');
  const store = new VerifiedStore(config.cache);
  const manifest = { digest: { algorithm: 'sha256' as const, hex: DIGEST.slice(7), text: DIGEST }, mediaType: MEDIA, bytes: MANIFEST };
  store.remember(`r/app@${DIGEST}`, manifest, ALLOW, 'r/app');
  store.rememberTag('r/app:v1', DIGEST);
  t.ok(store.allowed(`r/app@${DIGEST}`) && store.stale(`r/app@${DIGEST}`) && store.tag('r/app:v1', true), 'remembered while live');
  store.retire();
  t.notOk(store.allowed(`r/app@${DIGEST}`) ?? store.stale(`r/app@${DIGEST}`) ?? store.tag('r/app:v1', true), 'emptied when retired');
  store.remember(`r/app@${DIGEST}`, manifest, ALLOW, 'r/app');
  store.remember(`r/app@${DIGEST}`, manifest, DENY, 'r/app');
  store.rememberTag('r/app:v1', DIGEST);
  t.notOk(store.allowed(`r/app@${DIGEST}`) ?? store.stale(`r/app@${DIGEST}`) ?? store.denied(`r/app@${DIGEST}`) ?? store.tag('r/app:v1', true), 'a decision finishing after retirement leaves nothing behind');
  t.equal(await store.single('k', async () => 7), 7, 'single flight still serves the requests already inside');
});

t.test('denials caused by the gate\'s own load are not remembered; others are', async (t) => {
  const store = new VerifiedStore(buildConfig({}, '/tmp/x.yaml').cache);
  const manifest = { digest: { algorithm: 'sha256' as const, hex: DIGEST.slice(7), text: DIGEST }, mediaType: MEDIA, bytes: MANIFEST };
  for (const reason of ['gate_busy', 'verification_timeout'] as const) {
    store.remember(`r/${reason}@${DIGEST}`, manifest, { ...DENY, reason }, `r/${reason}`);
    t.equal(store.denied(`r/${reason}@${DIGEST}`), undefined, `${reason}: the next request decides afresh`);
  }
  store.remember(`r/app@${DIGEST}`, manifest, DENY, 'r/app');
  t.ok(store.denied(`r/app@${DIGEST}`), 'a denial about the image is remembered (kubelet back-off costs nothing)');
});
