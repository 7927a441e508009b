// A rule's verdict from its requirements' outcomes: all-of, anyOf with count, allow/deny rules, fail-closed
// handling of missing, contradictory and foreign outcomes, digest agreement, and when verification may stop.
import t from 'tap';
import { combine, isSettled } from '../../../policy/image-policy/combine.ts';
import type { RequirementOutcome } from '../../../policy/image-policy/combine.ts';
import type { ImagePolicyRule, Requirement } from '../../../policy/image-policy/types.ts';
import { ecKeyPem, parse } from './helpers.ts';

const ROOT = ecKeyPem().publicPem;
const notary = (name: string) => ({ verifier: 'notaryv1', name, trustServer: 'n', rootKeys: [ROOT] });
const policy = parse({
  trustServers: { n: { url: 'https://notary.example' } },
  rules: [
    { scope: 'a.io/*', require: [{ verifier: 'notation' }, notary('releases')] },
    { scope: 'b.io/*', anyOf: [notary('alice'), notary('bob'), notary('carol')], count: 2 },
    { scope: 'c.io/*', allow: true },
    { scope: 'd.io/*', deny: 'not here' },
    { scope: 'e.io/*', deny: true },
  ],
})!;
const [allOf, anyOf, allow, deny, denyPlain] = policy.rules as [ImagePolicyRule, ImagePolicyRule, ImagePolicyRule, ImagePolicyRule, ImagePolicyRule];
const reqs = (rule: ImagePolicyRule): readonly Requirement[] => (rule.action.kind === 'verify' ? rule.action.requirements : []);
const pass = (requirement: Requirement, digest?: string): RequirementOutcome => ({ requirement, status: 'passed', reason: 'verified', ...(digest === undefined ? {} : { digest }) });
const fail = (requirement: Requirement, reason: string, message: string): RequirementOutcome => ({ requirement, status: 'failed', reason, message });
const [notation, releases] = reqs(allOf) as [Requirement, Requirement];
const [alice, bob, carol] = reqs(anyOf) as [Requirement, Requirement, Requirement];
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

t.test('allow and deny rules decide without verification', async (t) => {
  t.match(combine(allow, []), { decision: 'allow', reason: 'policy_allow', message: 'allowed without verification by policy.rules[2] (scope c.io/*)', passed: [], failed: [] });
  t.match(combine(deny, [pass(notation)]), { decision: 'deny', reason: 'policy_deny', message: 'denied by policy.rules[3] (scope d.io/*): not here' });
  t.match(combine(denyPlain, []), { decision: 'deny', reason: 'policy_deny', message: 'denied by policy.rules[4] (scope e.io/*): images in this scope are refused' });
  t.ok(isSettled(allow, []) && isSettled(deny, []));
});

t.test('require: all must pass; the verdict names which passed and which failed', async (t) => {
  const ok = combine(allOf, [pass(releases, D1), pass(notation)]);
  t.match(ok, { decision: 'allow', reason: 'verified', digest: D1, message: 'all requirement(s) of policy.rules[0] passed: notation "notation", notaryv1 "releases"' });
  t.same(ok.outcomes.map((o) => o?.requirement.name), ['notation', 'releases'], 'outcomes in rule order');
  const no = combine(allOf, [pass(notation), fail(releases, 'untrusted', 'root.json is not signed by a pinned root key')]);
  t.match(no, { decision: 'deny', reason: 'untrusted' });
  t.equal(no.message, '1 of 2 requirements passed, all needed: notaryv1 requirement "releases" (policy.rules[0].require[1]) failed: root.json is not signed by a pinned root key');
  t.same(no.failed.map((o) => o.requirement.name), ['releases']);
  t.same(no.passed.map((o) => o.requirement.name), ['notation']);
});

t.test('fail closed: missing, contradictory and foreign outcomes', async (t) => {
  const missing = combine(allOf, [pass(notation)]);
  t.match(missing, { decision: 'deny', reason: 'requirement_not_evaluated' });
  t.equal(missing.message, '1 of 2 requirements passed, all needed: notaryv1 requirement "releases" (policy.rules[0].require[1]) was not evaluated');
  t.match(combine(allOf, []), { decision: 'deny', reason: 'requirement_not_evaluated' });
  t.match(combine(allOf, [pass(notation), pass(releases), fail(releases, 'no_signature', 'tag not signed')]), { decision: 'deny', reason: 'no_signature' }, 'failed wins over passed for one requirement');
  t.match(combine(allOf, [pass(notation), pass(alice)]), { decision: 'deny', reason: 'requirement_not_evaluated' }, "another rule's requirement does not count, even with the same verifier");
});

t.test('anyOf with count', async (t) => {
  t.match(combine(anyOf, [pass(alice, D1), fail(bob, 'no_signature', 'bob did not sign'), pass(carol, D1)]), { decision: 'allow', digest: D1, message: '2 of 3 requirement(s) of policy.rules[1] passed: notaryv1 "alice", notaryv1 "carol"' });
  const one = combine(anyOf, [pass(alice), fail(bob, 'no_signature', 'bob did not sign'), fail(carol, 'expired', 'targets/carol expired')]);
  t.match(one, { decision: 'deny', reason: 'no_signature' });
  t.equal(one.message, '1 of 3 requirements passed, 2 of 3 needed: notaryv1 requirement "bob" (policy.rules[1].anyOf[1]) failed: bob did not sign; notaryv1 requirement "carol" (policy.rules[1].anyOf[2]) failed: targets/carol expired');
  t.match(combine(anyOf, [pass(alice)]), { decision: 'deny', reason: 'requirement_not_evaluated' });
});

t.test('requirements that vouch for different digests deny', async (t) => {
  const v = combine(anyOf, [pass(alice, D1), pass(bob, D2)]);
  t.match(v, { decision: 'deny', reason: 'digests_disagree' });
  t.equal(v.message, `requirements vouch for different digests: notaryv1 requirement "alice" (policy.rules[1].anyOf[0]) → ${D1}; notaryv1 requirement "bob" (policy.rules[1].anyOf[1]) → ${D2}`);
  t.match(combine(allOf, [pass(notation), pass(releases, D2)]), { decision: 'allow', digest: D2 }, 'a requirement naming no digest agrees with any');
});

t.test('isSettled: when more outcomes cannot change the verdict', async (t) => {
  t.notOk(isSettled(allOf, []));
  t.notOk(isSettled(allOf, [pass(notation)]));
  t.ok(isSettled(allOf, [fail(notation, 'no_signature', 'x')]), 'require: the first failure settles it');
  t.ok(isSettled(allOf, [pass(notation), pass(releases)]));
  t.notOk(isSettled(anyOf, [pass(alice)]));
  t.ok(isSettled(anyOf, [pass(alice), pass(carol)]), 'count reached');
  t.notOk(isSettled(anyOf, [fail(alice, 'no_signature', 'x')]));
  t.ok(isSettled(anyOf, [fail(alice, 'no_signature', 'x'), fail(bob, 'no_signature', 'x')]), 'count no longer reachable');
});
