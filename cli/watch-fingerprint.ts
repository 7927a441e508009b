/**
 * A cheap change detector for the files pullgate reloads: (path, inode, size, mtime) of every file under the
 * watched paths, symlinks followed. Kubernetes updates ConfigMap/Secret volumes by swapping a `..data`
 * symlink, which fs.watch reports unreliably; a stat walk every few seconds sees it, and costs microseconds.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const MAX_ENTRIES = 10_000;
const MAX_DEPTH = 6;

export async function statFingerprint(paths: readonly (string | undefined)[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) if (p !== undefined) await walk(p, 0, parts);
  return parts.join('\n');
}

async function walk(p: string, depth: number, parts: string[]): Promise<void> {
  if (parts.length >= MAX_ENTRIES) return;
  let s;
  try {
    s = await stat(p);
  } catch {
    parts.push(`${p} missing`);
    return;
  }
  if (!s.isDirectory()) {
    parts.push(`${p} ${s.ino} ${s.size} ${s.mtimeMs}`);
    return;
  }
  if (depth >= MAX_DEPTH) return;
  const names = (await readdir(p).catch(() => [] as string[])).sort();
  for (const name of names) {
    // Kubernetes' atomic-writer bookkeeping: `..data` and `..<timestamp>` duplicate the real entries.
    if (name.startsWith('..')) continue;
    await walk(path.join(p, name), depth + 1, parts);
  }
}
