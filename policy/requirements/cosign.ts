/**
 * A `verifier: cosign` requirement (issue 14) over verifiers/cosign: the digest being pulled must carry cosign
 * signatures (tag layout `sha256-<hex>.sig` and/or Sigstore bundle referrers) by the requirement's keys, or by one
 * of its keyless identities under its trusted root. cosign signs digests, so there is no tag resolution here: the
 * registry names the digest and the signature must cover exactly it (the payload digest / DSSE subject check).
 *
 * Registry access is the gate's own (the ArtifactFetcher the Notation side uses), wrapped in a DecisionBudget and a
 * cold-decision slot exactly as Notation's verifications are, so a hostile registry cannot make a cosign decision
 * cost more than a Notation one. Nothing else is contacted: the Rekor SET / inclusion proof, the SCTs and the
 * Fulcio chain are checked offline against the trusted root.
 *
 * Fails closed: every outcome of the verifier maps to a failed report with a closed DecisionReason; a throw is
 * caught by the engine (image-decision.ts #guard) and fails the requirement.
 */
import { createPublicKey } from 'node:crypto';
import type { DecisionReason, DecisionSubject, ImageTarget, RequirementReport } from '../decision.ts';
import type { CosignRequirement, Requirement } from '../image-policy/types.ts';
import { ColdDecisions } from '../../oci/discovery/cold-decisions.ts';
import { DecisionBudget, DEFAULT_DECISION_BUDGET } from '../../oci/discovery/decision-budget.ts';
import type { ArtifactFetcher, FetchErrorCode } from '../../oci/discovery/fetcher.ts';
import { PreparedLookups } from '../../oci/discovery/prepared-lookups.ts';
import {
  type CosignReasonCode, type CosignRequest, type GatheredSignatures, type KeylessRule, type PreparedCosignPolicy,
  CosignError, gatherSignatures, prepareCosignPolicy, prepareTrustedRoot, verifyCosign, verifyCosignKeyless,
} from '../../verifiers/cosign/index.ts';
import { failedReport, type RequirementVerifier } from './requirement-verifier.ts';

export interface CosignDeps {
  /** Registry access by host (the mirror's upstream client); undefined when pullgate does not mirror it. */
  readonly fetcherFor: (registry: string) => ArtifactFetcher | undefined;
  /** The process-wide cold-decision cap shared with Notation; absent: one of its own. */
  readonly coldDecisions?: ColdDecisions;
  /** Deadline of one cosign decision's registry work (default 30 s, as Notation's). */
  readonly timeoutMs?: number;
}

/** Thrown at load for a requirement the verifier refuses; load-state.ts makes it a ConfigError with its key. */
export class CosignRequirementError extends Error {
  override readonly name = 'CosignRequirementError';
  readonly requirement: CosignRequirement;
  constructor(requirement: CosignRequirement, message: string) {
    super(message);
    this.requirement = requirement;
  }
}

type Prepared = { readonly kind: 'keys'; readonly policy: PreparedCosignPolicy } | { readonly kind: 'keyless'; readonly rule: KeylessRule };

