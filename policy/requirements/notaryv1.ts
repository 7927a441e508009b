/**
 * A `verifier: notaryv1` requirement (issue 13.3–13.4): the GUN's trust data on the named trust server must sign
 * the tag (or, for a by-digest reference, list the digest under some tag) in the role(s) the requirement trusts.
 * Notary v1 signs tags, so this adapter also resolves a tag to the digest and length its trust data signs — the
 * gate then fetches exactly that digest, whatever the registry's tag says now — and checks that the manifest it
 * is asked to judge is that digest with that length.
 *
 * Per requirement, the root pins and role selection are prepared once per policy generation (a bad key fails
 * the load, not a pull); the version state (rollback and freeze detection) is the process's and outlives reloads.
 */
import type { DecisionReason, DecisionSubject, ImageTarget, RequirementReport, TagSubject } from '../decision.ts';
import type { NotaryV1Requirement, PinnedKey, Requirement, TrustServer } from '../image-policy/types.ts';
import {
  NotaryV1Error, prepareNotaryV1Policy, verifyNotaryV1,
  type NotaryV1MetadataSource, type NotaryV1Outcome, type NotaryV1VersionState, type PreparedNotaryV1Policy, type Reference, type RoleSelection,
} from '../../verifiers/notaryv1/index.ts';
import { LRUCache } from 'lru-cache';
import { failedReport, type RequirementVerifier, type TagReport } from './requirement-verifier.ts';

/** A trust server's metadata, fetched under the decision's deadline (registry/notary-server.ts takes the signal). */
export interface SignalledMetadataSource {
  fetchRole(gun: string, name: string, signal?: AbortSignal): ReturnType<NotaryV1MetadataSource['fetchRole']>;
}

/** One Notary v1 decision (every role fetch and check) ends by this deadline: a trust server that drips stops here. */
export const DEFAULT_NOTARY_DECISION_MS = 30_000;

export interface NotaryV1Deps {
  /** The metadata source of a configured trust server (token flow, CA and credentials are the source's). */
  readonly sourceFor: (server: TrustServer) => SignalledMetadataSource;
  /** Bound on one whole verification (default DEFAULT_NOTARY_DECISION_MS); past it every fetch fails (fetch_failed). */
  readonly decisionTimeoutMs?: number;
  /** One per process: versions seen per GUN, kept across policy reloads. */
  readonly state: NotaryV1VersionState;
  readonly clock?: () => Date;
}

/** Thrown at load for a requirement whose pins or roles the verifier refuses; the caller makes it a ConfigError. */
export class NotaryV1RequirementError extends Error {
  override readonly name = 'NotaryV1RequirementError';
  readonly requirement: NotaryV1Requirement;
  constructor(requirement: NotaryV1Requirement, message: string) {
    super(message);
    this.requirement = requirement;
  }
}

const pem = (k: PinnedKey) => k.key.export({ type: 'spki', format: 'pem' }).toString();

function selection(req: NotaryV1Requirement): RoleSelection {
  const roles = req.roles;
  if (roles.kind === 'signers') return { kind: 'signers', signers: roles.signers.map((s) => ({ role: s.role, publicKey: pem(s.publicKey) })) };
  return roles;
}

export function prepareRequirement(req: NotaryV1Requirement): PreparedNotaryV1Policy {
  try {
    return prepareNotaryV1Policy({
      trust: { publicKeys: req.rootKeys.map(pem), certificateRule: req.certificateRule },
      roles: selection(req),
      metadataLengths: req.metadataLengths,
    });
  } catch (err) {
    if (err instanceof NotaryV1Error) throw new NotaryV1RequirementError(req, err.message);
    throw err;
  }
}

/** Tags never contain `:`; digests always do (ImageTarget.reference is one or the other). */
const isDigestText = (reference: string) => reference.includes(':');

/**
 * Verified outcomes reused while every role they rest on may still be served from the trust-server client's cache
 * (its max-age, never past a role's expiry: CacheHints.validUntil): a new answer would come from the very same
 * bytes, so re-checking their signatures (~1 ms per decision, twice for a tag: resolve, then decide) buys
 * nothing. Only successes, and only when every role carried a max-age; a denial or a fetch failure is asked
 * again. Per policy generation (this object is rebuilt with the policy), bounded.
 */
