/**
 * Which host directory containerd reads for a registry, exactly as containerd 1.5–2.x does on Linux:
 *   CRI hostDirFromRoots(config_path split as a path list) → per root, config.HostDirFromRoot(root), whose
 *   hostPaths(root, host) are `<host>_<port>_` (hostDirectory: the last `:` spelled `_port_`; only when the
 *   host has one), then `<host>`, then `_default`. The first path whose os.Stat succeeds wins — a directory
 *   without hosts.toml, or even a plain file — and a Stat error other than "not found" is returned as the
 *   pull's error. (`ctr --hosts-dir DIR` is the same with one root.)
 * Doctor has to read the tree the same way: the directory that wins is the only one containerd reads.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_HOST_DIR, containerdHostPaths } from '../../proxy/hosts-toml.ts';

/** How the winning path is spelled: `<host>_<port>_`, `<host>` as written, or `_default`. */
export type HostDirVia = 'port' | 'host' | 'default';

export type HostDirLookup =
  | { readonly kind: 'none'; readonly tried: readonly string[] }
  | { readonly kind: 'error'; readonly path: string; readonly message: string }
  | {
      readonly kind: 'found';
      readonly path: string;
      readonly via: HostDirVia;
      readonly isDirectory: boolean;
      /** Paths later in containerd's order that exist but are never read for this registry. */
      readonly shadowed: readonly string[];
    };

export async function lookupHostDirectory(roots: readonly string[], host: string): Promise<HostDirLookup> {
  const candidates = roots.flatMap((root) => containerdHostPaths(host).map((name) => ({ path: path.join(root, name), via: viaOf(host, name) })));
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    const found = await statPath(candidate.path);
    if (found === 'missing') continue;
    if (typeof found === 'object') return { kind: 'error', path: candidate.path, message: found.message };
    const shadowed: string[] = [];
    for (const later of candidates.slice(i + 1)) if ((await statPath(later.path)) !== 'missing') shadowed.push(later.path);
    return { kind: 'found', path: candidate.path, via: candidate.via, isDirectory: found === 'directory', shadowed };
  }
  return { kind: 'none', tried: candidates.map((c) => c.path) };
}

function viaOf(host: string, name: string): HostDirVia {
  return name === DEFAULT_HOST_DIR ? 'default' : name === host ? 'host' : 'port';
}

/** os.Stat semantics: symlinks followed; only "does not exist" lets containerd try the next path. */
async function statPath(p: string): Promise<'missing' | 'directory' | 'other' | Error> {
  try {
    return (await stat(p)).isDirectory() ? 'directory' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : (err as Error);
  }
}
