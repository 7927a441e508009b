/**
 * Reads containerd's config.toml (and the files it `imports`) and finds where CRI looks for hosts.toml.
 * The key moved twice, and a config written for one shape is silently ignored by another:
 *   v1 (no `version`, containerd ≤ 1.4 style)  [plugins.cri.registry] config_path
 *   v2 (`version = 2`, containerd 1.5–1.7)     [plugins."io.containerd.grpc.v1.cri".registry] config_path
 *   v3 (`version = 3`, containerd 2.x)          [plugins."io.containerd.cri.v1.images".registry] config_path
 * containerd 1.x defaults config_path to "" (hosts.toml never read); 2.x defaults it to the path list
 * "/etc/containerd/certs.d:/etc/docker/certs.d" (containerd#12415, #12808).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ok, problem, warn, type Finding } from './findings.ts';

export type ConfigShape = 'v1' | 'v2' | 'v3';

export const REGISTRY_TABLE: Readonly<Record<ConfigShape, readonly string[]>> = {
  v1: ['plugins', 'cri', 'registry'],
  v2: ['plugins', 'io.containerd.grpc.v1.cri', 'registry'],
  v3: ['plugins', 'io.containerd.cri.v1.images', 'registry'],
};
const SHAPE_LABEL: Record<ConfigShape, string> = { v1: 'version 1 (containerd ≤ 1.4 keys)', v2: 'version 2 (containerd 1.5–1.7)', v3: 'version 3 (containerd 2.x)' };
export const CONTAINERD_2_DEFAULT_CONFIG_PATH = '/etc/containerd/certs.d:/etc/docker/certs.d';

export interface ContainerdWiring {
  readonly file: string;
  readonly shape: ConfigShape;
  /** As written (or containerd's default when unset); undefined when hosts.toml is not read at all. */
  readonly configPath: string | undefined;
  /** config_path split as containerd splits a path list, each under the host root. */
  readonly roots: readonly string[];
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);
const dig = (t: Table, keys: readonly string[]): unknown => keys.reduce<unknown>((v, k) => (isTable(v) ? v[k] : undefined), t);
const keyText = (keys: readonly string[]): string => `[${keys.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : `"${k}"`)).join('.')}]`;

/** Paths from containerd's config are host paths; inside a pod the host is mounted at `hostRoot`. */
export function underRoot(hostRoot: string, p: string): string {
  return hostRoot === '/' ? p : path.join(hostRoot, p);
}

