/**
 * The Notary v1 verifier's one entry point: "tag T (or digest D) of GUN G is signed by the trusted role(s); it is
 * digest D of length N". Pure apart from the injected metadata source and clock: no network, no files, no timers.
 * Never throws: every failure is an outcome with a closed reason code (errors.ts) and a message meant to follow
 * `pullgate: <ref>: `. The version state is the caller's (one per process, kept across config reloads) and is
 * updated only when the whole metadata set of a decision verified.
 *
 * Usage (engine): at config load, `prepareNotaryV1Policy({trust, roles})` per rule (throws NotaryV1Error with the
 * reason for a bad key/selection); per decision, `verifyNotaryV1({gun, reference, policy, source, now, state})`.
 */
import { NotaryV1Error, type NotaryV1ReasonCode } from './errors.ts';
import type { LengthRule } from './file-meta-check.ts';
import { loadRole, type RoleLoad } from './delegations.ts';
import { type PreparedRootTrust, prepareRootTrust, type RootTrustConfig } from './root-trust.ts';
import type { NotaryV1MetadataSource, RoleHint } from './source.ts';
import { type PreparedSelection, prepareSelection, type Reference, type RoleSelection, selectAndLookup } from './target-lookup.ts';
import { type ChainContext, loadBaseChain } from './trust-chain.ts';
import type { NotaryV1VersionState } from './version-state.ts';

export type NotaryV1PolicyConfig = {
  readonly trust: RootTrustConfig;
  readonly roles?: RoleSelection;
  /** `exact` (default, TUF): metadata lengths must match; `hash-only`: Connaisseur's check, hashes only. */
  readonly metadataLengths?: LengthRule;
};

export type PreparedNotaryV1Policy = { readonly trust: PreparedRootTrust; readonly selection: PreparedSelection; readonly lengths: LengthRule };

export function prepareNotaryV1Policy(config: NotaryV1PolicyConfig): PreparedNotaryV1Policy {
  return { trust: prepareRootTrust(config.trust), selection: prepareSelection(config.roles), lengths: config.metadataLengths ?? 'exact' };
}

export type NotaryV1Request = {
  /** `registry[:port]/repository` as the trust server names it (Docker Hub: `docker.io/library/x`) */
  readonly gun: string;
  readonly reference: Reference;
  readonly policy: PreparedNotaryV1Policy;
  readonly source: NotaryV1MetadataSource;
  readonly now: Date;
  readonly state?: NotaryV1VersionState;
};

export type CacheHints = {
  readonly roles: readonly RoleHint[];
  /** Reuse the fetched metadata no later than this: the earliest role expiry or max-age. */
  readonly validUntil: Date;
};

export type NotaryV1Success = {
  readonly ok: true;
  readonly gun: string;
  /** `sha256:<hex>` the trust data signs, and the manifest length it signs: serve the manifest fetched by this digest */
  readonly digest: string;
  readonly length: number;
  readonly tags: readonly string[];
  /** the role(s) that decided, with the IDs of the keys that signed them and their versions */
  readonly decidedBy: readonly { readonly role: string; readonly version: number; readonly signerKeyIds: readonly string[] }[];
  readonly versions: Readonly<Record<string, number>>;
  readonly cache: CacheHints;
};

export type NotaryV1Failure = { readonly ok: false; readonly gun: string; readonly code: NotaryV1ReasonCode; readonly message: string; readonly cache?: CacheHints };
export type NotaryV1Outcome = NotaryV1Success | NotaryV1Failure;

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function hints(list: readonly RoleHint[], now: Date): CacheHints {
  let until = Number.POSITIVE_INFINITY;
  for (const h of list) {
    until = Math.min(until, h.expires.getTime());
    if (h.maxAgeSeconds !== undefined) until = Math.min(until, now.getTime() + h.maxAgeSeconds * 1000);
  }
  return { roles: list, validUntil: new Date(Number.isFinite(until) ? until : now.getTime()) };
}

export async function verifyNotaryV1(req: NotaryV1Request): Promise<NotaryV1Outcome> {
  const { gun, reference } = req;
  const failure = (code: NotaryV1ReasonCode, message: string, cache?: CacheHints): NotaryV1Failure =>
    cache ? { ok: false, gun, code, message: `notary v1: ${message}`, cache } : { ok: false, gun, code, message: `notary v1: ${message}` };
  if (gun.length === 0 || gun.length > 512 || /[\s\x00-\x1f?#]/.test(gun)) return failure('metadata_invalid', 'invalid GUN');
  if (reference.tag === undefined && reference.digest === undefined) return failure('tag_not_signed', 'reference has neither tag nor digest');
  if (reference.tag !== undefined && !TAG.test(reference.tag)) return failure('tag_not_signed', `invalid tag ${JSON.stringify(reference.tag.slice(0, 200))}`);
  if (reference.digest !== undefined && !SHA256_DIGEST.test(reference.digest)) {
    return failure('digest_not_signed', `Notary v1 signs sha256 digests only, not ${reference.digest.slice(0, 100)}`);
  }
  const ctx: ChainContext = {
    gun, source: req.source, now: req.now, trust: req.policy.trust, lengths: req.policy.lengths, seen: new Map(), hints: [],
    ...(req.state ? { state: req.state } : {}),
  };
  try {
    const base = await loadBaseChain(ctx);
    const cache = new Map<string, Promise<RoleLoad>>();
    const { target, decidedBy } = await selectAndLookup(req.policy.selection, reference, (name) => loadRole(ctx, base, name, cache));
    // Every fetched delegation verified (or the decision would have failed): commit the versions seen.
    req.state?.commit(gun, ctx.seen, { pinId: req.policy.trust.pinId, root: base.root, version: base.root.version });
    const versions = Object.fromEntries([...ctx.seen].map(([r, v]) => [r, v.version]));
    return {
      ok: true, gun, digest: target.digest, length: target.length, tags: target.tags,
      decidedBy: decidedBy.map((r) => ({ role: r.name, version: r.targets.version, signerKeyIds: r.signers.map((k) => k.id) })),
      versions, cache: hints(ctx.hints, req.now),
    };
  } catch (err) {
    if (err instanceof NotaryV1Error) {
      // A denial on content (tag not signed) after a fully verified chain still advances the state: the versions
      // were authentic. Failures in the chain itself commit nothing.
      if (CONTENT_CODES.has(err.code)) req.state?.commit(gun, ctx.seen);
      return failure(err.code, err.message, ctx.hints.length > 0 ? hints(ctx.hints, req.now) : undefined);
    }
    return failure('metadata_invalid', `internal error: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
  }
}

const CONTENT_CODES: ReadonlySet<NotaryV1ReasonCode> = new Set([
  'tag_not_signed', 'digest_not_signed', 'digest_mismatch', 'digest_conflict', 'delegation_missing', 'signer_untrusted',
]);
