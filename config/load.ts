/**
 * Loads and validates the pullgate config file (YAML or JSON; YAML is a superset of JSON, so one parser reads
 * both). Every problem is reported as a ConfigError naming the file, the key and the fix, and the whole file is
 * checked before anything starts: a node gate that half-starts on a typo is a gate that fails open somewhere.
 */
import { isValidRepositoryName } from '../oci/names.ts';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { PullgateConfig, RegistryConfig } from './types.ts';
import { ConfigError, Fields, parseHostPort } from './fields.ts';
import { parseImagePolicy } from '../policy/image-policy/parse.ts';
import { readTextBounded } from '../policy/image-policy/parse-context.ts';

const KNOWN_KEYS = ['listen', 'admin', 'mode', 'registries', 'notation', 'credentials', 'upstream', 'cache', 'webhook', 'logLevel', 'reloadIntervalMs', 'shutdownGraceMs', 'audit', 'policy'];
const AUDIT_KEYS = ['containerdSocket', 'intervalMs', 'remove'];
const WEBHOOK_KEYS = ['listen', 'tlsCert', 'tlsKey', 'clientCaFile', 'pinning', 'verify', 'verifyCachedDigests', 'exemptNamespaces', 'exemptImages', 'timeoutMs', 'maxBodyBytes', 'cacheTtlMs', 'maxResolutionsPerReview'];

/** Notation CLI's own default (`$XDG_CONFIG_HOME/notation`), so a notation user's setup works unchanged. */
export function defaultNotationDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return path.join(xdg && xdg.length > 0 ? xdg : path.join(homedir(), '.config'), 'notation');
}

export const DEFAULT_REGISTRIES: readonly { host: string; endpoint: string }[] = [
  { host: 'docker.io', endpoint: 'https://registry-1.docker.io' },
];

export interface LoadOptions {
  /**
   * Every file the load reads or tries to read (the config file, a policy file, key files) is appended, also
   * when the load fails: the reloader watches them so that fixing or creating the file a broken config named
   * is noticed.
   */
  readonly attempted?: string[];
}

/** Reads `file` (or returns the built-in defaults when `file` is undefined). */
export async function loadConfig(file: string | undefined, opts: LoadOptions = {}): Promise<PullgateConfig> {
  if (file === undefined) return buildConfig({}, undefined);
  const absolute = path.resolve(file);
  opts.attempted?.push(absolute);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, '(file)', `cannot read the config file: ${(err as Error).message}`, 'pass an existing file with --config');
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(absolute, '(file)', `not valid YAML/JSON: ${(err as Error).message}`, 'fix the syntax');
  }
  return buildConfig(raw ?? {}, absolute, opts);
}

