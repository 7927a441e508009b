/**
 * The engine over an image policy (policy/image-decision.ts): rule choice, allow/deny rules, requirements combined
 * (all-of, any-of with count), a throwing verifier failing closed, the `verifier` label, and tag resolution —
 * first with scripted requirement verifiers (what the engine does with their reports), then with the real
 * Notary v1 verifier over metadata captured from a live notary-server (test/vectors/notary-live), clock pinned.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { ImageTarget, RequirementReport, TagSubject } from '../../../policy/decision.ts';
import { PolicyEngine } from '../../../policy/engine.ts';
import { ImagePolicyRuntime } from '../../../policy/image-decision.ts';
import type { Requirement } from '../../../policy/image-policy/types.ts';
import { loadPolicyState } from '../../../policy/load-state.ts';
import type { RequirementVerifier, TagReport } from '../../../policy/requirements/requirement-verifier.ts';
import { digestOf } from '../../../oci/digest.ts';
import { NotaryV1VersionState } from '../../../verifiers/notaryv1/index.ts';
import { dirSource } from '../../verifiers/notaryv1/dir-source.ts';
import { parse } from '../image-policy/helpers.ts';

const SERVERS = { internal: { url: 'https://notary.example:4443' } };
const bytes = Buffer.from('{"schemaVersion":2}');
const target = (registry: string, repository: string, reference = 'v1', b = bytes): ImageTarget => ({
  registry, repository, reference, digest: digestOf(b, 'sha256'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: b.length, bytes: b,
});

/** A requirement verifier that answers from a script keyed by requirement name. */
function scripted(verifier: string, answers: Record<string, Partial<TagReport> | Error>, tags = false): RequirementVerifier & { calls: string[] } {
  const calls: string[] = [];
  const answer = async (req: Requirement, what: string): Promise<TagReport> => {
    calls.push(`${what} ${req.name}`);
    const a = answers[req.name];
    if (a instanceof Error) throw a;
    return { name: req.name, key: req.key, verifier, status: 'failed', reason: 'no_signature', ...a };
  };
  return {
    calls,
    verify: (req) => answer(req, 'verify'),
    ...(tags ? { resolveTag: (req: Requirement, _s: TagSubject) => answer(req, 'tag') } : {}),
  };
}

const NOTARY_KEY = readFileSync(new URL('../../vectors/notary-live/signed-targets/manifest.json', import.meta.url), 'utf8');
const rootPem = (JSON.parse(NOTARY_KEY) as { rootKeysByVersion: Record<string, { publicKeyPem: string }[]> }).rootKeysByVersion['1']![0]!.publicKeyPem;
const notary = (name: string) => ({ verifier: 'notaryv1', name, trustServer: 'internal', rootKeys: [rootPem] });

function engineOf(rules: unknown[], verifiers: ConstructorParameters<typeof ImagePolicyRuntime>[1]): PolicyEngine {
  const policy = parse({ trustServers: SERVERS, rules })!;
  return new PolicyEngine({ loaded: false, problem: 'not needed', image: new ImagePolicyRuntime(policy, verifiers) });
}

