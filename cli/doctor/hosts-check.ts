/**
 * Checks the hosts.toml containerd will use for one registry against the one fail-closed form
 * (DESIGN § What containerd really does; REAL-PEERS §3, measured on containerd 1.6):
 *   server = "<pullgate>"  +  [host."<pullgate>"] capabilities = ["pull", "resolve"]
 * Every other shape has a measured way around the gate: no `[host]` table → 1.6 rejects the file and pulls
 * direct (containerd#10027); no `server` → the upstream is appended as the last host; any host or server that
 * is not pullgate → containerd tries it after pullgate's 403.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ok, problem, warn, type Finding } from './findings.ts';

/** Where containerd looks for a registry's host directory: per root, `<root>/<host>` then `<root>/_default`. */
export async function findHostDirectory(roots: readonly string[], registry: string): Promise<{ dir: string; viaDefault: boolean } | undefined> {
  for (const root of roots) {
    for (const [name, viaDefault] of [[registry, false], ['_default', true]] as const) {
      const dir = path.join(root, name);
      if (await isDirectory(dir)) return { dir, viaDefault };
    }
  }
  return undefined;
}

export async function checkRegistryHosts(roots: readonly string[], registry: string, mirror: string): Promise<Finding[]> {
  const found = await findHostDirectory(roots, registry);
  if (found === undefined) {
    return [problem('hosts_missing', `no ${registry}/ (nor _default/) directory under ${roots.join(', ') || '(no config_path)'}: containerd pulls ${registry} direct; run \`pullgate hosts --dir <config_path>\``, { registry })];
  }
  const file = path.join(found.dir, 'hosts.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [problem('hosts_missing', `${found.dir} has no hosts.toml: containerd uses only its certificates and pulls ${registry} direct`, { registry, file })];
  }
  const findings: Finding[] = inspectHostsToml(text, mirror).map((f) => ({ ...f, registry, file }));
  if (found.viaDefault) findings.unshift(warn('hosts_via_default', `${registry} has no directory of its own and is governed by _default/hosts.toml; \`pullgate hosts\` writes one per registry`, { registry, file }));
  return findings;
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

/** containerd's default capabilities for a host entry are pull + resolve. */
function capabilities(entry: unknown): string[] {
  const caps = (entry as { capabilities?: unknown } | undefined)?.capabilities;
  return Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : ['pull', 'resolve'];
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

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}