export async function readContainerdWiring(file: string, hostRoot: string): Promise<{ wiring: ContainerdWiring | undefined; findings: Finding[] }> {
  const findings: Finding[] = [];
  const where = underRoot(hostRoot, file);
  let doc: Table;
  try {
    doc = await loadWithImports(where, hostRoot, 0);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && e.path === where) {
      findings.push(problem('containerd_config_missing', `${where} does not exist: containerd runs on built-in defaults; write a config that sets config_path (README § containerd wiring), or pass --containerd-config`, { file: where }));
    } else {
      findings.push(problem('containerd_config_invalid', `cannot read containerd's config: ${e.message}`, { file: where }));
    }
    return { wiring: undefined, findings };
  }
  const version = doc.version ?? 1;
  const shape: ConfigShape | undefined = version === 1 ? 'v1' : version === 2 ? 'v2' : version === 3 ? 'v3' : undefined;
  if (shape === undefined) {
    findings.push(problem('containerd_config_invalid', `version = ${String(version)} is not a containerd config version doctor knows (1, 2 or 3)`, { file: where }));
    return { wiring: undefined, findings };
  }
  findings.push(ok('containerd_config', `${where}: ${SHAPE_LABEL[shape]}`, { file: where }));

  const tableKeys = REGISTRY_TABLE[shape];
  const registry = dig(doc, tableKeys);
  const written = isTable(registry) && typeof registry.config_path === 'string' ? registry.config_path : undefined;
  for (const other of (['v1', 'v2', 'v3'] as const).filter((s) => s !== shape)) {
    const misplaced = dig(doc, [...REGISTRY_TABLE[other], 'config_path']);
    if (typeof misplaced === 'string' && misplaced !== '' && (written === undefined || written === '')) {
      findings.push(problem('config_path_misplaced', `config_path is set under ${keyText(REGISTRY_TABLE[other])}, which a ${SHAPE_LABEL[shape]} config ignores: move it to ${keyText(tableKeys)}`, { file: where }));
    }
  }
  if (isTable(registry) && isTable(registry.mirrors) && Object.keys(registry.mirrors).length > 0 && written !== undefined && written !== '') {
    findings.push(problem('mirrors_with_config_path', `${keyText([...tableKeys, 'mirrors'])} is set together with config_path: containerd refuses to load the CRI plugin ("mirrors cannot be set when config_path is provided"); move the mirrors into hosts.toml files`, { file: where }));
  }

  // v3 without the key means 2.x's default list; v1/v2 without it means hosts.toml is never read.
  const configPath = written !== undefined && written !== '' ? written : shape === 'v3' && written === undefined ? CONTAINERD_2_DEFAULT_CONFIG_PATH : undefined;
  if (configPath === undefined) {
    findings.push(problem('config_path_unset', `config_path is not set in ${keyText(tableKeys)}: containerd never reads hosts.toml and pulls every registry direct; set config_path = "/etc/containerd/certs.d" and restart containerd`, { file: where }));
    return { wiring: { file: where, shape, configPath: undefined, roots: [] }, findings };
  }
  const roots = configPath.split(':').filter((p) => p !== '').map((p) => underRoot(hostRoot, p));
  findings.push(ok('config_path', `config_path = "${configPath}"${written === undefined ? ' (containerd 2.x default, not written in the file)' : ''}`, { file: where }));

  if (shape === 'v3') {
    const images = dig(doc, ['plugins', 'io.containerd.cri.v1.images']);
    const localPull = isTable(images) && images.use_local_image_pull === true;
    if (roots.length > 1 && !localPull) {
      findings.push(problem('transfer_path_list', `config_path is a path list; containerd 2.1+ pulls for CRI through the transfer service, which reads it as ONE directory named "${configPath}", finds no hosts.toml and pulls direct without a log line (containerd#12415, #12636, #12808). Set config_path to the single directory pullgate writes (e.g. "/etc/containerd/certs.d"), or use_local_image_pull = true in ${keyText(['plugins', 'io.containerd.cri.v1.images'])}`, { file: where }));
    }
    // `ctr images pull` goes through the transfer service too, which ignored config_path before containerd#12597.
    findings.push(warn('ctr_transfer_hosts', 'containerd 2.x: `ctr images pull` uses the transfer service, which in some 2.x releases ignores config_path (containerd#12550); kubelet pulls are not affected, but pass --hosts-dir to ctr when testing by hand', { file: where }));
  }
  return { wiring: { file: where, shape, configPath, roots }, findings };
}

/** containerd merges `imports` (globs allowed in the last path element) over the main file, in order. */
async function loadWithImports(file: string, hostRoot: string, depth: number): Promise<Table> {
  if (depth > 8) throw new Error(`${file}: imports nest deeper than 8 levels`);
  let doc: Table;
  try {
    doc = parseToml(await readFile(file, 'utf8')) as Table;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== undefined) throw err;
    throw new Error(`${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  const imports = Array.isArray(doc.imports) ? doc.imports.filter((i): i is string => typeof i === 'string') : [];
  for (const pattern of imports) {
    const absolute = path.isAbsolute(pattern) ? underRoot(hostRoot, pattern) : path.join(path.dirname(file), pattern);
    for (const imported of await expandGlob(absolute)) {
      const { version: _ignored, ...rest } = await loadWithImports(imported, hostRoot, depth + 1);
      doc = deepMerge(doc, rest);
    }
  }
  return doc;
}

async function expandGlob(p: string): Promise<string[]> {
  const base = path.basename(p);
  if (!base.includes('*')) return [p];
  const re = new RegExp(`^${base.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const dir = path.dirname(p);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
}

function deepMerge(into: Table, from: Table): Table {
  const out: Table = { ...into };
  for (const [k, v] of Object.entries(from)) out[k] = isTable(v) && isTable(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}