t.test('rules: most specific scope, allow, deny, no rule', async (t) => {
  const notation = scripted('notation', { notation: { status: 'passed', reason: 'verified' } });
  const e = engineOf([
    { scope: '*', deny: 'not on the list' },
    { scope: 'reg.example/team/*', require: [{ verifier: 'notation' }] },
    { scope: 'reg.example/team/tools', allow: true },
  ], { notation });
  const allowRule = await e.decide(target('reg.example', 'team/tools'));
  t.match(allowRule, { allow: true, reason: 'policy_allow', verifier: 'policy', rule: { key: 'policy.rules[2]', scope: 'reg.example/team/tools' } });
  const verified = await e.decide(target('reg.example', 'team/app'));
  t.match(verified, { allow: true, reason: 'verified', verifier: 'notation', rule: { key: 'policy.rules[1]' } });
  t.match(verified.requirements, [{ name: 'notation', verifier: 'notation', status: 'passed' }]);
  const denied = await e.decide(target('other.example', 'app'));
  t.match(denied, { allow: false, reason: 'policy_deny', verifier: 'policy' });
  t.match(denied.message, /not on the list/);
  t.same(notation.calls, ['verify notation'], 'only the verifying rule ran a verifier');

  const uncovered = engineOf([{ scope: 'reg.example/*', allow: true }], {});
  t.match(await uncovered.decide(target('elsewhere.example', 'app')), { allow: false, reason: 'no_policy_rule', verifier: 'policy' });
  t.ok(uncovered.ready, 'ready without a Notation trust policy when no rule requires Notation');
  t.notOk(engineOf([{ scope: '*', require: [{ verifier: 'notation' }] }], { notation }).ready, 'not ready when a rule requires Notation and none loaded');
});

t.test('requirements combine: all of them by default, anyOf with count, a throw fails closed', async (t) => {
  const notation = scripted('notation', { notation: { status: 'passed', reason: 'verified' } });
  const failing = scripted('notaryv1', { a: { status: 'failed', reason: 'tag_not_signed', message: 'notary v1: tag v1 is not signed' }, b: { status: 'passed', reason: 'verified' } });
  const both = engineOf([{ scope: '*', require: [{ verifier: 'notation' }, notary('a')] }], { notation, notaryv1: failing });
  const d = await both.decide(target('reg.example', 'app'));
  t.match(d, { allow: false, reason: 'tag_not_signed', verifier: 'notaryv1' });
  t.match(d.message, /1 of 2 requirements passed, all needed: notaryv1 requirement "a" .* failed: notary v1: tag v1 is not signed/);
  t.same(d.requirements?.map((r) => `${r.name}:${r.status}`), ['notation:passed', 'a:failed']);

  const any = engineOf([{ scope: '*', anyOf: [notary('a'), notary('b')], count: 1 }], { notaryv1: failing });
  t.match(await any.decide(target('reg.example', 'app')), { allow: true, verifier: 'notaryv1' });
  const two = engineOf([{ scope: '*', anyOf: [notary('a'), notary('b')], count: 2 }], { notaryv1: failing });
  t.match(await two.decide(target('reg.example', 'app')), { allow: false, reason: 'tag_not_signed' });

  const allPass = engineOf([{ scope: '*', require: [{ verifier: 'notation' }, notary('b')] }], { notation, notaryv1: failing });
  t.match(await allPass.decide(target('reg.example', 'app')), { allow: true, verifier: 'notaryv1+notation' }, 'the label names both systems, in a fixed order');

  const thrower = scripted('notaryv1', { a: new Error('boom') });
  const threw = await engineOf([{ scope: '*', anyOf: [notary('a')], count: 1 }], { notaryv1: thrower }).decide(target('reg.example', 'app'));
  t.match(threw, { allow: false, reason: 'verification_error' }, 'a verifier that throws fails its requirement');
  t.match(threw.message, /internal error in the notaryv1 verifier \(boom\)/);

  const missing = await engineOf([{ scope: '*', require: [notary('a')] }], {}).decide(target('reg.example', 'app'));
  t.match(missing, { allow: false, reason: 'verification_not_implemented' }, 'a requirement whose verifier is not loaded denies');
});

