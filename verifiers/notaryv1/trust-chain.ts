/**
 * The base trust chain of one GUN, in notary's order (`tuf/builder.go`, `client/tufclient.go`; NOTARYV1.md "Order of
 * checks"): root (anchored, rotation followed) → timestamp (root's timestamp keys) → snapshot (bytes match the
 * timestamp's hashes and length; snapshot keys) → root.json and targets.json bytes match the snapshot; targets signed
 * by root's targets keys. Every role must be unexpired at the injected clock and not older than the version state.
 * Delegations are loaded on demand afterwards (delegations.ts) against the same snapshot.
 */
import { createHash } from 'node:crypto';
import { fail } from './errors.ts';
import type { TufKey } from './keys.ts';
import { checkFileMeta, checkListedVersion, type LengthRule } from './file-meta-check.ts';
import { MAX_BYTES, parseRoot, parseSigned, parseSnapshot, parseTargets, parseTimestamp, type Common, type Root, type Signed, type Snapshot, type Targets } from './roles.ts';
import { type PreparedRootTrust, trustCurrentRoot } from './root-trust.ts';
import { checkThreshold } from './signatures.ts';
import type { NotaryV1MetadataSource, RoleHint } from './source.ts';
import type { NotaryV1VersionState, RoleVersion } from './version-state.ts';

export type ChainContext = {
  readonly gun: string;
  readonly source: NotaryV1MetadataSource;
  readonly now: Date;
  readonly trust: PreparedRootTrust;
  readonly state?: NotaryV1VersionState;
  readonly lengths: LengthRule;
  /** versions verified in this run, committed to the state only when the whole decision's metadata verified */
  readonly seen: Map<string, RoleVersion>;
  readonly hints: RoleHint[];
};

export type BaseChain = { readonly root: Root; readonly snapshot: Snapshot; readonly targets: Targets; readonly signers: ReadonlyMap<string, readonly TufKey[]> };

export async function fetchRole(ctx: ChainContext, name: string): Promise<{ bytes: Uint8Array; maxAgeSeconds?: number } | undefined> {
  let r;
  try {
    r = await ctx.source.fetchRole(ctx.gun, name);
  } catch (err) {
    return fail('fetch_failed', `fetching ${name}: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
  }
  if ('notFound' in r) return undefined;
  if (!(r.bytes instanceof Uint8Array)) return fail('fetch_failed', `fetching ${name}: no bytes`);
  return r;
}

/** Expiry and rollback for one verified role; records the version and a caching hint. */
export function acceptRole(ctx: ChainContext, name: string, signed: Signed, c: Common, maxAgeSeconds: number | undefined): void {
  if (c.expires.getTime() <= ctx.now.getTime()) fail('expired', `${name} expired at ${c.expires.toISOString()}`);
  const seen = { version: c.version, contentHash: createHash('sha256').update(signed.canonical).digest('hex') };
  const verdict = ctx.state?.check(ctx.gun, name, seen);
  if (verdict && !verdict.ok) {
    fail('rollback', verdict.forked
      ? `${name} version ${c.version} differs from the version ${c.version} seen before (re-issued metadata)`
      : `${name} version ${c.version} is older than version ${verdict.lastVersion} seen before (rollback or freeze)`);
  }
  ctx.seen.set(name, seen);
  ctx.hints.push(maxAgeSeconds === undefined ? { role: name, version: c.version, expires: c.expires } : { role: name, version: c.version, expires: c.expires, maxAgeSeconds });
}

export async function loadBaseChain(ctx: ChainContext): Promise<BaseChain> {
  // Fetch the four base files concurrently (the trust server is one round trip away); check them in order.
  const [rootF, tsF, snF, tgF] = await Promise.all(['root', 'timestamp', 'snapshot', 'targets'].map((n) => fetchRole(ctx, n)));
  for (const [n, f] of [['root', rootF], ['timestamp', tsF], ['snapshot', snF], ['targets', tgF]] as const) {
    if (!f) fail('no_trust_data', `no trust data for ${ctx.gun} (${n}.json not found on the trust server)`);
  }
  const signers = new Map<string, readonly TufKey[]>();

  const rootSigned = parseSigned(rootF!.bytes, 'root', MAX_BYTES.root);
  const current = { signed: rootSigned, root: parseRoot(rootSigned), fetched: rootF! };
  const root = await trustCurrentRoot(current, ctx.gun, ctx.trust, ctx.now, ctx.source, ctx.state);
  acceptRole(ctx, 'root', rootSigned, root, rootF!.maxAgeSeconds);

  const tsSigned = parseSigned(tsF!.bytes, 'timestamp', MAX_BYTES.timestamp);
  const timestamp = parseTimestamp(tsSigned);
  signers.set('timestamp', checkThreshold(root.roles.timestamp, tsSigned.signatures, tsSigned.canonical).signers);
  acceptRole(ctx, 'timestamp', tsSigned, timestamp, tsF!.maxAgeSeconds);

  checkFileMeta(snF!.bytes, timestamp.snapshot, 'snapshot', ctx.lengths);
  const snSigned = parseSigned(snF!.bytes, 'snapshot', MAX_BYTES.snapshot);
  const snapshot = parseSnapshot(snSigned);
  checkListedVersion(timestamp.snapshot, snapshot.version, 'snapshot');
  signers.set('snapshot', checkThreshold(root.roles.snapshot, snSigned.signatures, snSigned.canonical).signers);
  acceptRole(ctx, 'snapshot', snSigned, snapshot, snF!.maxAgeSeconds);

  for (const [n, f] of [['root', rootF!], ['targets', tgF!]] as const) {
    const meta = snapshot.meta.get(n);
    if (!meta) fail('hash_mismatch', `snapshot does not list ${n}`);
    checkFileMeta(f.bytes, meta, n, ctx.lengths);
  }
  checkListedVersion(snapshot.meta.get('root')!, root.version, 'root');
  const tgSigned = parseSigned(tgF!.bytes, 'targets', MAX_BYTES.targets);
  const targets = parseTargets(tgSigned, 'targets');
  checkListedVersion(snapshot.meta.get('targets')!, targets.version, 'targets');
  signers.set('targets', checkThreshold(root.roles.targets, tgSigned.signatures, tgSigned.canonical).signers);
  acceptRole(ctx, 'targets', tgSigned, targets, tgF!.maxAgeSeconds);
  return { root, snapshot, targets, signers };
}
