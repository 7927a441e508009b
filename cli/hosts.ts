/**
 * `pullgate hosts --dir DIR`: the fail-closed hosts.toml for every configured registry (and, with
 * `--default`, for `_default`, so registries pullgate does not know — and spellings of known ones that
 * containerd does not fold together, like `registry-1.docker.io` or `Registry.Host:5000` — are denied by it
 * instead of pulled direct). A registry with a port gets both directory spellings containerd reads,
 * `<host>_<port>_/` (which it tries first) and `<host>:<port>/`: a `_port_` directory pullgate left alone,
 * even one holding only a ca.crt, would win and send the pull straight to the registry.
 */
import type { PullgateConfig } from '../config/types.ts';
import { DEFAULT_HOST_DIR, registryHostDirs, restoreHostsFiles, writeHostsFile, type HostsFileResult, type HostsRestoreResult } from '../proxy/hosts-toml.ts';

export function mirrorUrl(config: PullgateConfig): string {
  const { host, port } = config.listen;
  // containerd must reach the mirror on this node; an all-addresses listen is reached over loopback.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Results are per directory written (`127.0.0.1_5000_` and `127.0.0.1:5000` for one registry). */
export async function hostsCommand(config: PullgateConfig, dir: string, withDefault: boolean): Promise<{ registry: string; result: HostsFileResult }[]> {
  const url = mirrorUrl(config);
  const names = [...new Set(config.registries.flatMap((r) => registryHostDirs(r.host)))];
  if (withDefault) names.push(DEFAULT_HOST_DIR);
  const results: { registry: string; result: HostsFileResult }[] = [];
  for (const registry of names) results.push({ registry, result: await writeHostsFile(dir, registry, url) });
  return results;
}

/**
 * `pullgate hosts --dir DIR --restore`: the uninstall step. Run it on every node before pullgate is removed:
 * a hosts.toml pointing at a mirror that no longer runs fails every pull of that registry (closed, by design).
 */
export async function restoreCommand(dir: string): Promise<{ registry: string; result: HostsRestoreResult }[]> {
  return restoreHostsFiles(dir);
}
