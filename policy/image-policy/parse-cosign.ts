/**
 * A `verifier: cosign` requirement (issue 14): by keys —
 *   `{verifier: cosign, publicKeys: [<PEM>], publicKeyFiles: [./cosign.pub], threshold: 2, required: [alice]}` —
 * or keyless —
 *   `{verifier: cosign, identities: [{issuer: https://token.actions.githubusercontent.com, subjectRegExp: …}]}` —
 * with `trustedRoot: ./trusted_root.json` (default: the shipped Sigstore public-good root), `rekor`, `layouts`,
 * `dockerReference` and `annotations`. Every value is checked here, with the key path and the fix: keys are parsed
 * by the verifier's own key loader and the trusted root by its own preparation, so a rule the verifier would refuse
 * never loads.
 */
import path from 'node:path';
import { Fields } from '../../config/fields.ts';
// Light modules only (no Sigstore library): the config is parsed by every command, and `@sigstore/verify` is loaded
// with the cosign adapter, when a rule needs it (policy/load-state.ts), which then prepares the trusted root fully.
import { CosignError } from '../../verifiers/cosign/errors.ts';
import { parsePublicKey } from '../../verifiers/cosign/keys.ts';
import { PUBLIC_GOOD_SOURCE, PUBLIC_GOOD_TRUSTED_ROOT } from '../../verifiers/cosign/public-good.ts';
import { checkTrustedRoot } from '../../verifiers/cosign/trusted-root-shape.ts';
import { FULCIO_CLAIM_NAMES } from '../../verifiers/cosign/fulcio-oids.ts';
import { MAX_PEM_BYTES } from './pinned-key.ts';
import { readFor, rejectUnknownKeys, type PolicyParseContext } from './parse-context.ts';
import { GITHUB_WORKFLOW_CLAIMS, type CosignIdentity, type CosignKey, type CosignRequirement, type CosignTrustedRoot, type GithubWorkflowClaim } from './types.ts';

export const MAX_COSIGN_KEYS = 64;
export const MAX_IDENTITIES = 16;
export const MAX_TRUSTED_ROOT_BYTES = 1024 * 1024;
export const MAX_REGEXP_LENGTH = 1024;
export const MAX_ANNOTATIONS = 32;
export const COSIGN_KEYS = ['verifier', 'name', 'publicKeys', 'publicKeyFiles', 'threshold', 'required', 'identities', 'trustedRoot', 'rekor', 'layouts', 'dockerReference', 'annotations'];
const IDENTITY_KEYS = ['name', 'issuer', 'issuerRegExp', 'subject', 'subjectRegExp', ...FULCIO_CLAIM_NAMES.flatMap((c) => [c, `${c}RegExp`])];
const LAYOUTS = ['tag', 'referrer'] as const;

export function parseCosign(entry: Fields, name: string, key: string, index: number, ctx: PolicyParseContext): CosignRequirement {
  rejectUnknownKeys(entry, COSIGN_KEYS);
  const hasKeys = entry.value.publicKeys !== undefined || entry.value.publicKeyFiles !== undefined;
  const hasIdentities = entry.value.identities !== undefined;
  if (hasKeys === hasIdentities) {
    entry.fail(hasKeys ? 'identities' : 'publicKeys', hasKeys ? 'a cosign requirement verifies by keys or by keyless identities, not both' : 'a cosign requirement needs the keys or the keyless identities it trusts',
      'set publicKeys: [<PEM>] / publicKeyFiles: [./cosign.pub], or identities: [{issuer: …, subject: …}]; for either, write two requirements under anyOf');
  }
  const trustedRoot = parseTrustedRoot(entry, ctx);
  const rekor = entry.optionalEnum('rekor', ['required', 'optional'] as const) ?? (hasKeys ? 'optional' : 'required');
  const layouts = parseLayouts(entry);
  const dockerReference = entry.optionalEnum('dockerReference', ['ignore', 'repository', 'exact'] as const) ?? 'ignore';
  const annotations = parseAnnotations(entry);
  const common = { verifier: 'cosign' as const, name, key, index, trustedRoot, rekor, layouts, dockerReference, annotations };
  if (hasIdentities) {
    for (const k of ['threshold', 'required']) if (entry.value[k] !== undefined) entry.fail(k, `${k} applies to key-based cosign requirements`, 'remove it (any one of the identities suffices; require several keyless requirements under require: for more)');
    // A Fulcio certificate lives ten minutes: only the log's integrated time says the signature was made inside
    // that window (cosign verify does the same unless told --insecure-ignore-tlog).
    if (rekor === 'optional') entry.fail('rekor', 'a keyless signature needs its Rekor entry (the certificate is valid only at the time the log recorded)', 'remove rekor (keyless always requires it) or verify by key');
    return { ...common, mode: { kind: 'keyless', identities: parseIdentities(entry, key, ctx) } };
  }
  const keys = parseKeys(entry, key, ctx);
  const threshold = entry.optionalInt('threshold', 1, MAX_COSIGN_KEYS) ?? 1;
  if (threshold > keys.length) entry.fail('threshold', `threshold ${threshold} is more than the ${keys.length} key(s) listed`, `set threshold between 1 and ${keys.length}, or list more keys`);
  const required = entry.optionalStringList('required') ?? [];
  required.forEach((r, i) => {
    if (!keys.some((k) => k.name === r)) entry.fail(`required[${i}]`, `"${r.slice(0, 64)}" is not one of this requirement's keys`, `name one of: ${keys.map((k) => k.name).join(', ')}`);
  });
  if (rekor === 'required' && tlogCount(trustedRoot) === 0) entry.fail('rekor', 'rekor: required, but the trusted root has no Rekor log key', 'name a trustedRoot with tlogs, or set rekor: optional');
  return { ...common, mode: { kind: 'keys', keys, threshold, required } };
}

