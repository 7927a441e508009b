/**
 * Another commit of this repository, runnable next to the working tree: a detached `git worktree` in a fresh temp
 * dir with this tree's node_modules linked in (for benches comparing an older gate with this one). `remove()`
 * deletes the worktree and its registration; callers call it in a `finally`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Worktree {
  readonly dir: string;
  /** The abbreviated commit `ref` named when the worktree was made. */
  readonly commit: string;
  remove(): void;
}

/** A detached worktree of `ref`; an older package.json needing a package node_modules lacks fails at its start. */
export function worktreeOf(ref: string): Worktree {
  const dir = mkdtempSync(join(tmpdir(), 'pullgate-bench-baseline-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const remove = () => {
    try { git('worktree', 'remove', '--force', dir); } catch { /* not added, or already gone */ }
    rmSync(dir, { recursive: true, force: true });
    try { git('worktree', 'prune'); } catch { /* nothing to prune */ }
  };
  try {
    const commit = git('rev-parse', '--short', `${ref}^{commit}`);
    git('worktree', 'add', '--detach', dir, commit);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    return { dir, commit, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