t.test('tags: the registry resolves unless a requirement signs tags; disagreement and failure deny before any fetch', async (t) => {
  const D1 = `sha256:${'1'.repeat(64)}`;
  const D2 = `sha256:${'2'.repeat(64)}`;
  const notation = scripted('notation', { notation: { status: 'passed', reason: 'verified' } });
  const tags = scripted('notaryv1', {
    good: { status: 'passed', reason: 'verified', digest: D1, length: 401 },
    other: { status: 'passed', reason: 'verified', digest: D2, length: 401 },
    bad: { status: 'failed', reason: 'tag_not_signed', message: 'notary v1: not signed' },
  }, true);
  const subject = { registry: 'reg.example', repository: 'app', tag: 'v1' };
  t.same(await engineOf([{ scope: '*', require: [{ verifier: 'notation' }] }], { notation }).resolveTag(subject), { kind: 'registry' }, 'Notation signs digests: the registry resolves');
  t.same(await new PolicyEngine({ loaded: false, problem: 'x' }).resolveTag(subject), { kind: 'registry' }, 'no image policy: as before');
  t.same(await engineOf([{ scope: 'reg.example/*', allow: true }, { scope: '*', require: [notary('good')] }], { notaryv1: tags }).resolveTag(subject), { kind: 'registry' }, 'an allow rule resolves at the registry');

  const signed = await engineOf([{ scope: '*', require: [notary('good'), { verifier: 'notation' }] }], { notaryv1: tags, notation }).resolveTag(subject);
  t.match(signed, { kind: 'signed', digest: { text: D1 }, length: 401, verifier: 'notaryv1' });

  const disagree = await engineOf([{ scope: '*', require: [notary('good'), notary('other')] }], { notaryv1: tags }).resolveTag(subject);
  t.match(disagree, { kind: 'denied', decision: { allow: false, reason: 'digests_disagree' } });

  const refused = await engineOf([{ scope: '*', require: [notary('bad'), { verifier: 'notation' }] }], { notaryv1: tags, notation }).resolveTag(subject);
  t.match(refused, { kind: 'denied', decision: { allow: false, reason: 'tag_not_signed', rule: { key: 'policy.rules[0]' } } });

  const fallback = await engineOf([{ scope: '*', anyOf: [notary('bad'), { verifier: 'notation' }], count: 1 }], { notaryv1: tags, notation }).resolveTag(subject);
  t.same(fallback, { kind: 'registry' }, 'anyOf: a failed Notary v1 requirement leaves the Notation one to decide the registry\'s digest');

  const throws = scripted('notaryv1', { good: new Error('boom') }, true);
  const thrown = await engineOf([{ scope: '*', require: [notary('good')] }], { notaryv1: throws }).resolveTag(subject);
  t.match(thrown, { kind: 'denied', decision: { allow: false, reason: 'verification_error' } }, 'a throw while resolving denies');
});