function tlogCount(root: CosignTrustedRoot): number {
  const tlogs = (root.json as { tlogs?: unknown }).tlogs;
  return Array.isArray(tlogs) ? tlogs.length : 0;
}

function parseKeys(entry: Fields, key: string, ctx: PolicyParseContext): CosignKey[] {
  const inline = entry.optionalStringList('publicKeys') ?? [];
  const files = entry.optionalStringList('publicKeyFiles') ?? [];
  if (inline.length + files.length === 0) entry.fail('publicKeys', 'lists no key', 'list at least one PEM public key (cosign.pub)');
  if (inline.length + files.length > MAX_COSIGN_KEYS) entry.fail('publicKeys', `more than ${MAX_COSIGN_KEYS} keys`, 'list fewer keys');
  const keys: { k: CosignKey; subKey: string; spki: Buffer }[] = [];
  const add = (subKey: string, pem: string, keyName: string, source: string) => {
    try {
      const parsed = parsePublicKey(pem, keyName);
      keys.push({ k: { name: keyName, pem, source }, subKey, spki: parsed.spki });
    } catch (err) {
      if (!(err instanceof CosignError)) throw err;
      entry.fail(subKey, err.message, 'give a PEM public key (-----BEGIN PUBLIC KEY-----: ECDSA P-256/384/521, RSA ≥ 2048 bits or Ed25519), e.g. cosign.pub');
    }
  };
  inline.forEach((pem, i) => add(`publicKeys[${i}]`, pem, `publicKeys[${i}]`, `${key}.publicKeys[${i}]`));
  files.forEach((file, i) => {
    const read = readFor(entry, `publicKeyFiles[${i}]`, file, ctx, MAX_PEM_BYTES);
    add(`publicKeyFiles[${i}]`, read.text, path.basename(read.path).replace(/\.[^.]*$/, '') || read.path, read.path);
  });
  keys.forEach((x, i) => {
    if (keys.findIndex((o) => o.spki.equals(x.spki)) !== i) entry.fail(x.subKey, 'lists the same key twice', 'remove the duplicate (a threshold counts distinct keys)');
    if (keys.findIndex((o) => o.k.name === x.k.name) !== i) entry.fail(x.subKey, `two keys are named "${x.k.name}"`, 'rename one key file (its name without extension names the key)');
  });
  return keys.map((x) => x.k);
}

function parseTrustedRoot(entry: Fields, ctx: PolicyParseContext): CosignTrustedRoot {
  const file = entry.optionalString('trustedRoot');
  let root: CosignTrustedRoot = { source: PUBLIC_GOOD_SOURCE, json: PUBLIC_GOOD_TRUSTED_ROOT };
  if (file !== undefined) {
    const read = readFor(entry, 'trustedRoot', file, ctx, MAX_TRUSTED_ROOT_BYTES);
    try {
      root = { source: read.path, json: JSON.parse(read.text) as unknown };
    } catch (err) {
      return entry.fail('trustedRoot', `${read.path} is not JSON: ${(err as Error).message}`, 'give a Sigstore trusted_root.json (protobuf-specs TrustedRoot, JSON form)');
    }
  }
  const bad = checkTrustedRoot(root.json);
  if (bad !== undefined) {
    entry.fail('trustedRoot', `${root.source}: cosign: ${bad}`, 'give a Sigstore trusted_root.json (protobuf-specs TrustedRoot, JSON form) whose log keys all have validFor.start');
  }
  return root;
}

