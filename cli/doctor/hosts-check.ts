/**
 * Checks the hosts.toml containerd will use for one registry against the one fail-closed form
 * (DESIGN § What containerd really does; REAL-PEERS §3, measured on containerd 1.6):
 *   server = "<pullgate>"  +  [host."<pullgate>"] capabilities = ["pull", "resolve"]
 * Every other shape has a measured way around the gate: no `[host]` table → 1.6 rejects the file and pulls
 * direct (containerd#10027); no `server` → the upstream is appended as the last host; any host or server that
 * is not pullgate → containerd tries it after pullgate's 403.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { DOCKER_HUB } from '../../oci/names.ts';
import { ok, problem, warn, type Finding } from './findings.ts';
import { lookupHostDirectory, type HostDirLookup } from './host-lookup.ts';

/** Spellings containerd treats as registries of their own (own directory, else `_default`); pullgate folds them into docker.io. */
const DOCKER_HUB_ALIASES = ['index.docker.io', 'registry-1.docker.io'];

/**
 * The verdict on the directory containerd really reads for `registry` (host-lookup.ts: `_port_` spelling, then
 * `host:port`, then `_default`, root by root).
 */
export async function checkRegistryHosts(roots: readonly string[], registry: string, mirror: string): Promise<Finding[]> {
  const found = await lookupHostDirectory(roots, registry);
  if (found.kind === 'none') {
    return [problem('hosts_missing', `no ${registry}/ (nor _default/) directory under ${roots.join(', ') || '(no config_path)'}: containerd pulls ${registry} direct; run \`pullgate hosts --dir <config_path>\``, { registry })];
  }
  const verdict = await inspectFound(found, registry, mirror);
  if (found.kind === 'found' && found.via === 'default') {
    verdict.unshift(warn('hosts_via_default', `${registry} has no directory of its own and is governed by _default/hosts.toml; \`pullgate hosts\` writes one per registry`, { registry, file: path.join(found.path, 'hosts.toml') }));
  }
  return verdict;
}

/**
 * What happens to registries with no directory of their own: every registry pullgate is not configured for,
 * and the spellings containerd does not fold into a configured one (`registry-1.docker.io`, an upper-case
 * `Registry.Host:5000`). Only `_default` can send those to the gate (`pullgate hosts --default`); without it
 * they are pulled direct, which the webhook then has to stop. A warning, not a problem: `_default` is optional.
 */
export async function checkUnlistedRegistries(roots: readonly string[], registries: readonly string[], mirror: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  // A host no root has a directory for: containerd ends at the first root's `_default`.
  const fallback = await lookupHostDirectory(roots, '_default');
  if (fallback.kind === 'none') {
    findings.push(warn('default_missing', `no _default/ directory: registries pullgate is not configured for, and aliases such as registry-1.docker.io or an upper-case host, are pulled direct; \`pullgate hosts --default\` sends them to pullgate, which denies what it does not know`));
  } else {
    const verdict = await inspectFound(fallback, '_default', mirror);
    const file = fallback.kind === 'found' ? path.join(fallback.path, 'hosts.toml') : fallback.path;
    if (verdict.some((f) => f.level === 'problem')) {
      const why = verdict.filter((f) => f.level === 'problem').map((f) => f.message).join('; ');
      findings.push(warn('default_not_gate', `${file} does not send unlisted registries and aliases to pullgate (${why}); \`pullgate hosts --default\` fixes it`, { file }));
    } else {
      findings.push(ok('default_ok', `unlisted registries and aliases go to pullgate via ${file}`, { file }));
    }
  }
  if (registries.includes(DOCKER_HUB)) {
    for (const alias of DOCKER_HUB_ALIASES) {
      const found = await lookupHostDirectory(roots, alias);
      if (found.kind !== 'found' || found.via === 'default') continue; // covered by the _default finding above
      const verdict = await inspectFound(found, alias, mirror);
      if (verdict.some((f) => f.level === 'problem')) {
        findings.push(warn('alias_not_gate', `${found.path} is read for ${alias}/… images (the same registry as docker.io) and does not route them to pullgate: ${verdict.filter((f) => f.level === 'problem').map((f) => f.message).join('; ')}`, { registry: alias, file: path.join(found.path, 'hosts.toml') }));
      }
    }
  }
  return findings;
}

