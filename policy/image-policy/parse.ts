/**
 * The config's optional `policy:` section (inline, or a string naming a YAML/JSON file) → a typed ImagePolicy.
 * Every rule is checked before anything runs, with ConfigError's shape (file, key path, fix): a node gate that
 * half-understands its policy is a gate that fails open somewhere. `undefined` in, `undefined` out: without a
 * policy section the Notation trust policy alone decides, exactly as before the image policy existed.
 */
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, Fields } from '../../config/fields.ts';
import { parseRequirement } from './parse-requirement.ts';
import { readFor, rejectUnknownKeys } from './parse-context.ts';
import type { PolicyParseContext } from './parse-context.ts';
import { isScopeProblem, parseScope } from './scope.ts';
import type { ImagePolicy, ImagePolicyRule, Requirement, RuleAction, SupportedVerifier, TrustServer, VerifierName } from './types.ts';

export const MAX_RULES = 1000;
export const MAX_REQUIREMENTS = 16;
export const MAX_TRUST_SERVERS = 64;
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;
export const MAX_DENY_MESSAGE = 512;

const POLICY_KEYS = ['trustServers', 'rules'];
const RULE_KEYS = ['scope', 'require', 'anyOf', 'count', 'allow', 'deny'];
const SERVER_KEYS = ['url', 'caFile', 'credentials'];
const SERVER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseImagePolicy(raw: unknown, ctx: PolicyParseContext): ImagePolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const sources: string[] = [];
  const recording: PolicyParseContext = { ...ctx, readText: (p, max) => { sources.push(p); return ctx.readText(p, max); } };
  if (typeof raw === 'string') return parsePolicyFile(raw, recording, sources);
  return parseDocument(Fields.object(raw, ctx.file, 'policy'), 'policy.', recording, sources);
}

/** `policy: ./image-policy.yaml`: the file holds the same mapping; its messages name that file. */
function parsePolicyFile(relative: string, ctx: PolicyParseContext, sources: string[]): ImagePolicy {
  const holder = Fields.object({ policy: relative }, ctx.file, '(root)');
  const read = readFor(holder, 'policy', relative, ctx, MAX_POLICY_FILE_BYTES);
  let doc: unknown;
  try {
    doc = parseYaml(read.text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(read.path, '(file)', `not valid YAML/JSON: ${(err as Error).message}`, 'fix the syntax');
  }
  // Relative paths inside the policy file resolve against its own folder, as the config's do against the config's.
  const inner: PolicyParseContext = { ...ctx, file: read.path, baseDir: path.dirname(read.path) };
  return parseDocument(Fields.object(doc ?? {}, read.path, '(root)'), '', inner, sources);
}

/** `prefix` is `policy.` for the inline section and empty for a policy file (its keys start at its root). */
function parseDocument(policy: Fields, prefix: string, ctx: PolicyParseContext, sources: string[]): ImagePolicy {
  rejectUnknownKeys(policy, POLICY_KEYS);
  const trustServers = parseTrustServers(policy, ctx);
  const rulesRaw = policy.optionalArray('rules');
  if (rulesRaw === undefined) policy.fail('rules', 'is required', 'list at least one rule, e.g. - scope: "*" with require: [{verifier: notation}]');
  if (rulesRaw.length > MAX_RULES) policy.fail('rules', `more than ${MAX_RULES} rules`, 'merge rules with prefix scopes (registry/team/*)');
  const rules = rulesRaw.map((entry, i) => parseRule(Fields.object(entry, ctx.file, `${prefix}rules[${i}]`), `${prefix}rules[${i}]`, i, trustServers, ctx));
  const firstByScope = new Map<string, ImagePolicyRule>();
  for (const rule of rules) {
    const first = firstByScope.get(rule.scope.text);
    if (first !== undefined) {
      throw new ConfigError(ctx.file, `${rule.key}.scope`, `scope "${rule.scope.text}" is already the scope of ${first.key}`, 'merge the two rules: each scope may appear once, so which rule applies never depends on order');
    }
    firstByScope.set(rule.scope.text, rule);
  }
  const verifiers = new Set<SupportedVerifier>();
  for (const rule of rules) if (rule.action.kind === 'verify') for (const r of rule.action.requirements) verifiers.add(r.verifier);
  return { file: ctx.file, rules, trustServers, verifiers, sources };
}

function parseTrustServers(policy: Fields, ctx: PolicyParseContext): Map<string, TrustServer> {
  const servers = new Map<string, TrustServer>();
  const section = policy.optionalObject('trustServers');
  if (section === undefined) return servers;
  const names = Object.keys(section.value);
  if (names.length > MAX_TRUST_SERVERS) section.fail(names[MAX_TRUST_SERVERS]!, `more than ${MAX_TRUST_SERVERS} trust servers`, 'define fewer servers');
  for (const name of names) {
    if (!SERVER_NAME.test(name)) section.fail(name.slice(0, 64), `"${name.slice(0, 64)}" is not a trust server name`, 'use lowercase letters, digits and -, e.g. notary-internal');
    const s = section.optionalObject(name);
    if (s === undefined) return section.fail(name, 'must be a mapping with url', `write ${name}: {url: https://notary.example:4443}`);
    rejectUnknownKeys(s, SERVER_KEYS);
    const text = s.requiredString('url');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return s.fail('url', `"${text.slice(0, 100)}" is not a URL`, 'write e.g. https://notary.example:4443');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') s.fail('url', `scheme ${url.protocol} is not supported`, 'use https:// (http:// only for a server on a trusted network)');
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      s.fail('url', 'the trust server URL must be an origin only', 'remove the path, query and any user:password (name a credentials entry instead)');
    }
    const caFile = s.optionalString('caFile');
    servers.set(name, { name, url, caFile: caFile === undefined ? undefined : path.resolve(ctx.baseDir, caFile), credentials: s.optionalString('credentials') });
  }
  return servers;
}