function parseLayouts(entry: Fields): ('tag' | 'referrer')[] {
  const list = entry.optionalStringList('layouts');
  if (list === undefined) return [...LAYOUTS];
  if (list.length === 0) entry.fail('layouts', 'is empty', 'list tag, referrer or both (the default)');
  list.forEach((l, i) => {
    if (!(LAYOUTS as readonly string[]).includes(l)) entry.fail(`layouts[${i}]`, `"${l.slice(0, 64)}" is not a cosign layout`, 'write tag (sha256-<hex>.sig) or referrer (Sigstore bundle referrer)');
    if (list.indexOf(l) !== i) entry.fail(`layouts[${i}]`, `"${l}" is listed twice`, 'remove the duplicate');
  });
  return list as ('tag' | 'referrer')[];
}

function parseAnnotations(entry: Fields): Record<string, string> {
  const a = entry.optionalObject('annotations');
  if (a === undefined) return {};
  const keys = Object.keys(a.value);
  if (keys.length > MAX_ANNOTATIONS) entry.fail('annotations', `more than ${MAX_ANNOTATIONS} annotations`, 'require fewer annotations');
  for (const k of keys) a.requiredString(k);
  return { ...(a.value as Record<string, string>) };
}

function parseIdentities(entry: Fields, key: string, ctx: PolicyParseContext): CosignIdentity[] {
  const list = entry.optionalArray('identities')!;
  if (list.length > MAX_IDENTITIES) entry.fail('identities', `more than ${MAX_IDENTITIES} identities`, 'list fewer identities (a regular expression can cover several)');
  return list.map((raw, i) => {
    const id = Fields.object(raw, ctx.file, `${key}.identities[${i}]`);
    rejectUnknownKeys(id, IDENTITY_KEYS);
    const github: Partial<Record<GithubWorkflowClaim, string>> = {};
    for (const c of GITHUB_WORKFLOW_CLAIMS) {
      const v = id.optionalString(c);
      if (v !== undefined) github[c] = v;
    }
    const claims: Record<string, string | RegExp> = {};
    for (const c of FULCIO_CLAIM_NAMES) {
      const m = optionalExactOrRegExp(id, c, c.endsWith('URI') ? `${c}: https://github.com/acme/app` : `${c}RegExp: …`);
      if (m !== undefined) claims[c] = m;
    }
    return { name: id.optionalString('name'), issuer: exactOrRegExp(id, 'issuer'), subject: exactOrRegExp(id, 'subject'), github, claims };
  });
}

/** A Fulcio claim (`sourceRepositoryURI` / `sourceRepositoryURIRegExp`, …): at most one of the two forms. */
function optionalExactOrRegExp(id: Fields, field: string, example: string): string | RegExp | undefined {
  if (id.value[field] === undefined && id.value[`${field}RegExp`] === undefined) return undefined;
  return exactOrRegExp(id, field, example);
}

/** `issuer` / `issuerRegExp` (and subject, and each claim): exactly one; a regexp is matched whole-string (anchored) at verification. */
function exactOrRegExp(id: Fields, field: string, example = field === 'issuer' ? 'issuer: https://token.actions.githubusercontent.com' : 'subjectRegExp: https://github.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.+'): string | RegExp {
  const exact = id.optionalString(field);
  const pattern = id.optionalString(`${field}RegExp`);
  if ((exact === undefined) === (pattern === undefined)) id.fail(field, `give exactly one of ${field} and ${field}RegExp`, `e.g. ${example}`);
  if (exact !== undefined) return exact;
  if (pattern!.length > MAX_REGEXP_LENGTH) id.fail(`${field}RegExp`, `longer than ${MAX_REGEXP_LENGTH} characters`, 'write a shorter expression');
  try {
    return new RegExp(pattern!, 'u');
  } catch (err) {
    return id.fail(`${field}RegExp`, `not a regular expression: ${(err as Error).message}`, 'fix the expression (it is matched against the whole value, as Kyverno and policy-controller do)');
  }
}