const MEMO_ENTRIES = 4096;
/** However long the server's max-age: the trust server is asked again at least this often. */
const MEMO_MAX_MS = 300_000;

export class NotaryV1Requirements implements RequirementVerifier {
  readonly #prepared = new Map<Requirement, PreparedNotaryV1Policy>();
  readonly #deps: NotaryV1Deps;
  readonly #memo = new LRUCache<string, { readonly outcome: NotaryV1Outcome; readonly until: number }>({ max: MEMO_ENTRIES });

  /** Prepares every requirement now: throws NotaryV1RequirementError for the first one the verifier refuses. */
  constructor(requirements: readonly NotaryV1Requirement[], deps: NotaryV1Deps) {
    this.#deps = deps;
    for (const req of requirements) this.#prepared.set(req, prepareRequirement(req));
  }

  async resolveTag(req: Requirement, subject: TagSubject): Promise<TagReport> {
    const outcome = await this.#run(req, subject, { tag: subject.tag });
    return report(req, outcome);
  }

  async verify(req: Requirement, target: ImageTarget): Promise<RequirementReport> {
    // A by-tag decision: the tag must be signed as exactly this digest. By digest: some tag must list it (as
    // Connaisseur does for digest references).
    const reference: Reference = isDigestText(target.reference) ? { digest: target.digest.text } : { tag: target.reference, digest: target.digest.text };
    const outcome = await this.#run(req, target, reference);
    const r = report(req, outcome);
    if (outcome.ok && outcome.length !== target.size) {
      // The digest matched, so the bytes are the signed ones; a length that differs means the trust data is
      // inconsistent with itself. TUF's target check is hash AND length: deny.
      return failedReport(req, 'length_mismatch', `notary v1: the manifest is ${target.size} bytes, the trust data signs ${outcome.length}`);
    }
    return r;
  }

  prepare(): void {
    // Nothing digest-only to start: the trust data is fetched per GUN and cached by the source.
  }

  async #run(req: Requirement, subject: Pick<DecisionSubject, 'registry' | 'repository'>, reference: Reference): Promise<NotaryV1Outcome> {
    const policy = this.#prepared.get(req);
    if (req.verifier !== 'notaryv1' || policy === undefined) {
      return { ok: false, gun: '', code: 'metadata_invalid', message: `notary v1: requirement ${req.key} was not prepared` };
    }
    const gun = `${subject.registry}/${subject.repository}`;
    const now = this.#deps.clock?.() ?? new Date();
    const key = JSON.stringify([req.key, gun, reference.tag ?? null, reference.digest ?? null]);
    const memo = this.#memo.get(key);
    if (memo !== undefined && now.getTime() < memo.until) return memo.outcome;
    const inner = this.#deps.sourceFor(req.trustServer);
    const deadline = AbortSignal.timeout(this.#deps.decisionTimeoutMs ?? DEFAULT_NOTARY_DECISION_MS);
    const source: NotaryV1MetadataSource = {
      fetchRole: (g, name) => (deadline.aborted
        ? Promise.reject(new Error(`the decision's ${this.#deps.decisionTimeoutMs ?? DEFAULT_NOTARY_DECISION_MS} ms deadline passed`))
        : inner.fetchRole(g, name, deadline)),
    };
    const outcome = await verifyNotaryV1({ gun, reference, policy, source, now, state: this.#deps.state });
    if (outcome.ok && outcome.cache.roles.every((r) => r.maxAgeSeconds !== undefined)) this.#memo.set(key, { outcome, until: Math.min(outcome.cache.validUntil.getTime(), now.getTime() + MEMO_MAX_MS) });
    return outcome;
  }
}

function report(req: Requirement, o: NotaryV1Outcome): TagReport {
  const base = { name: req.name, key: req.key, verifier: req.verifier };
  if (!o.ok) return { ...base, status: 'failed', reason: o.code satisfies DecisionReason, message: o.message };
  return {
    ...base,
    status: 'passed',
    reason: 'verified',
    message: `notary v1: ${o.gun} signs ${o.digest} in ${o.decidedBy.map((r) => `${r.role} v${r.version}`).join(', ')}`,
    digest: o.digest,
    length: o.length,
    notaryv1: { gun: o.gun, roles: o.decidedBy, versions: o.versions },
  };
}
