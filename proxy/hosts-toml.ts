/**
 * containerd's `hosts.toml` per registry, in the one form that fails closed (DESIGN § What containerd really
 * does, measured on containerd 1.6): `server` is the mirror itself AND a `[host]` table exists. Without the
 * `server` line containerd appends the real registry as a fallback; without the `[host]` table 1.6 rejects the
 * file and silently pulls direct (containerd#10027).
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const BACKUP_SUFFIX = '.pullgate-backup';

/** First line of every file pullgate writes: how `--restore` tells its own files from the operator's. */
export const HOSTS_MARKER = '# Written by `pullgate hosts`: every pull of this registry goes through pullgate, and nowhere else.';

export function hostsToml(mirrorUrl: string): string {
  return [
    HOSTS_MARKER,
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

export type HostsRestoreResult = 'restored' | 'removed' | 'kept';

/**
 * Undoes `writeHostsFile` for every registry directory under `dir` (uninstall). Scans instead of taking the
 * configured registry list, so a registry dropped from the config since install is restored too:
 *  - our file + a backup → the backup is moved back (`restored`), so the node pulls as before install;
 *  - our file, no backup → it is deleted, and the directory too when nothing else is in it (`removed`);
 *  - a file that is not ours next to a backup → left alone (`kept`): someone changed it after install, and
 *    their newer file wins over our old copy of the original.
 * Directories pullgate never touched are not reported. A missing `dir` restores nothing.
 */
export async function restoreHostsFiles(dir: string): Promise<{ registry: string; result: HostsRestoreResult }[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const results: { registry: string; result: HostsRestoreResult }[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const result = await restoreOne(path.join(dir, entry.name));
    if (result !== undefined) results.push({ registry: entry.name, result });
  }
  return results;
}

async function restoreOne(folder: string): Promise<HostsRestoreResult | undefined> {
  const file = path.join(folder, 'hosts.toml');
  const backup = file + BACKUP_SUFFIX;
  const [current, saved] = await Promise.all([readIfExists(file), readIfExists(backup)]);
  const ours = current !== undefined && current.startsWith(HOSTS_MARKER);
  if (saved !== undefined && (ours || current === undefined)) {
    await rename(backup, file); // atomic: containerd sees either our file or the original, never neither
    return 'restored';
  }
  if (saved !== undefined) return 'kept';
  if (!ours) return undefined;
  await unlink(file);
  await rmdir(folder).catch((err: NodeJS.ErrnoException) => {
    // Certificates or other files the operator keeps there: the directory stays.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
  });
  return 'removed';
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
