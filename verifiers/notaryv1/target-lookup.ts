/**
 * Which role(s) decide, and what they sign for a reference.
 *
 * A target's name is the tag; its `hashes.sha256` (base64) is the manifest digest and `length` its size (what
 * `docker trust sign` writes, docker/cli `trust_push.go`). Lookups are by own key of the decoded map, so `constructor`
 * or `__proto__` are tags like any other, and escaped names (`"v\u0031"`) are compared decoded.
 *
 * Role selection, one of:
 *  - `default` — Docker (`cli/command/image/trust.go`): `targets/releases` if it signs the tag, else `targets`.
 *  - `delegations` — Connaisseur: every listed delegation must exist, verify and list the reference, and all must
 *    agree on one digest (`notaryv1_validator.go ValidateImage`).
 *  - `signers` — Portieris / sighup: every `{role, publicKey}` key must be a key of that role, must have signed it,
 *    and the roles must agree on one digest.
 * A by-digest reference is allowed when the selected role(s) list that digest under some tag (Connaisseur's
 * `searchTargetsForDigest`).
 */
import { fail } from './errors.ts';
import { parsePinnedKey } from './keys.ts';
import { type LoadedRole, pathAllowed, type RoleLoad } from './delegations.ts';

export type RoleSelection =
  | { readonly kind: 'default' }
  | { readonly kind: 'delegations'; readonly roles: readonly string[] }
  | { readonly kind: 'signers'; readonly signers: readonly { readonly role: string; readonly publicKey: string }[] };

export type PreparedSelection =
  | { readonly kind: 'default' }
  | { readonly kind: 'delegations'; readonly roles: readonly string[] }
  | { readonly kind: 'signers'; readonly signers: readonly { readonly role: string; readonly spki: Buffer }[] };

export type Reference = { readonly tag?: string; readonly digest?: string };
export type SignedTarget = { readonly digest: string; readonly length: number; readonly tags: readonly string[]; readonly role: string };

/** Connaisseur accepts `releases` for `targets/releases`. */
export function roleName(name: string): string {
  return name === 'targets' || name.startsWith('targets/') ? name : `targets/${name}`;
}

export function prepareSelection(sel: RoleSelection | undefined): PreparedSelection {
  if (!sel || sel.kind === 'default') return { kind: 'default' };
  if (sel.kind === 'delegations') {
    if (sel.roles.length === 0 || sel.roles.length > 32) fail('delegation_invalid', 'list 1 to 32 required delegations');
    return { kind: 'delegations', roles: [...new Set(sel.roles.map(roleName))] };
  }
  if (sel.signers.length === 0 || sel.signers.length > 32) fail('signer_untrusted', 'list 1 to 32 signers');
  return { kind: 'signers', signers: sel.signers.map((s) => ({ role: roleName(s.role), spki: parsePinnedKey(s.publicKey).spki })) };
}

const hex = (b: Buffer) => `sha256:${b.toString('hex')}`;

/** What one loaded role signs for the reference, or undefined when it does not list it. */
export function lookupInRole(role: LoadedRole, ref: Reference): SignedTarget | undefined {
  if (ref.tag !== undefined) {
    if (!pathAllowed(role.paths, ref.tag)) return undefined;
    const t = role.targets.targets.get(ref.tag);
    if (!t?.hashes.sha256) return undefined;
    const digest = hex(t.hashes.sha256);
    if (ref.digest !== undefined && ref.digest !== digest) {
      fail('digest_mismatch', `tag ${ref.tag} is signed as ${digest} in ${role.name}, not ${ref.digest}`);
    }
    return { digest, length: t.length, tags: [ref.tag], role: role.name };
  }
  if (ref.digest === undefined) return undefined;
  const tags: string[] = [];
  let length = -1;
  for (const [name, t] of role.targets.targets) {
    if (t.hashes.sha256 && hex(t.hashes.sha256) === ref.digest && pathAllowed(role.paths, name)) {
      tags.push(name);
      length = t.length;
    }
  }
  return tags.length > 0 ? { digest: ref.digest, length, tags, role: role.name } : undefined;
}

const describe = (ref: Reference) => (ref.tag !== undefined ? `tag ${JSON.stringify(ref.tag)}` : `digest ${ref.digest}`);
const notSigned = (ref: Reference, where: string): never =>
  fail(ref.tag !== undefined ? 'tag_not_signed' : 'digest_not_signed', `${describe(ref)} is not signed in ${where}`);

/** Every role must list the reference and all must agree (Connaisseur "found 2 digests"). */
export function agree(found: readonly SignedTarget[], ref: Reference): SignedTarget {
  const digests = new Set(found.map((f) => `${f.digest}/${f.length}`));
  if (digests.size !== 1) {
    fail('digest_conflict', `${describe(ref)}: ${found.map((f) => `${f.role} signs ${f.digest}`).join(', ')}`);
  }
  return found[0] as SignedTarget;
}

export type RoleLoader = (name: string) => Promise<RoleLoad>;

export async function selectAndLookup(sel: PreparedSelection, ref: Reference, load: RoleLoader): Promise<{ target: SignedTarget; decidedBy: readonly LoadedRole[] }> {
  if (sel.kind === 'default') {
    const releases = await load('targets/releases');
    if (releases.kind === 'loaded') {
      const hit = lookupInRole(releases.role, ref);
      if (hit) return { target: hit, decidedBy: [releases.role] };
    }
    const targets = await load('targets');
    if (targets.kind !== 'loaded') return fail('no_trust_data', 'targets role missing');
    const hit = lookupInRole(targets.role, ref);
    if (!hit) return notSigned(ref, releases.kind === 'loaded' ? 'targets/releases or targets' : 'targets');
    return { target: hit, decidedBy: [targets.role] };
  }
  const wanted = sel.kind === 'delegations' ? sel.roles : [...new Set(sel.signers.map((s) => s.role))];
  const roles: LoadedRole[] = [];
  for (const name of wanted) {
    const r = await load(name);
    if (r.kind === 'absent') fail('delegation_missing', `required role ${name} is not in the trust data: ${r.why}`);
    else roles.push(r.role);
  }
  if (sel.kind === 'signers') {
    for (const s of sel.signers) {
      const role = roles.find((r) => r.name === s.role) as LoadedRole;
      if (![...role.keys.values()].some((k) => k.spki.equals(s.spki))) fail('signer_untrusted', `the configured signer key is not a key of ${s.role}`);
      if (!role.signers.some((k) => k.spki.equals(s.spki))) fail('signer_untrusted', `the configured signer key did not sign ${s.role}`);
    }
  }
  const found = roles.map((r) => lookupInRole(r, ref) ?? notSigned(ref, r.name));
  return { target: agree(found, ref), decidedBy: roles };
}
