/**
 * Which gate a benchmark runs. `image`: the gate as the container image and the DaemonSet run it — the bundle,
 * the image's node flags and malloc settings (Dockerfile), the DaemonSet's NODE_OPTIONS — so the numbers are
 * those of what is deployed. `sources`: the TypeScript sources, as `npm start` runs them. Same code either way;
 * what differs is start-up, V8's young generation (1 MiB semi-spaces in the image) and glibc's allocator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, DAEMONSET_NODE_OPTIONS, IMAGE_ENV, IMAGE_NODE_FLAGS } from '../scripts/build.ts';
import type { PullgateSetup } from '../test/e2e/pullgate-process.ts';

export type GateKind = 'image' | 'sources';

/** IMAGE_ENV as a shell prefix, for labels: `MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072`. */
export const IMAGE_ENV_TEXT = Object.entries(IMAGE_ENV).map(([k, v]) => `${k}=${v}`).join(' ');

export interface GateBuild {
  readonly kind: GateKind;
  /** For a table's header: the command the gate ran as. */
  readonly label: string;
  /** Spread into startPullgate's setup; `env` may be extended (a probe's extra tunable). */
  readonly setup: Required<Pick<PullgateSetup, 'nodeArgs' | 'env'>> & Pick<PullgateSetup, 'entry'>;
  remove(): void;
}

export function parseGateKind(arg: string | undefined): GateKind {
  if (arg === undefined || arg === 'image') return 'image';
  if (arg === 'sources') return 'sources';
  throw new Error(`--gate must be image or sources (got ${arg})`);
}

/** For `image`, builds the bundle into a private folder: another benchmark may be rebuilding the shared dist/. */
export async function gateBuild(kind: GateKind): Promise<GateBuild> {
  if (kind === 'sources') return { kind, label: 'node bin/pullgate.ts (the sources, as npm start)', setup: { nodeArgs: [], env: process.env }, remove: () => {} };
  const out = mkdtempSync(join(tmpdir(), 'pullgate-bench-'));
  try {
    await buildBundle(out);
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
  const nodeArgs = [...IMAGE_NODE_FLAGS, DAEMONSET_NODE_OPTIONS];
  return {
    kind,
    label: `${IMAGE_ENV_TEXT} node ${nodeArgs.join(' ')} dist/pullgate.mjs (the image, as the DaemonSet runs it)`,
    setup: { entry: join(out, 'pullgate.mjs'), nodeArgs, env: { ...process.env, ...IMAGE_ENV } },
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}
