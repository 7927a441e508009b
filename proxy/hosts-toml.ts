/**
 * containerd's `hosts.toml` per registry, in the one form that fails closed (DESIGN § What containerd really
 * does, measured on containerd 1.6): `server` is the mirror itself AND a `[host]` table exists. Without the
 * `server` line containerd appends the real registry as a fallback; without the `[host]` table 1.6 rejects the
 * file and silently pulls direct (containerd#10027).
 *
 * Which directory containerd reads is its own lookup (remotes/docker/config hostPaths, containerd 1.5–2.x on
 * Linux): for a host with a port, `<host>_<port>_/` first, then `<host>:<port>/`, then `_default/`, root by root;
 * the first path that exists wins even when it holds no hosts.toml, which means "the registry itself, with
 * these certificates". So pullgate writes every spelling containerd may pick before `_default`.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const BACKUP_SUFFIX = '.pullgate-backup';

/** First line of every file pullgate writes: how `--restore` tells its own files from the operator's. */
export const HOSTS_MARKER = '# Written by `pullgate hosts`: every pull of this registry goes through pullgate, and nowhere else.';

/**
 * Second line when pullgate wrote into a directory that existed before (certificates, or nothing at all):
 * `--restore` then keeps the directory even if it is empty, because an empty directory is itself a setting
 * containerd reads ("pull this registry direct").
 */
export const KEEP_DIR_LINE = '# This directory existed before pullgate: `pullgate hosts --restore` keeps it.';

export const DEFAULT_HOST_DIR = '_default';

/**
 * containerd's hostDirectory: the last `:` of a host becomes `_<port>_` (colons are not portable in file names).
 * As containerd does it, byte for byte — including for a bracketed IPv6 address without a port.
 */
export function portSpelling(host: string): string {
  const idx = host.lastIndexOf(':');
  return idx > 0 ? `${host.slice(0, idx)}_${host.slice(idx + 1)}_` : host;
}

/** The directory names containerd tries for `host` under one root, in its order (`_default` last). */
export function containerdHostPaths(host: string): string[] {
  return [...new Set([portSpelling(host), host, DEFAULT_HOST_DIR])];
}

/** The directories `pullgate hosts` writes for a registry: every one containerd may pick before `_default`. */
export function registryHostDirs(registry: string): string[] {
  return containerdHostPaths(registry).filter((name) => name !== DEFAULT_HOST_DIR);
}

export function hostsToml(mirrorUrl: string, opts: { readonly keepDirectory?: boolean } = {}): string {
  return [
    HOSTS_MARKER,
    ...(opts.keepDirectory === true ? [KEEP_DIR_LINE] : []),
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
 * Writes `<dir>/<name>/hosts.toml` (`name` is one directory spelling, see registryHostDirs). Idempotent; an
 * operator's existing file is kept once as `hosts.toml.pullgate-backup` (the first backup is never overwritten,
 * so re-running cannot lose the original; pullgate's own older file is never taken for an original). Written
 * via a temp file and rename so containerd never reads half a file.
 */
export async function writeHostsFile(dir: string, registry: string, mirrorUrl: string): Promise<HostsFileResult> {
  if (registry.includes('/') || registry === '..' || registry === '.' || registry === '') throw new Error(`invalid registry directory name "${registry}"`);
  const folder = path.join(dir, registry);
  const file = path.join(folder, 'hosts.toml');
  const folderExisted = await stat(folder).then(
    (s) => {
      // containerd picks a non-directory too (it only stats the name) and then fails every pull: closed, but
      // nothing pullgate can write into. Stop here so the init container fails loudly.
      if (!s.isDirectory()) throw new Error(`${folder} exists and is not a directory: containerd fails every pull of this registry until it is removed`);
      return true;
    },
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  await mkdir(folder, { recursive: true });
  const existing = await readIfExists(file);
  const ours = isOurs(existing);
  // Whether the directory predates pullgate: recorded by our first write, and carried over by later ones.
  const keepDirectory = ours ? keepsDirectory(existing) : folderExisted;
  const content = hostsToml(mirrorUrl, { keepDirectory });
  if (existing === content) return 'unchanged';
  if (existing !== undefined && !ours) {
    await copyFile(file, file + BACKUP_SUFFIX, constants.COPYFILE_EXCL).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, file);
  return existing === undefined ? 'written' : 'replaced';
}

function isOurs(text: string | undefined): text is string {
  return text !== undefined && text.startsWith(HOSTS_MARKER);
}

function keepsDirectory(ours: string): boolean {
  return ours.split('\n', 2)[1] === KEEP_DIR_LINE;
}

export type HostsRestoreResult = 'restored' | 'removed' | 'kept';

/**
 * Undoes `writeHostsFile` for every registry directory under `dir` (uninstall). Scans instead of taking the
 * configured registry list, so a registry dropped from the config since install is restored too:
 *  - our file + a backup → the backup is moved back (`restored`), so the node pulls as before install;
 *  - our file, no backup → it is deleted, and the directory too when pullgate created it and nothing else is
 *    in it (`removed`); a directory that existed before (KEEP_DIR_LINE) stays, even empty;
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
  const ours = isOurs(current);
  if (isOurs(saved)) {
    // Left by an older pullgate that backed up its own file on a re-run: not the operator's original.
    await unlink(backup);
    if (!ours) return 'kept';
  } else if (saved !== undefined) {
    if (!ours && current !== undefined) return 'kept';
    await rename(backup, file); // atomic: containerd sees either our file or the original, never neither
    return 'restored';
  }
  if (!ours) return undefined;
  await unlink(file);
  if (!keepsDirectory(current)) {
    await rmdir(folder).catch((err: NodeJS.ErrnoException) => {
      // Certificates or other files the operator keeps there: the directory stays.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  }
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
