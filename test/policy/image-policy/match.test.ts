// The most specific scope wins: a table of cases, and properties checked with fast-check — the winner does not
// depend on rule order, and equals a brute-force reading of the documented rule over every rule.
import t from 'tap';
import fc from 'fast-check';
import { RuleIndex, matchRule } from '../../../policy/image-policy/match.ts';
import type { ImagePolicyRule } from '../../../policy/image-policy/types.ts';
import { parse } from './helpers.ts';

const policyOf = (scopes: readonly string[]) => parse({ rules: scopes.map((scope) => ({ scope, allow: true })) })!;

t.test('specificity table', async (t) => {
  const p = policyOf(['*', 'ghcr.io/*', 'ghcr.io/acme/*', 'ghcr.io/acme/app', 'ghcr.io/acme/team/*', '127.0.0.1:5000/*', 'docker.io/library/nginx', 'localhost/x']);
  const table: [string, string, string | undefined][] = [
    ['ghcr.io', 'acme/app', 'ghcr.io/acme/app'], // exact beats every glob
    ['ghcr.io', 'acme/app/debug', 'ghcr.io/acme/*'], // an exact scope does not cover sub-paths
    ['ghcr.io', 'acme/web', 'ghcr.io/acme/*'], // longer prefix beats shorter
    ['ghcr.io', 'acme/team/x/y', 'ghcr.io/acme/team/*'], // the longest covering prefix, several levels down
    ['ghcr.io', 'acme/team', 'ghcr.io/acme/*'], // a prefix glob needs one or more further segments
    ['ghcr.io', 'acme', 'ghcr.io/*'],
    ['ghcr.io', 'acmex/app', 'ghcr.io/*'], // segments, not string prefixes
    ['127.0.0.1:5000', 'a/b', '127.0.0.1:5000/*'],
    ['127.0.0.1:5001', 'a/b', '*'], // the port is part of the registry
    ['docker.io', 'library/nginx', 'docker.io/library/nginx'],
    ['docker.io', 'library/redis', '*'],
    ['localhost', 'x', 'localhost/x'],
  ];
  for (const [registry, repository, want] of table) t.equal(matchRule(p, registry, repository)?.scope.text, want, `${registry}/${repository}`);
  t.equal(matchRule(policyOf(['ghcr.io/acme/*']), 'quay.io', 'acme/app'), undefined, 'no covering rule: undefined (the caller denies)');
  t.equal(matchRule(policyOf(['ghcr.io/acme/*']), 'ghcr.io', 'acme'), undefined, 'the prefix itself is not under its glob');
});

t.test('the index refuses duplicate scopes even without the parser', async (t) => {
  const p = policyOf(['ghcr.io/*']);
  t.throws(() => new RuleIndex([p.rules[0]!, p.rules[0]!]), { message: 'duplicate image policy scope ghcr.io/*' });
});

// A small alphabet so generated scopes and repositories overlap often.
const segment = fc.constantFrom('a', 'b', 'c');
const registry = fc.constantFrom('r.io', 's.io:5000');
const repoPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const scope = fc.oneof(
  fc.constant('*'),
  fc.tuple(registry, repoPath).map(([r, p]) => `${r}/${p}`),
  fc.tuple(registry, fc.array(segment, { minLength: 0, maxLength: 3 })).map(([r, p]) => [r, ...p, '*'].join('/')),
);
const scopes = fc.uniqueArray(scope, { minLength: 1, maxLength: 12 });

/** The documented rule, read literally: among the rules that cover the image, exact > deepest prefix > `*`. */
function bruteForce(rules: readonly ImagePolicyRule[], reg: string, repo: string): string | undefined {
  const name = `${reg}/${repo}`;
  let best: { rank: number; text: string } | undefined;
  for (const { scope: s } of rules) {
    const covers = s.kind === 'global' || (s.kind === 'exact' && s.text === name) || (s.kind === 'prefix' && name.startsWith(`${s.prefix}/`));
    if (!covers) continue;
    const rank = s.kind === 'exact' ? Number.MAX_SAFE_INTEGER : s.kind === 'prefix' ? s.depth : 0;
    if (best !== undefined && rank === best.rank) throw new Error(`tie between ${best.text} and ${s.text}`);
    if (best === undefined || rank > best.rank) best = { rank, text: s.text };
  }
  return best?.text;
}

t.test('property: the winner is independent of rule order and is the most specific covering scope', async (t) => {
  fc.assert(
    fc.property(scopes, registry, repoPath, fc.integer(), (list, reg, repo, seed) => {
      const forward = policyOf(list);
      const shuffled = policyOf(shuffle(list, seed));
      const a = matchRule(forward, reg, repo)?.scope.text;
      const b = matchRule(shuffled, reg, repo)?.scope.text;
      return a === b && a === bruteForce(forward.rules, reg, repo);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 generated policies agreed');
});

function shuffle<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let x = seed | 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