/** Validates an already-parsed document; exported for tests and for callers that embed the config. */
export function buildConfig(raw: unknown, source: string | undefined, opts: LoadOptions = {}): PullgateConfig {
  const file = source ?? '(built-in defaults)';
  const baseDir = source === undefined ? process.cwd() : path.dirname(source);
  const root = Fields.object(raw, file, '(root)');
  for (const key of Object.keys(root.value)) {
    if (!KNOWN_KEYS.includes(key)) root.fail(key, `unknown key "${key}"`, `remove it or use one of: ${KNOWN_KEYS.join(', ')}`);
  }
  const resolvePath = (p: string) => path.resolve(baseDir, p);

  const registriesRaw = root.optionalArray('registries') ?? DEFAULT_REGISTRIES;
  const registries = registriesRaw.map((entry, i) => parseRegistry(Fields.object(entry, file, `registries[${i}]`), resolvePath));
  const seen = new Set<string>();
  registries.forEach((r, i) => {
    if (seen.has(r.host)) root.fail(`registries[${i}].host`, `registry "${r.host}" is listed twice`, 'keep one entry per registry host');
    seen.add(r.host);
  });

  const notation = root.optionalObject('notation');
  const configDir = notation?.optionalString('configDir');
  const upstream = root.optionalObject('upstream');
  const cache = root.optionalObject('cache');
  const audit = root.optionalObject('audit');
  for (const key of Object.keys(audit?.value ?? {})) {
    if (!AUDIT_KEYS.includes(key)) audit!.fail(key, `unknown key "${key}"`, `remove it or use one of: ${AUDIT_KEYS.join(', ')}`);
  }
  const auditSocket = audit?.optionalString('containerdSocket');
  if (auditSocket !== undefined && !auditSocket.startsWith('/')) audit!.fail('containerdSocket', `"${auditSocket}" is not an absolute path`, 'write the socket path, e.g. /run/containerd/containerd.sock');
  const webhook = root.optionalObject('webhook');
  for (const key of Object.keys(webhook?.value ?? {})) {
    if (!WEBHOOK_KEYS.includes(key)) webhook!.fail(key, `unknown key "${key}"`, `remove it or use one of: ${WEBHOOK_KEYS.join(', ')}`);
  }
  const tlsCert = webhook?.optionalString('tlsCert');
  const tlsKey = webhook?.optionalString('tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    root.fail('webhook.tlsCert', 'tlsCert and tlsKey must be given together', 'set both, or neither for plain HTTP on loopback');
  }
  const clientCaFile = webhook?.optionalString('clientCaFile');
  if (clientCaFile !== undefined && tlsCert === undefined) {
    root.fail('webhook.clientCaFile', 'client certificates need HTTPS', 'set webhook.tlsCert and webhook.tlsKey too, or drop clientCaFile');
  }
  const webhookListen = parseHostPort(webhook?.optionalString('listen') ?? '127.0.0.1:8443', file, 'webhook.listen');
  // The apiserver only talks HTTPS to webhooks; plain HTTP exists for tests and a local sidecar, never on a
  // reachable address (an admission answer on the wire in clear text is an answer anyone could forge).
  if (tlsCert === undefined && !isLoopback(webhookListen.host)) {
    root.fail('webhook.listen', `plain HTTP on ${webhookListen.host} is not loopback`, 'set webhook.tlsCert and webhook.tlsKey, or listen on 127.0.0.1');
  }
  const exemptNamespaces = webhook?.optionalStringList('exemptNamespaces') ?? [];
  exemptNamespaces.forEach((ns, i) => {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) webhook!.fail(`exemptNamespaces[${i}]`, `"${ns}" is not a namespace name`, 'write a DNS-1123 label such as kube-system');
  });
  const credentials = root.optionalString('credentials');
  // The bytes all cold decisions may hold must fit one decision's budget, or a lone decision could be "busy".
  const decisionMaxBytes = upstream?.optionalInt('decisionMaxBytes', 64 * 1024, 4 * 1024 * 1024 * 1024) ?? 64 * 1024 * 1024;
  const coldDecisionMaxBytes = upstream?.optionalInt('coldDecisionMaxBytes', 64 * 1024, 64 * 1024 * 1024 * 1024) ?? 128 * 1024 * 1024;
  if (coldDecisionMaxBytes < decisionMaxBytes) {
    upstream!.fail('coldDecisionMaxBytes', `${coldDecisionMaxBytes} is less than upstream.decisionMaxBytes (${decisionMaxBytes})`, 'raise coldDecisionMaxBytes or lower decisionMaxBytes');
  }

  // Parsed here, with the rest, so a bad rule stops `serve`/`webhook`/`verify`/`audit` at start like any other
  // config error; its files (a policy file, key files) are in imagePolicy.sources for the reloader to watch.
  const attempted = opts.attempted;
  const readText = attempted === undefined ? readTextBounded : (p: string, max: number) => (attempted.push(p), readTextBounded(p, max));
  const imagePolicy = parseImagePolicy(root.value.policy, { file, baseDir, readText });

  return {
    source,
    imagePolicy,
    listen: parseHostPort(root.optionalString('listen') ?? '127.0.0.1:5050', file, 'listen'),
    admin: parseHostPort(root.optionalString('admin') ?? '127.0.0.1:9050', file, 'admin'),
    mode: root.optionalEnum('mode', ['enforce', 'audit'] as const) ?? 'enforce',
    registries,
    notation: { configDir: configDir === undefined ? defaultNotationDir() : resolvePath(configDir) },
    credentials: credentials === undefined ? undefined : resolvePath(credentials),
    upstream: {
      connectTimeoutMs: upstream?.optionalInt('connectTimeoutMs', 1, 120_000) ?? 5_000,
      headersTimeoutMs: upstream?.optionalInt('headersTimeoutMs', 1, 300_000) ?? 15_000,
      bodyTimeoutMs: upstream?.optionalInt('bodyTimeoutMs', 1, 600_000) ?? 30_000,
      manifestMaxBytes: upstream?.optionalInt('manifestMaxBytes', 1024, 4 * 1024 * 1024) ?? 4 * 1024 * 1024,
      connections: upstream?.optionalInt('connections', 1, 1024) ?? 64,
      manifestTimeoutMs: upstream?.optionalInt('manifestTimeoutMs', 100, 600_000) ?? 30_000,
      // The smallest legitimate decision makes 4 requests (referrers API, tag schema, one signature manifest,
      // its envelope) and reads a few KiB; the defaults (oci/discovery/decision-budget.ts) let notation's own
      // bound of 50 signatures finish and stop 50 envelopes of 32 MiB.
      decisionMaxRequests: upstream?.optionalInt('decisionMaxRequests', 4, 10_000) ?? 128,
      decisionMaxBytes,
      coldDecisions: upstream?.optionalInt('coldDecisions', 1, 1024) ?? 16,
      coldDecisionQueue: upstream?.optionalInt('coldDecisionQueue', 0, 100_000) ?? 256,
      coldDecisionWaitMs: upstream?.optionalInt('coldDecisionWaitMs', 0, 600_000) ?? 10_000,
      coldDecisionMaxBytes,
    },
    cache: {
      allowTtlMs: cache?.optionalInt('allowTtlMs', 0, 24 * 3600_000) ?? 5 * 60_000,
      denyTtlMs: cache?.optionalInt('denyTtlMs', 0, 3600_000) ?? 30_000,
      tagTtlMs: cache?.optionalInt('tagTtlMs', 0, 3600_000) ?? 0,
      staleIfErrorMs: cache?.optionalInt('staleIfErrorMs', 0, 7 * 24 * 3600_000) ?? 0,
      maxBytes: cache?.optionalInt('maxBytes', 1024 * 1024, 4 * 1024 * 1024 * 1024) ?? 64 * 1024 * 1024,
    },
    webhook: {
      listen: webhookListen,
      tlsCert: tlsCert === undefined ? undefined : resolvePath(tlsCert),
      tlsKey: tlsKey === undefined ? undefined : resolvePath(tlsKey),
      clientCaFile: clientCaFile === undefined ? undefined : resolvePath(clientCaFile),
      pinning: webhook?.optionalBoolean('pinning') ?? false,
      verify: webhook?.optionalBoolean('verify') ?? false,
      verifyCachedDigests: webhook?.optionalBoolean('verifyCachedDigests') ?? true,
      exemptNamespaces,
      exemptImages: webhook?.optionalStringList('exemptImages') ?? [],
      // Well under the webhook configuration's timeoutSeconds (5 in daemonset/, 10 by default in
      // admissionregistration.k8s.io/v1, at most 30), so the user reads pullgate's reason rather than the
      // apiserver's "context deadline exceeded"; the maximum stays under that 30 s ceiling.
      timeoutMs: webhook?.optionalInt('timeoutMs', 100, 25_000) ?? 3_000,
      // An object is at most ~3 MiB (the apiserver's request limit); an UPDATE review carries two of them.
      maxBodyBytes: webhook?.optionalInt('maxBodyBytes', 64 * 1024, 64 * 1024 * 1024) ?? 8 * 1024 * 1024,
      cacheTtlMs: webhook?.optionalInt('cacheTtlMs', 0, 600_000) ?? 30_000,
      // Registry lookups one review may cause (distinct images not already decided): a Pod with hundreds of
      // containers must not turn one request into hundreds of credentialed upstream fetches.
      maxResolutionsPerReview: webhook?.optionalInt('maxResolutionsPerReview', 1, 1000) ?? 32,
    },
    audit: {
      containerdSocket: auditSocket ?? '/run/containerd/containerd.sock',
      // Off by default for the first release (each pass reads every stored manifest and its signatures).
      intervalMs: audit?.optionalInt('intervalMs', 0, 7 * 24 * 3600_000) ?? 0,
      remove: audit?.optionalBoolean('remove') ?? false,
    },
    reloadIntervalMs: root.optionalInt('reloadIntervalMs', 0, 3600_000) ?? 2_000,
    shutdownGraceMs: root.optionalInt('shutdownGraceMs', 0, 600_000) ?? 20_000,
    logLevel: root.optionalEnum('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) ?? 'info',
  };
}