/** Reads and judges the hosts.toml of the path containerd picked, as containerd's loadHostDir would. */
async function inspectFound(found: Exclude<HostDirLookup, { kind: 'none' }>, registry: string, mirror: string): Promise<Finding[]> {
  if (found.kind === 'error') {
    return [problem('hosts_unreadable', `cannot stat ${found.path} (${found.message}): containerd stops at that error and every pull of ${registry} fails`, { registry, file: found.path })];
  }
  if (!found.isDirectory) {
    return [problem('hosts_not_directory', `${found.path} is not a directory: containerd picks it anyway and every pull of ${registry} fails; remove it and run \`pullgate hosts\``, { registry, file: found.path })];
  }
  const file = path.join(found.path, 'hosts.toml');
  const shadowing = found.shadowed.length > 0 ? ` (containerd reads it before, and so ignores, ${found.shadowed.join(', ')})` : '';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') return [problem('hosts_unreadable', `cannot read ${file} (${e.message}): containerd fails every pull of ${registry}`, { registry, file })];
    text = '';
  }
  // containerd treats an empty hosts.toml like a missing one (loadHostDir: len(b) == 0).
  if (text.length === 0) {
    return [problem('hosts_missing', `${found.path} has no hosts.toml${shadowing}: containerd uses only its certificates and pulls ${registry} direct; run \`pullgate hosts\``, { registry, file })];
  }
  return inspectHostsToml(text, mirror).map((f) => ({ ...f, message: f.level === 'problem' ? `${f.message}${shadowing}` : f.message, registry, file }));
}

/** Pure check of one hosts.toml text; `mirror` is pullgate's mirror URL (`http://127.0.0.1:5050`). */
export function inspectHostsToml(text: string, mirror: string): Finding[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    return [problem('hosts_invalid', `not valid TOML (${(err as Error).message.split('\n')[0]}): containerd logs "failed to decode hosts.toml" and pulls direct`)];
  }
  const findings: Finding[] = [];
  // parseHostConfig fails on any other capability, and containerd then drops the whole file and pulls direct.
  const hostEntries = isTable(doc.host) ? Object.values(doc.host) : [];
  const unknown = [doc, ...hostEntries].flatMap((entry) => capabilities(entry)).filter((c) => !KNOWN_CAPABILITIES.has(c));
  if (unknown.length > 0) {
    return [problem('hosts_invalid', `unknown capability ${JSON.stringify(unknown[0])}: containerd rejects the file ("unknown capability") and pulls direct; use capabilities = ["pull", "resolve"]`)];
  }
  const want = origin(mirror);
  const server = typeof doc.server === 'string' ? doc.server : undefined;
  const hostTable = doc.host;
  if (hostTable === undefined || typeof hostTable !== 'object' || hostTable === null || Array.isArray(hostTable)) {
    findings.push(problem('hosts_no_host_table', 'no [host] table: containerd 1.6 rejects such a file ("invalid `host` tree") and silently pulls direct (containerd#10027); add [host."<mirror>"] as `pullgate hosts` writes it'));
  }
  if (server === undefined) {
    findings.push(problem('hosts_server_missing', 'no `server` line: containerd appends the registry itself as the last host, so a pullgate denial falls through to it; set server to the pullgate mirror'));
  } else if (origin(server) !== want) {
    findings.push(problem('hosts_server_not_mirror', `server = "${server}" is not pullgate (${mirror}): containerd tries it after pullgate denies`));
  }
  const hosts = hostTable !== null && typeof hostTable === 'object' && !Array.isArray(hostTable) ? Object.entries(hostTable as Record<string, unknown>) : [];
  let resolves = server !== undefined && origin(server) === want && capabilities(doc).includes('resolve');
  for (const [url, entry] of hosts) {
    if (origin(url) !== want) {
      findings.push(problem('hosts_other_host', `[host."${url}"] is not pullgate (${mirror}): containerd tries it after pullgate denies`));
      continue;
    }
    const caps = capabilities(entry);
    if (caps.includes('resolve')) resolves = true;
    else findings.push(warn('hosts_no_resolve', `[host."${url}"] lacks the "resolve" capability: tag lookups skip it${server !== undefined && origin(server) === want ? ' (they still reach pullgate as `server`)' : ''}; use capabilities = ["pull", "resolve"]`));
  }
  if (!resolves && findings.every((f) => f.level !== 'problem')) {
    findings.push(problem('hosts_no_resolve', 'no entry pointing at pullgate has the "resolve" capability: tags cannot be resolved through the gate'));
  }
  if (findings.every((f) => f.level !== 'problem')) findings.push(ok('hosts_ok', `fail-closed: every host is pullgate (${mirror})`));
  return findings;
}

const KNOWN_CAPABILITIES = new Set(['pull', 'resolve', 'push']);
const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** containerd's default capabilities for a host entry are pull + resolve (+ push); it compares them lower-cased. */
function capabilities(entry: unknown): string[] {
  const caps = isTable(entry) ? entry.capabilities : undefined;
  return Array.isArray(caps) && caps.length > 0 ? caps.filter((c): c is string => typeof c === 'string').map((c) => c.toLowerCase()) : ['pull', 'resolve'];
}

/** containerd assumes https:// for a host written without a scheme, and ignores a trailing /v2. */
function origin(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  try {
    return new URL(withScheme).origin;
  } catch {
    return `invalid:${url}`;
  }
}
