/**
 * Delegated targets roles (`targets/<name>`), loaded on demand against the verified snapshot (notary
 * `tuf/data/roles.go IsDelegation`, `tuf/tuf.go`, `client/tufclient.go`):
 *  - the name matches `^targets/[-a-z0-9_/]+$`, is shorter than 256 characters and is clean (no `//`, no trailing `/`);
 *  - the parent (`targets`, or `targets/a` for `targets/a/b`) declares it with keys, a threshold and `paths`;
 *  - a declared delegation the snapshot does not list is skipped (it was never published) — `absent`;
 *  - a listed one must be served, match the snapshot's hashes/length, meet its threshold and be unexpired, else the
 *    role is unusable and the decision fails (fail closed rather than silently falling back);
 *  - its effective paths are its own `paths` restricted to its parent's: a target outside them does not count.
 */
import { fail } from './errors.ts';
import type { TufKey } from './keys.ts';
import { checkFileMeta, checkListedVersion } from './file-meta-check.ts';
import { MAX_BYTES, parseSigned, parseTargets, type Delegation, type Targets } from './roles.ts';
import { checkThreshold } from './signatures.ts';
import { acceptRole, type BaseChain, type ChainContext, fetchRole } from './trust-chain.ts';

const NAME = /^targets\/[-a-z0-9_/]+$/;
const MAX_DEPTH = 8;

export type LoadedRole = {
  readonly name: string;
  readonly targets: Targets;
  /** `undefined` = every path (the top-level targets role); otherwise the path prefixes this role may sign */
  readonly paths?: readonly string[];
  /** the role's keys (for signer checks) and the keys whose signatures counted */
  readonly keys: Delegation['keys'];
  readonly signers: readonly TufKey[];
};

export type RoleLoad = { readonly kind: 'loaded'; readonly role: LoadedRole } | { readonly kind: 'absent'; readonly why: string };

export function isDelegationName(name: string): boolean {
  return name.length < 256 && NAME.test(name) && !name.includes('//') && !name.endsWith('/');
}

/** paths of `child` that fall within `parent` (notary `DelegationRole.Restrict`): a prefix of a parent's prefix. */
function restrict(parent: readonly string[] | undefined, child: readonly string[]): string[] {
  if (parent === undefined) return [...child];
  return child.filter((p) => parent.some((q) => p.startsWith(q)));
}

export function pathAllowed(paths: readonly string[] | undefined, target: string): boolean {
  return paths === undefined || paths.some((p) => target.startsWith(p));
}

/** Load `targets` or a delegation; memoised per decision in `cache`. */
export async function loadRole(ctx: ChainContext, base: BaseChain, name: string, cache: Map<string, Promise<RoleLoad>>): Promise<RoleLoad> {
  let p = cache.get(name);
  if (!p) {
    p = loadUncached(ctx, base, name, cache);
    cache.set(name, p);
  }
  return p;
}

async function loadUncached(ctx: ChainContext, base: BaseChain, name: string, cache: Map<string, Promise<RoleLoad>>): Promise<RoleLoad> {
  if (name === 'targets') {
    return { kind: 'loaded', role: { name, targets: base.targets, keys: base.root.roles.targets.keys, signers: base.signers.get('targets') ?? [] } };
  }
  if (!isDelegationName(name)) fail('delegation_invalid', `${JSON.stringify(name.slice(0, 300))} is not a valid delegation name`);
  if (name.split('/').length - 1 > MAX_DEPTH) fail('delegation_invalid', `${name} is nested deeper than ${MAX_DEPTH}`);
  const parentName = name.slice(0, name.lastIndexOf('/'));
  const parent = await loadRole(ctx, base, parentName, cache);
  if (parent.kind === 'absent') return { kind: 'absent', why: parent.why };
  const decl = parent.role.targets.delegations.find((d) => d.name === name);
  if (!decl) return { kind: 'absent', why: `${parentName} does not delegate to ${name}` };
  const meta = base.snapshot.meta.get(name);
  if (!meta) return { kind: 'absent', why: `${name} is declared but the snapshot does not list it (never published)` };
  const f = await fetchRole(ctx, name);
  if (!f) fail('delegation_invalid', `${name} is listed in the snapshot but the trust server does not have it`);
  checkFileMeta(f.bytes, meta, name, ctx.lengths);
  const signed = parseSigned(f.bytes, name, MAX_BYTES.targets);
  const targets = parseTargets(signed, name);
  checkListedVersion(meta, targets.version, name);
  const { signers } = checkThreshold(decl, signed.signatures, signed.canonical);
  acceptRole(ctx, name, signed, targets, f.maxAgeSeconds);
  return {
    kind: 'loaded',
    role: { name, targets, paths: restrict(parent.role.paths, decl.paths), keys: decl.keys, signers },
  };
}
