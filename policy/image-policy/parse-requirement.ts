/**
 * One verifier requirement of a rule: `{verifier: notation}`, `{verifier: notaryv1, trustServer, rootKeys, …}`,
 * or `{verifier: cosign, publicKeys | identities, …}` (parse-cosign.ts). Every key is checked, and every message
 * names the key path and the fix.
 */
import { Fields } from '../../config/fields.ts';
import { isKeyProblem, parsePinnedKey, MAX_PEM_BYTES } from './pinned-key.ts';
import { parseCosign } from './parse-cosign.ts';
import { readFor, rejectUnknownKeys } from './parse-context.ts';
import type { PolicyParseContext } from './parse-context.ts';
import type { NotaryRoles, NotaryV1Requirement, PinnedKey, Requirement, TrustServer, VerifierName } from './types.ts';
import { VERIFIER_NAMES } from './types.ts';

export const MAX_ROOT_KEYS = 8;
export const MAX_ROLES = 32;
/** notary's delegation role names (tuf/data/roles.go IsDelegation): lowercase path under `targets/`, < 256. */
const DELEGATION = /^targets\/[-a-z0-9_/]+$/;
const REQUIREMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const COMMON_KEYS = ['verifier', 'name'];
const NOTARY_KEYS = [...COMMON_KEYS, 'trustServer', 'rootKeys', 'rootKeyFiles', 'certificateRule', 'delegations', 'signers', 'metadataLengths'];
const LENGTH_RULES = ['exact', 'hash-only'] as const;
const SIGNER_KEYS = ['role', 'publicKey', 'publicKeyFile'];

/** `defaultName` is the verifier name, made unique by the caller when a rule repeats a verifier. */
export function parseRequirement(
  entry: Fields,
  key: string,
  index: number,
  defaultName: (verifier: VerifierName) => string,
  trustServers: ReadonlyMap<string, TrustServer>,
  ctx: PolicyParseContext,
): Requirement {
  const verifier = entry.optionalEnum('verifier', VERIFIER_NAMES);
  if (verifier === undefined) entry.fail('verifier', 'is required', `set verifier: ${VERIFIER_NAMES.join(' | ')}`);
  const nameText = entry.optionalString('name');
  if (nameText !== undefined && !REQUIREMENT_NAME.test(nameText)) {
    entry.fail('name', `"${nameText.slice(0, 64)}" is not a requirement name`, 'use up to 63 letters, digits, . _ or -, starting with a letter or digit');
  }
  const name = nameText ?? defaultName(verifier);
  switch (verifier) {
    case 'cosign':
      return parseCosign(entry, name, key, index, ctx);
    case 'notation':
      // Naming a statement here would pick it around the trust policy's own registryScopes, and `pullgate
      // verify` would then disagree with `notation verify` on the same files; the statement stays notation's choice.
      for (const k of ['trustPolicy', 'statement', 'trustPolicyStatement']) {
        if (k in entry.value) entry.fail(k, 'a notation requirement does not name a trust policy statement', 'the Notation trust policy picks the statement by its registryScopes: list this repository there');
      }
      rejectUnknownKeys(entry, COMMON_KEYS);
      return { verifier, name, key, index };
    case 'notaryv1':
      rejectUnknownKeys(entry, NOTARY_KEYS);
      return notaryV1(entry, name, key, index, trustServers, ctx);
  }
}

function notaryV1(entry: Fields, name: string, key: string, index: number, trustServers: ReadonlyMap<string, TrustServer>, ctx: PolicyParseContext): NotaryV1Requirement {
  const trustServer = trustServerRef(entry, trustServers);
  // notary's own anchor (trustpinning/certs.go ValidateRoot): only root keys that are certificates for this GUN,
  // valid now, count. Off unless asked for: notary's root certificates are self-signed, so anyone who can write
  // the GUN's trust data can mint one; alone it is weaker than a pinned key, and rootKeys can be given as well.
  const certificateRule = entry.optionalBoolean('certificateRule') ?? false;
  // `hash-only` is Connaisseur's check (its crafted test repositories record wrong lengths); the hash still binds
  // the bytes, but TUF (§ 5.5.2) and notary check lengths, so exact stays the default.
  const metadataLengths = entry.optionalEnum('metadataLengths', LENGTH_RULES) ?? 'exact';
  return { verifier: 'notaryv1', name, key, index, trustServer, rootKeys: rootKeys(entry, key, ctx, certificateRule), certificateRule, roles: roles(entry, key, ctx), metadataLengths };
}

function trustServerRef(entry: Fields, trustServers: ReadonlyMap<string, TrustServer>): TrustServer {
  const known = [...trustServers.keys()];
  const ref = entry.optionalString('trustServer');
  if (ref === undefined) {
    return entry.fail('trustServer', 'is required for a notaryv1 requirement', known.length === 0 ? 'define a server under policy.trustServers and name it here' : `name one of: ${known.join(', ')}`);
  }
  const server = trustServers.get(ref);
  if (server === undefined) {
    return entry.fail('trustServer', `trust server "${ref.slice(0, 64)}" is not defined`, known.length === 0 ? 'define it under policy.trustServers' : `define it under policy.trustServers or name one of: ${known.join(', ')}`);
  }
  return server;
}