t.test('the real Notary v1 verifier through the engine (live captures, pinned clock)', async (t) => {
  const dir = new URL('../../vectors/notary-live/', import.meta.url).pathname;
  const m = JSON.parse(readFileSync(`${dir}delegation-bare/manifest.json`, 'utf8')) as { gun: string; capturedAt: string; targets: { tag: string; role: string; digest: string; length: number }[] };
  const [registry, ...rest] = m.gun.split('/');
  const repository = rest.join('/');
  const policy = parse({ trustServers: SERVERS, rules: [{ scope: m.gun, require: [notary('signed')] }] })!;
  const asked: string[] = [];
  const source = dirSource(`${dir}delegation-bare`);
  const state = await loadPolicyState('/nonexistent-notation-dir', {
    fetcherFor: () => undefined,
    crlSource: { fetchCrl: () => Promise.resolve({ ok: false, reason: 'none' }) },
    clock: () => new Date(Date.parse(m.capturedAt) + 3600_000),
    notaryV1: { sourceFor: (s) => (asked.push(s.name), source), state: new NotaryV1VersionState(), clock: () => new Date(Date.parse(m.capturedAt) + 3600_000) },
  }, policy);
  const engine = new PolicyEngine(state);
  t.ok(engine.ready);
  const v2 = m.targets.find((x) => x.tag === 'v2')!;
  const resolved = await engine.resolveTag({ registry: registry!, repository, tag: 'v2' });
  t.match(resolved, { kind: 'signed', digest: { text: v2.digest }, length: v2.length, verifier: 'notaryv1' }, 'v2 resolves to the digest targets/releases signs');
  t.same(asked.slice(0, 1), ['internal'], 'through the named trust server');

  const manifest: ImageTarget = { registry: registry!, repository, reference: 'v2', digest: { algorithm: 'sha256', hex: v2.digest.slice(7), text: v2.digest }, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: v2.length, bytes: Buffer.alloc(v2.length) };
  const allowed = await engine.decide(manifest);
  t.match(allowed, { allow: true, verifier: 'notaryv1', rule: { scope: m.gun } });
  t.match(allowed.requirements?.[0], { status: 'passed', digest: v2.digest, notaryv1: { gun: m.gun, roles: [{ role: 'targets/releases' }] } });
  t.match(await engine.decide({ ...manifest, reference: v2.digest }), { allow: true }, 'by digest: listed under a tag by a trusted role');
  t.match(await engine.decide({ ...manifest, size: v2.length + 1 }), { allow: false, reason: 'length_mismatch' }, 'the signed length is checked');
  const other = { ...manifest, digest: { algorithm: 'sha256' as const, hex: 'ab'.repeat(32), text: `sha256:${'ab'.repeat(32)}` } };
  t.match(await engine.decide(other), { allow: false, reason: 'digest_mismatch' }, 'tag v2 with another digest (the registry moved the tag)');
  t.match(await engine.decide({ ...other, reference: other.digest.text }), { allow: false, reason: 'digest_not_signed' });
  t.match(await engine.resolveTag({ registry: registry!, repository, tag: 'nope' }), { kind: 'denied', decision: { reason: 'tag_not_signed' } });
  t.same(await engine.resolveTag({ registry: registry!, repository: 'unknown/gun', tag: 'v2' }), { kind: 'registry' }, 'no rule for the image: the registry resolves (and decide denies)');
  t.match(await engine.decide(target(registry!, 'unknown/gun')), { allow: false, reason: 'no_policy_rule' });
});

t.test('the Notary v1 version state outlives a policy reload: an older snapshot served afterwards is a rollback', async (t) => {
  const dir = new URL('../../vectors/notary-live/', import.meta.url).pathname;
  const newer = JSON.parse(readFileSync(`${dir}delegation-rsa/manifest.json`, 'utf8')) as { gun: string; capturedAt: string };
  const [registry, ...rest] = newer.gun.split('/');
  const repository = rest.join('/');
  const clock = () => new Date(Date.parse(newer.capturedAt) + 3600_000);
  const state = new NotaryV1VersionState(); // one per process (cli/trust-servers.ts), shared by every generation
  let stage = 'delegation-rsa';
  const engineFor = async () => new PolicyEngine(await loadPolicyState('/nonexistent-notation-dir', {
    fetcherFor: () => undefined,
    crlSource: { fetchCrl: () => Promise.resolve({ ok: false, reason: 'none' }) },
    notaryV1: { sourceFor: () => dirSource(`${dir}${stage}`), state, clock },
  }, parse({ trustServers: SERVERS, rules: [{ scope: newer.gun, require: [notary('n')] }] })!));
  const first = await engineFor();
  t.match(await first.resolveTag({ registry: registry!, repository, tag: 'v1' }), { kind: 'signed' }, 'generation 1 sees timestamp v9');
  stage = 'delegation-x509'; // an attacker (or a stale mirror) serves the older trust data: timestamp v5
  const reloaded = await engineFor();
  t.match(await reloaded.resolveTag({ registry: registry!, repository, tag: 'v1' }), { kind: 'denied', decision: { reason: 'rollback' } }, 'generation 2 (after a reload) still knows v9 was seen');
  const fresh = await new PolicyEngine(await loadPolicyState('/nonexistent-notation-dir', {
    fetcherFor: () => undefined,
    crlSource: { fetchCrl: () => Promise.resolve({ ok: false, reason: 'none' }) },
    notaryV1: { sourceFor: () => dirSource(`${dir}${stage}`), state: new NotaryV1VersionState(), clock },
  }, parse({ trustServers: SERVERS, rules: [{ scope: newer.gun, require: [notary('n')] }] })!)).resolveTag({ registry: registry!, repository, tag: 'v1' });
  t.match(fresh, { kind: 'signed' }, 'control: without the kept state the old data would pass (what a restart forgets)');
});