function parseRegistry(entry: Fields, resolvePath: (p: string) => string): RegistryConfig {
  const host = entry.requiredString('host');
  // As written in image references: a DNS name or IP, optional port, no scheme or path (containerd's
  // certs.d directory names use exactly this form).
  if (!/^[a-zA-Z0-9.-]+(:[0-9]{1,5})?$/.test(host) && !/^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(host)) {
    entry.fail('host', `"${host}" is not a registry host`, 'write it as in image references, e.g. ghcr.io or 10.0.0.5:5000 (no scheme, no path)');
  }
  const endpointText = entry.requiredString('endpoint');
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    return entry.fail('endpoint', `"${endpointText}" is not a URL`, 'write e.g. https://registry-1.docker.io');
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    entry.fail('endpoint', `scheme ${endpoint.protocol} is not supported`, 'use https:// (or http:// for a registry on a trusted network)');
  }
  if (endpoint.pathname !== '/' || endpoint.search !== '' || endpoint.username !== '' || endpoint.password !== '') {
    entry.fail('endpoint', 'the endpoint must be an origin only', 'remove the path, query and any user:password (use credentials)');
  }
  const caFile = entry.optionalString('caFile');
  return {
    host: host.toLowerCase(),
    endpoint,
    blobRedirects: entry.optionalEnum('blobRedirects', ['relay', 'follow'] as const) ?? 'relay',
    caFile: caFile === undefined ? undefined : resolvePath(caFile),
    credentialedRepositories: parseCredentialedRepositories(entry),
  };
}

const MAX_CREDENTIALED_REPOSITORIES = 256;

/** `credentialedRepositories`: repository names or `prefix/*` globs (registry/credential-scope.ts matches them). */
function parseCredentialedRepositories(entry: Fields): readonly string[] | undefined {
  const list = entry.optionalArray('credentialedRepositories');
  if (list === undefined) return undefined;
  if (list.length > MAX_CREDENTIALED_REPOSITORIES) entry.fail('credentialedRepositories', `more than ${MAX_CREDENTIALED_REPOSITORIES} entries`, 'use prefix globs such as team/*');
  return list.map((item, i) => {
    const key = `credentialedRepositories[${i}]`;
    if (typeof item !== 'string') return entry.fail(key, 'must be a string', 'write a repository name such as team/app, or team/* for everything below team/');
    const name = item.endsWith('/*') ? item.slice(0, -2) : item;
    if (!isValidRepositoryName(name)) return entry.fail(key, `"${item.slice(0, 100)}" is not a repository name or prefix glob`, 'write e.g. team/app or team/* (lowercase, no registry host, no tag)');
    return item;
  });
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