/** Every key returned must have signed the root (verifiers/notaryv1/root-trust.ts checkAnchoredRoot, as Connaisseur). */
function rootKeys(entry: Fields, key: string, ctx: PolicyParseContext, certificateRule: boolean): PinnedKey[] {
  const inline = entry.optionalStringList('rootKeys') ?? [];
  const files = entry.optionalStringList('rootKeyFiles') ?? [];
  if (inline.length + files.length === 0 && !certificateRule) {
    entry.fail('rootKeys', 'a notaryv1 requirement needs the root public key it trusts', 'set rootKeys: [<PEM>] or rootKeyFiles: [./root.pub], or certificateRule: true for notary\'s CN = GUN rule (pullgate does not trust on first use)');
  }
  if (inline.length + files.length > MAX_ROOT_KEYS) entry.fail('rootKeys', `more than ${MAX_ROOT_KEYS} root keys`, 'pin the current root key (and the next one while rotating)');
  const keys: PinnedKey[] = [];
  inline.forEach((pem, i) => keys.push(pinned(entry, `rootKeys[${i}]`, pem, `${key}.rootKeys[${i}]`)));
  files.forEach((file, i) => {
    const read = readFor(entry, `rootKeyFiles[${i}]`, file, ctx, MAX_PEM_BYTES);
    keys.push(pinned(entry, `rootKeyFiles[${i}]`, read.text, read.path));
  });
  keys.forEach((k, i) => {
    if (keys.findIndex((other) => other.spki.equals(k.spki)) !== i) entry.fail(i < inline.length ? `rootKeys[${i}]` : `rootKeyFiles[${i - inline.length}]`, 'pins the same key twice', 'remove the duplicate');
  });
  return keys;
}

function pinned(entry: Fields, subKey: string, text: string, source: string): PinnedKey {
  const parsed = parsePinnedKey(text, source);
  if (isKeyProblem(parsed)) return entry.fail(subKey, parsed.problem, parsed.fix);
  return parsed;
}

function roles(entry: Fields, key: string, ctx: PolicyParseContext): NotaryRoles {
  const delegations = entry.optionalArray('delegations');
  const signers = entry.optionalArray('signers');
  if (delegations !== undefined && signers !== undefined) {
    entry.fail('signers', 'delegations and signers cannot both be set', 'list required roles under delegations, or pin role keys under signers, not both');
  }
  if (delegations !== undefined) {
    if (delegations.length > MAX_ROLES) entry.fail('delegations', `more than ${MAX_ROLES} delegations`, 'list fewer roles');
    const names = entry.optionalStringList('delegations')!;
    names.forEach((role, i) => {
      const k = `delegations[${i}]`;
      if (role === 'targets') entry.fail(k, '"targets" is the top-level role, not a delegation', 'omit delegations to trust targets/releases then targets, or pin its key with signers: [{role: targets, publicKey: …}]');
      if (!DELEGATION.test(role) || role.length >= 256) {
        entry.fail(k, `"${role.slice(0, 64)}" is not a delegation role`, DELEGATION.test(`targets/${role}`) ? `write targets/${role} (Connaisseur lists delegations without the targets/ prefix)` : 'write targets/<name> in lowercase letters, digits, - _ and /');
      }
      if (names.indexOf(role) !== i) entry.fail(k, `"${role}" is listed twice`, 'remove the duplicate');
    });
    return { kind: 'delegations', roles: names };
  }
  if (signers !== undefined) {
    if (signers.length > MAX_ROLES) entry.fail('signers', `more than ${MAX_ROLES} signers`, 'list fewer signers');
    const parsed = signers.map((raw, i) => {
      const signerKey = `${key}.signers[${i}]`;
      const s = Fields.object(raw, ctx.file, signerKey);
      rejectUnknownKeys(s, SIGNER_KEYS);
      const role = s.requiredString('role');
      if (role !== 'targets' && (!DELEGATION.test(role) || role.length >= 256)) {
        s.fail('role', `"${role.slice(0, 64)}" is not a targets role`, DELEGATION.test(`targets/${role}`) ? `write targets/${role}` : 'write targets or targets/<name>');
      }
      const inline = s.optionalString('publicKey');
      const file = s.optionalString('publicKeyFile');
      if ((inline === undefined) === (file === undefined)) s.fail('publicKey', 'give exactly one of publicKey and publicKeyFile', 'set publicKey: <PEM> or publicKeyFile: ./signer.pub');
      if (inline !== undefined) return { role, publicKey: pinned(s, 'publicKey', inline, `${signerKey}.publicKey`) };
      const read = readFor(s, 'publicKeyFile', file!, ctx, MAX_PEM_BYTES);
      return { role, publicKey: pinned(s, 'publicKeyFile', read.text, read.path) };
    });
    parsed.forEach((s, i) => {
      if (parsed.findIndex((o) => o.role === s.role && o.publicKey.spki.equals(s.publicKey.spki)) !== i) {
        entry.fail(`signers[${i}]`, `signer ${s.role} with this key is listed twice`, 'remove the duplicate');
      }
    });
    return { kind: 'signers', signers: parsed };
  }
  return { kind: 'default' };
}