t.test('a verified Notary v1 outcome is reused within the trust data\'s max-age, never past it, and never without one', async (t) => {
  const dir = new URL('../../vectors/notary-live/', import.meta.url).pathname;
  const m = JSON.parse(readFileSync(`${dir}delegation-bare/manifest.json`, 'utf8')) as { gun: string; capturedAt: string };
  const [registry, ...rest] = m.gun.split('/');
  const repository = rest.join('/');
  let now = Date.parse(m.capturedAt) + 3600_000;
  const build = async (maxAgeSeconds: number | undefined) => {
    const source = dirSource(`${dir}delegation-bare`, maxAgeSeconds === undefined ? {} : { maxAgeSeconds });
    const engine = new PolicyEngine(await loadPolicyState('/nonexistent-notation-dir', {
      fetcherFor: () => undefined,
      crlSource: { fetchCrl: () => Promise.resolve({ ok: false, reason: 'none' }) },
      notaryV1: { sourceFor: () => source, state: new NotaryV1VersionState(), clock: () => new Date(now) },
    }, parse({ trustServers: SERVERS, rules: [{ scope: m.gun, require: [notary('n')] }] })!));
    return { engine, source };
  };
  const subject = { registry: registry!, repository, tag: 'v2' };
  const cached = await build(60);
  t.match(await cached.engine.resolveTag(subject), { kind: 'signed' });
  const asked = cached.source.asked.length;
  t.ok(asked >= 4, 'the first resolution read the trust data');
  t.match(await cached.engine.resolveTag(subject), { kind: 'signed' });
  t.equal(cached.source.asked.length, asked, 'within max-age: the verified outcome is reused');
  now += 61_000;
  t.match(await cached.engine.resolveTag(subject), { kind: 'signed' });
  t.ok(cached.source.asked.length > asked, 'past max-age: read and verified again');

  const uncached = await build(undefined);
  await uncached.engine.resolveTag(subject);
  const first = uncached.source.asked.length;
  await uncached.engine.resolveTag(subject);
  t.equal(uncached.source.asked.length, 2 * first, 'no max-age from the server: every decision reads the trust data');
});

t.test('one Notary v1 decision has one deadline: a trust server that never answers is a fetch_failed denial', async (t) => {
  const signals: AbortSignal[] = [];
  // AbortSignal.timeout's timer does not hold the process open (a server or a socket does, in real use).
  const keepAlive = setInterval(() => {}, 50);
  t.teardown(() => clearInterval(keepAlive));
  const hanging = {
    fetchRole: (_gun: string, _name: string, signal?: AbortSignal) => new Promise<never>((_resolve, reject) => {
      if (signal) {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(new Error('aborted by the decision deadline')), { once: true });
      }
    }),
  };
  const engine = new PolicyEngine(await loadPolicyState('/nonexistent-notation-dir', {
    fetcherFor: () => undefined,
    crlSource: { fetchCrl: () => Promise.resolve({ ok: false, reason: 'none' }) },
    notaryV1: { sourceFor: () => hanging, state: new NotaryV1VersionState(), decisionTimeoutMs: 150 },
  }, parse({ trustServers: SERVERS, rules: [{ scope: '*', require: [notary('n')] }] })!));
  const r = await engine.resolveTag({ registry: 'reg.example', repository: 'app', tag: 'v1' });
  t.match(r, { kind: 'denied', decision: { allow: false, reason: 'fetch_failed' } });
  t.ok(signals.length >= 1 && signals.every((s) => s.aborted), 'the fetches were handed the decision\'s signal, and it fired');
});
