/**
 * `pullgate hosts --dir DIR`: the fail-closed hosts.toml for every configured registry (and, with
 * `--default`, for `_default`, so registries pullgate does not know are denied by it instead of pulled direct).
 */
import type { PullgateConfig } from '../config/types.ts';
import { restoreHostsFiles, writeHostsFile, type HostsFileResult, type HostsRestoreResult } from '../proxy/hosts-toml.ts';

export function mirrorUrl(config: PullgateConfig): string {
  const { host, port } = config.listen;
  // containerd must reach the mirror on this node; an all-addresses listen is reached over loopback.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

export async function hostsCommand(config: PullgateConfig, dir: string, withDefault: boolean): Promise<{ registry: string; result: HostsFileResult }[]> {
  const url = mirrorUrl(config);
  const names = config.registries.map((r) => r.host);
  if (withDefault) names.push('_default');
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
