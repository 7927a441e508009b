/**
 * containerd's `hosts.toml` per registry, in the one form that fails closed (DESIGN § What containerd really
 * does, measured on containerd 1.6): `server` is the mirror itself AND a `[host]` table exists. Without the
 * `server` line containerd appends the real registry as a fallback; without the `[host]` table 1.6 rejects the
 * file and silently pulls direct (containerd#10027).
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const BACKUP_SUFFIX = '.pullgate-backup';

export function hostsToml(mirrorUrl: string): string {
  return [
    '# Written by `pullgate hosts`: every pull of this registry goes through pullgate, and nowhere else.',
    '# `server` is the mirror, so containerd has no upstream to fall back to when pullgate denies.',
    `server = "${mirrorUrl}"`,
    '',
    `[host."${mirrorUrl}"]`,
    '  capabilities = ["pull", "resolve"]',
    '',
  ].join('\n');
}

export type HostsFileResult = 'written' | 'unchanged' | 'replaced';

/**
 * Writes `<dir>/<registry>/hosts.toml`. Idempotent; a different existing file is kept once as
 * `hosts.toml.pullgate-backup` (the first backup is never overwritten, so re-running cannot lose the
 * operator's original). Written via a temp file and rename so containerd never reads half a file.
 */
export async function writeHostsFile(dir: string, registry: string, mirrorUrl: string): Promise<HostsFileResult> {
  if (registry.includes('/') || registry === '..' || registry === '.') throw new Error(`invalid registry directory name "${registry}"`);
  const folder = path.join(dir, registry);
  const file = path.join(folder, 'hosts.toml');
  const content = hostsToml(mirrorUrl);
  await mkdir(folder, { recursive: true });
  let existing: string | undefined;
  try {
    existing = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (existing === content) return 'unchanged';
  if (existing !== undefined) {
    await copyFile(file, file + BACKUP_SUFFIX, constants.COPYFILE_EXCL).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
  return existing === undefined ? 'written' : 'replaced';
}