/** The trusted root's Rekor keys as PEM, for the key-based SET check (rekor-set.ts takes PEM). */
function tlogPems(json: unknown): string[] {
  const tlogs = (json as { tlogs?: { publicKey?: { rawBytes?: string } }[] }).tlogs ?? [];
  return tlogs.flatMap((l) => (typeof l?.publicKey?.rawBytes === 'string'
    ? [createPublicKey({ key: Buffer.from(l.publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString()]
    : []));
}

export function prepareCosignRequirement(req: CosignRequirement): Prepared {
  try {
    if (req.mode.kind === 'keys') {
      return {
        kind: 'keys',
        policy: prepareCosignPolicy({
          keys: req.mode.keys.map((k) => ({ name: k.name, pem: k.pem })),
          threshold: req.mode.threshold,
          required: req.mode.required,
          referenceMatch: req.dockerReference,
          annotations: req.annotations,
          rekor: { required: req.rekor === 'required', publicKeys: tlogPems(req.trustedRoot.json) },
          layouts: req.layouts,
        }),
      };
    }
    return {
      kind: 'keyless',
      rule: {
        trust: prepareTrustedRoot(req.trustedRoot.json),
        identities: req.mode.identities.map((i) => ({ ...(i.name === undefined ? {} : { name: i.name }), subject: i.subject, issuer: i.issuer, claims: { ...i.github, ...i.claims } })),
        referenceMatch: req.dockerReference,
        annotations: req.annotations,
      },
    };
  } catch (err) {
    if (err instanceof CosignError || err instanceof Error) throw new CosignRequirementError(req, err.message);
    throw err;
  }
}

export class CosignRequirements implements RequirementVerifier {
  readonly #prepared = new Map<Requirement, Prepared>();
  readonly #deps: CosignDeps;
  readonly #cold: ColdDecisions;
  /** Lookups started by prepare() for the verify() that follows; this adapter lives for one policy generation. */
  readonly #early = new PreparedLookups<GatheredSignatures, DecisionBudget>();

  /** Prepares every requirement now: throws CosignRequirementError for the first one the verifier refuses. */
  constructor(requirements: readonly CosignRequirement[], deps: CosignDeps) {
    this.#deps = deps;
    this.#cold = deps.coldDecisions ?? new ColdDecisions();
    for (const req of requirements) this.#prepared.set(req, prepareCosignRequirement(req));
  }

  /**
   * Starts the digest's `.sig` tag and referrers lookups while the gate still fetches the manifest (engine
   * prepare): verify() takes them over with their budget. Only while there is room under the cold-decision cap,
   * counting lookups already started early, so early starts add no upstream work past it. Never decides, never throws.
   */
  prepare(req: Requirement, subject: DecisionSubject): void {
    try {
      if (req.verifier !== 'cosign' || !this.#prepared.has(req)) return;
      if (this.#cold.active + this.#early.size >= this.#cold.limits.concurrent) return;
      const fetcher = this.#deps.fetcherFor(subject.registry);
      if (fetcher === undefined) return;
      this.#early.start(earlyKey(req, subject), () => {
        const budget = this.#newBudget(fetcher);
        return { budget, lookup: gatherSignatures(budget, { repository: subject.repository, digest: subject.digest.text, signal: budget.signal }, req.layouts) };
      });
    } catch {
      // An optimisation only: verify() looks up on its own.
    }
  }

  #newBudget(fetcher: ArtifactFetcher): DecisionBudget {
    return new DecisionBudget(fetcher, fetcher.decisionLimits ?? DEFAULT_DECISION_BUDGET, this.#deps.timeoutMs ?? 30_000, this.#cold);
  }

  async verify(req: Requirement, target: ImageTarget): Promise<RequirementReport> {
    const prepared = this.#prepared.get(req);
    if (req.verifier !== 'cosign' || prepared === undefined) return failedReport(req, 'verification_error', `cosign: requirement ${req.key} was not prepared`);
    const fetcher = this.#deps.fetcherFor(target.registry);
    if (fetcher === undefined) return failedReport(req, 'upstream_unavailable', `cosign: registry ${target.registry} is not configured`);
    const early = this.#early.claim(earlyKey(req, target));
    if (!this.#cold.tryAcquire() && !(await this.#cold.wait())) {
      early?.budget.end();
      const { concurrent, waitMs } = this.#cold.limits;
      return failedReport(req, 'gate_busy', `too many images are being verified at once (${concurrent}); no room within ${waitMs} ms, try again`);
    }
    const timeoutMs = this.#deps.timeoutMs ?? 30_000;
    // A lookup started early brings its budget: the same limits and the same deadline, counted from when it began.
    const budget = early?.budget ?? this.#newBudget(fetcher);
    budget.keepAlive();
    // cosign's docker-reference is `registry/repository[:tag]`; a by-digest pull has no tag to match.
    const name = `${target.registry}/${target.repository}`;
    const request: CosignRequest = { repository: target.repository, digest: target.digest.text, reference: target.reference.includes(':') ? name : `${name}:${target.reference}`, signal: budget.signal };
    const timedOut = budget.expired.then(() => failedReport(req, 'verification_timeout', `cosign: verification did not finish within ${timeoutMs} ms`));
    try {
      const run = prepared.kind === 'keys'
        ? verifyCosign(budget, request, prepared.policy, early?.lookup).then((o) => (o.ok ? keyReport(req, prepared, o.verifiedBy) : failed(req, o)))
        : verifyCosignKeyless(budget, request, prepared.rule, req.layouts, early?.lookup).then((o) => (o.ok ? keylessReport(req, o.verifiedBy) : failed(req, o)));
      return await Promise.race([run, timedOut]);
    } finally {
      budget.end();
      this.#cold.release();
    }
  }
}

/** One early lookup per requirement (its config key) and digest: each requirement's verify() takes its own. */
const earlyKey = (req: Requirement, s: DecisionSubject) => `${req.key}\n${s.registry}/${s.repository}@${s.digest.text}`;

function block(req: CosignRequirement, verifiedBy?: NonNullable<RequirementReport['cosign']>['verifiedBy']): NonNullable<RequirementReport['cosign']> {
  return { mode: req.mode.kind, trustedRoot: req.trustedRoot.source, layouts: req.layouts, ...(verifiedBy === undefined ? {} : { verifiedBy }) };
}

const isoTime = (seconds: number | undefined) => (seconds === undefined ? {} : { integratedTime: new Date(seconds * 1000).toISOString() });

function keyReport(req: Requirement, _p: Prepared, by: readonly { name: string; fingerprint: string; integratedTime?: number }[]): RequirementReport {
  const r = req as CosignRequirement;
  return {
    name: req.name, key: req.key, verifier: req.verifier, status: 'passed', reason: 'verified',
    message: `cosign: signed by ${by.map((k) => `key ${k.name} (${k.fingerprint.slice(0, 19)}…)`).join(', ')}`,
    cosign: block(r, by.map((k) => ({ name: k.name, fingerprint: k.fingerprint, ...isoTime(k.integratedTime) }))),
  };
}

function keylessReport(req: Requirement, by: readonly { name: string; signer: string; integratedTime?: number }[]): RequirementReport {
  const r = req as CosignRequirement;
  return {
    name: req.name, key: req.key, verifier: req.verifier, status: 'passed', reason: 'verified',
    message: `cosign: signed by ${by.map((s) => s.signer).join(', ')}`,
    cosign: block(r, by.map((s) => ({ name: s.name, signer: s.signer, ...isoTime(s.integratedTime) }))),
  };
}

function failed(req: Requirement, o: { code: CosignReasonCode; message: string; fetchCode?: FetchErrorCode }): RequirementReport {
  return { ...failedReport(req, reasonOf(o.code, o.fetchCode), o.message), cosign: block(req as CosignRequirement) };
}

/** The verifier's closed codes onto the decision's; the decision's own bounds keep their shared names. */
export function reasonOf(code: CosignReasonCode, fetchCode?: FetchErrorCode): DecisionReason {
  if (code === 'fetch_failed') {
    if (fetchCode === 'BUDGET_EXCEEDED') return 'budget_exceeded';
    if (fetchCode === 'BUSY') return 'gate_busy';
    if (fetchCode === 'ABORTED') return 'verification_timeout';
    return 'fetch_failed';
  }
  if (code === 'internal_error') return 'verification_error';
  return code satisfies DecisionReason;
}
