/**
 * Discoveries started ahead of verification (PreparedDiscoveries, PolicyEngine.prepare): each is taken once, by
 * the same subject and statement, never after it expired, and the store is bounded. The overlap itself is
 * shown in the pull path by test/proxy/discovery-overlap.test.ts.
 */
import t from 'tap';
import type { DecisionSubject, SignatureVerifier } from '../../../policy/decision.ts';
import { PolicyEngine, type VerificationLevelName } from '../../../policy/engine.ts';
import type { Discovery } from '../../../verifiers/notation/discovery/discover.ts';
import { PreparedDiscoveries } from '../../../verifiers/notation/verifier/prepared-discoveries.ts';

const subject = (hex: string): DecisionSubject => ({ registry: 'r.example', repository: 'app', digest: { algorithm: 'sha256', hex: hex.repeat(64), text: `sha256:${hex.repeat(64)}` } });
const found = (n: number): Promise<Discovery> => Promise.resolve({ ok: true, source: 'referrers-tag', signatures: Array.from({ length: n }, () => ({ digest: `sha256:${'f'.repeat(64)}`, size: 1, mediaType: 'x', artifactType: 'y' }) as never), truncated: false });

t.test('taken once, by the same subject and statement, before it expires', async (t) => {
  let now = 1000;
  const store = new PreparedDiscoveries({ ttlMs: 100, now: () => now });
  let started = 0;
  const discover = () => (started++, found(1));
  store.start(subject('a'), 'strict', discover);
  store.start(subject('a'), 'strict', discover);
  t.equal(started, 1, 'a pending discovery is not started twice');
  t.equal(store.take(subject('a'), 'other'), undefined, 'another statement does not get it');
  t.equal(store.take(subject('b'), 'strict'), undefined, 'another digest does not get it');
  const taken = store.take(subject('a'), 'strict');
  t.ok(taken, 'the same subject and statement take it');
  t.match(await taken, { ok: true, signatures: [{}] });
  t.equal(store.take(subject('a'), 'strict'), undefined, 'only once');

  store.start(subject('c'), 'strict', discover);
  now += 100;
  t.equal(store.take(subject('c'), 'strict'), undefined, 'an expired discovery is not used');
  t.equal(store.size, 0);
});

t.test('bounded: a full store starts nothing more; expired entries make room', async (t) => {
  let now = 0;
  const store = new PreparedDiscoveries({ ttlMs: 50, maxEntries: 2, now: () => now });
  let started = 0;
  const discover = () => (started++, found(0));
  store.start(subject('1'), 's', discover);
  store.start(subject('2'), 's', discover);
  store.start(subject('3'), 's', discover);
  t.equal(started, 2);
  t.equal(store.size, 2);
  t.equal(store.take(subject('3'), 's'), undefined, 'the one over the bound was never started');
  now = 60;
  store.start(subject('3'), 's', discover);
  t.equal(started, 3, 'after the others expired there is room again');
  t.equal(store.size, 1);
});

t.test('PolicyEngine.prepare: only statements that verify, only with a verifier that prepares', async (t) => {
  const calls: string[] = [];
  const verifier: SignatureVerifier = {
    verify: () => Promise.reject(new Error('not called')),
    prepare: (s, statement) => void calls.push(`${statement} ${s.registry}/${s.repository}`),
  };
  const levels: Record<string, { name: string; level: VerificationLevelName }> = {
    'r.example/app': { name: 'strict-app', level: 'strict' },
    'r.example/base': { name: 'skip-base', level: 'skip' },
  };
  const policy = { statementFor: (scope: string) => levels[scope] };
  const engine = new PolicyEngine({ loaded: true, policy, verifier });
  engine.prepare(subject('a'));
  engine.prepare({ ...subject('a'), repository: 'base' });
  engine.prepare({ ...subject('a'), repository: 'unscoped' });
  t.same(calls, ['strict-app r.example/app'], 'skip and unscoped subjects prepare nothing');

  t.doesNotThrow(() => new PolicyEngine({ loaded: true, policy, verifier: { verify: verifier.verify } }).prepare(subject('a')), 'a verifier without prepare');
  t.doesNotThrow(() => new PolicyEngine({ loaded: false, problem: 'none' }).prepare(subject('a')), 'no policy');
});

t.test('a discovery that rejects and is never taken does not become an unhandled rejection', async (t) => {
  const store = new PreparedDiscoveries({ ttlMs: 10 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => void process.off('unhandledRejection', onUnhandled));
  store.start(subject('d'), 's', () => Promise.reject(new Error('boom')));
  store.start(subject('e'), 's', () => Promise.reject(new Error('taken')));
  await t.rejects(store.take(subject('e'), 's')!, /taken/, 'whoever takes it still sees the rejection');
  // Node reports unhandled rejections once the microtask queue has drained, before the next macrotask: the
  // check phase (setImmediate) comes after that report for both rejections above, without guessing a delay.
  await new Promise((resolve) => setImmediate(resolve));
  t.same(unhandled, []);
});
