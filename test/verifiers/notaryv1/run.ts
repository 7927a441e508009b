/** Shared test plumbing: verify a crafted repository's published files with a pinned clock. */
import { memorySource } from './dir-source.ts';
import { ecdsaKey, type Key } from './craft.ts';
import { CraftedRepo } from './repo.ts';
import { NotaryV1VersionState, prepareNotaryV1Policy, type NotaryV1PolicyConfig, type Reference, verifyNotaryV1 } from '../../../verifiers/notaryv1/index.ts';

export const NOW = new Date('2026-06-01T00:00:00Z');
export const GUN = '127.0.0.1:5000/team/app';
export const D1 = { hex: 'a1'.repeat(32), length: 1234 };
export const D2 = { hex: 'b2'.repeat(32), length: 999 };
export const digestOf = (t: { hex: string }) => `sha256:${t.hex}`;

export function newRepo(rootKey: Key = ecdsaKey()): CraftedRepo {
  const repo = new CraftedRepo(GUN, [rootKey]);
  repo.targets = { v1: D1 };
  return repo;
}

export type RunOptions = {
  reference?: Reference;
  policy?: Partial<NotaryV1PolicyConfig>;
  pins?: string[];
  now?: Date;
  state?: NotaryV1VersionState;
  files?: Map<string, Buffer>;
  maxAgeSeconds?: number;
};

export async function run(repo: CraftedRepo, o: RunOptions = {}) {
  const files = o.files ?? repo.publish();
  const source = memorySource(files, o.maxAgeSeconds);
  const policy = prepareNotaryV1Policy({ trust: { publicKeys: o.pins ?? [repo.rootKeys[0]!.spkiPem] }, ...o.policy });
  const outcome = await verifyNotaryV1({ gun: repo.gun, reference: o.reference ?? { tag: 'v1' }, policy, source, now: o.now ?? NOW, ...(o.state ? { state: o.state } : {}) });
  return Object.assign(outcome, { asked: source.asked });
}