function parseRule(rule: Fields, key: string, index: number, trustServers: ReadonlyMap<string, TrustServer>, ctx: PolicyParseContext): ImagePolicyRule {
  rejectUnknownKeys(rule, RULE_KEYS);
  const scopeText = rule.requiredString('scope');
  const scope = parseScope(scopeText);
  if (isScopeProblem(scope)) return rule.fail('scope', scope.problem, scope.fix);
  const given = ['require', 'anyOf', 'allow', 'deny'].filter((k) => rule.value[k] !== undefined && rule.value[k] !== null);
  if (given.length !== 1) {
    rule.fail(given[1] ?? 'require', given.length === 0 ? 'the rule says nothing about the images it matches' : `${given.join(' and ')} cannot be combined in one rule`, 'give exactly one of require: [...], anyOf: [...], allow: true or deny: true|"<message>"');
  }
  if (rule.value.count !== undefined && given[0] !== 'anyOf') rule.fail('count', 'count only applies to anyOf', 'use anyOf: [...] with count: <n>, or remove count (require: needs all of its requirements)');
  return { index, key, scope, action: parseAction(rule, given[0]!, key, trustServers, ctx) };
}

function parseAction(rule: Fields, kind: string, key: string, trustServers: ReadonlyMap<string, TrustServer>, ctx: PolicyParseContext): RuleAction {
  if (kind === 'allow') {
    if (rule.value.allow !== true) rule.fail('allow', 'must be true', 'write allow: true (to refuse images, write deny: true)');
    return { kind: 'allow' };
  }
  if (kind === 'deny') {
    const v = rule.value.deny;
    if (v === true) return { kind: 'deny', message: undefined };
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_DENY_MESSAGE) {
      return rule.fail('deny', `must be true or a message of 1 to ${MAX_DENY_MESSAGE} characters`, 'write deny: true or deny: "<why these images are refused>"');
    }
    return { kind: 'deny', message: v };
  }
  const list = rule.optionalArray(kind)!;
  if (list.length > MAX_REQUIREMENTS) rule.fail(kind, `more than ${MAX_REQUIREMENTS} requirements`, 'split the rule or require fewer verifiers');
  const verifierOf = (raw: unknown): unknown => (typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).verifier : undefined);
  const repeats = (v: VerifierName) => list.filter((raw) => verifierOf(raw) === v).length > 1;
  const requirements: Requirement[] = list.map((raw, i) => {
    const reqKey = `${key}.${kind}[${i}]`;
    return parseRequirement(Fields.object(raw, ctx.file, reqKey), reqKey, i, (v) => (repeats(v) ? `${v}#${i}` : v), trustServers, ctx);
  });
  requirements.forEach((r, i) => {
    if (requirements.findIndex((o) => o.name === r.name) !== i) rule.fail(`${kind}[${i}].name`, `requirement name "${r.name}" is used twice in this rule`, 'give each requirement of a rule its own name');
  });
  if (kind === 'require') return { kind: 'verify', mode: 'allOf', requirements, count: requirements.length };
  const count = rule.optionalInt('count', 1, MAX_REQUIREMENTS) ?? 1;
  if (count > requirements.length) rule.fail('count', `count ${count} is more than the ${requirements.length} requirement(s) listed under anyOf`, `set count between 1 and ${requirements.length}`);
  return { kind: 'verify', mode: 'anyOf', requirements, count };
}
