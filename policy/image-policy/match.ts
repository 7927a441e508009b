/**
 * Which rule applies to an image: the one with the most specific scope, whatever the order rules were written
 * in (Connaisseur's "most specific pattern wins", docs/basics.md § Image policy, in a form with no ties):
 *
 *   1. the exact scope `registry/repository`, if a rule has it;
 *   2. else the prefix scope with the most path segments before its `*` that covers the image
 *      (`ghcr.io/acme/team/*` before `ghcr.io/acme/*` before `ghcr.io/*`);
 *   3. else `*`;
 *   4. else no rule: the caller denies (an image policy that does not cover an image refuses it; add a `*` rule
 *      to say what everything else needs).
 *
 * Examples, with rules for `ghcr.io/acme/app`, `ghcr.io/acme/*`, `ghcr.io/*` and `*`:
 *   ghcr.io/acme/app        → ghcr.io/acme/app   (exact beats any glob)
 *   ghcr.io/acme/app/debug  → ghcr.io/acme/*     (an exact scope is one repository, not its sub-paths)
 *   ghcr.io/acme/web        → ghcr.io/acme/*     (two segments beat one)
 *   ghcr.io/acme            → ghcr.io/*          (a prefix glob needs one or more further segments)
 *   docker.io/library/nginx → *
 *
 * Ties cannot happen: two prefix scopes covering one repository with the same depth are the same prefix, and
 * the parser refuses a scope that appears twice. Lookup is a map probe per path segment, never a scan of rules.
 */
import type { ImagePolicy, ImagePolicyRule } from './types.ts';

export class RuleIndex {
  readonly #exact = new Map<string, ImagePolicyRule>();
  readonly #prefix = new Map<string, ImagePolicyRule>();
  readonly #global: ImagePolicyRule | undefined;

  constructor(rules: readonly ImagePolicyRule[]) {
    let global: ImagePolicyRule | undefined;
    for (const rule of rules) {
      const s = rule.scope;
      // The parser already refused duplicates; refusing again here keeps "no ties" true for any caller.
      const taken = s.kind === 'exact' ? this.#exact.has(s.text) : s.kind === 'prefix' ? this.#prefix.has(s.prefix) : global !== undefined;
      if (taken) throw new Error(`duplicate image policy scope ${s.text}`);
      if (s.kind === 'exact') this.#exact.set(s.text, rule);
      else if (s.kind === 'prefix') this.#prefix.set(s.prefix, rule);
      else global = rule;
    }
    this.#global = global;
  }

  /**
   * The rule for `registry` (as in image references, lowercase, `docker.io` for Docker Hub) and `repository`
   * (normalised: `library/nginx`), or undefined when none covers it.
   */
  match(registry: string, repository: string): ImagePolicyRule | undefined {
    const name = `${registry}/${repository}`;
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    // Longest prefix first: cut at each "/" from the right. The cut before the last segment is the longest
    // prefix that still leaves one segment for the `*`.
    for (let cut = name.lastIndexOf('/'); cut > 0; cut = name.lastIndexOf('/', cut - 1)) {
      const rule = this.#prefix.get(name.slice(0, cut));
      if (rule !== undefined) return rule;
    }
    return this.#global;
  }
}

const indexes = new WeakMap<ImagePolicy, RuleIndex>();

/** `RuleIndex.match` with the index built once per parsed policy (a reload parses a new policy object). */
export function matchRule(policy: ImagePolicy, registry: string, repository: string): ImagePolicyRule | undefined {
  let index = indexes.get(policy);
  if (index === undefined) {
    index = new RuleIndex(policy.rules);
    indexes.set(policy, index);
  }
  return index.match(registry, repository);
}
