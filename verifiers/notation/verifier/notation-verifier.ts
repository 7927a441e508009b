/**
 * NotationVerifier: the PolicyEngine's SignatureVerifier for non-skip statements. signing-and-verification-
 * workflow.md § "OCI artifact verification workflow": discover the target's signatures (oci/discovery), then
 * for each — at most `maxSignatures`, in the registry's order — fetch and check its manifest and envelope and run
 * the checks (verify-signature.ts) under the statement's levels; the first one that verifies allows. Fail closed
 * everywhere: a fetch problem, a timeout or an unexpected error is a deny with its reason, never an allow and
 * never "no signature".
 *
 * What one decision may cost is bounded (README § Security-relevant limits): it waits for one of the process's
 * cold-decision slots (cold-decisions.ts), and every registry call goes through its own DecisionBudget — a
 * request and byte budget, each digest fetched once, one AbortSignal that the deadline fires, so a decision
 * that timed out stops downloading instead of running on behind its answer.
 */
import type { Decision, DecisionReason, DecisionSubject, ImageTarget, SignatureOutcome, SignatureVerifier } from '../../../policy/decision.ts';
import { DEFAULT_DECISION_BUDGET, DecisionBudget } from '../../../oci/discovery/decision-budget.ts';
import { DEFAULT_DISCOVERY_LIMITS, ReferrersSupport, discoverSignatures, type Discovery, type DiscoveryLimits } from '../discovery/discover.ts';
import type { ArtifactFetcher, CrlSource, DecisionBudgetLimits, FetchErrorCode, OcspSource } from '../../../oci/discovery/fetcher.ts';
import { fetchSignature, type SignatureFetchFailure } from '../discovery/signature-manifest.ts';
import type { TrustPolicyStatement } from '../trust/trust-policy.ts';
import type { TrustPolicyDocument } from '../trust/trust-policy.ts';
import type { TrustStore } from '../trust/trust-store.ts';
import { CertificateCache } from './certificate-cache.ts';
import { ColdDecisions } from '../../../oci/discovery/cold-decisions.ts';
import { CrlRevocationChecker } from './crl-revocation.ts';
import { PreparedDiscoveries } from './prepared-discoveries.ts';
import type { RevocationChecker } from './revocation-checker.ts';
import { reasonForFetch, verdict } from './verdict.ts';
import { verifySignature, type PipelineOutcome, type VerificationContext } from './verify-signature.ts';

export interface NotationVerifierOptions {
  readonly policy: TrustPolicyDocument;
  readonly trustStore: TrustStore;
  /** The registry access for a target (its registry's upstream client); undefined: not configured → deny. */
  readonly fetcherFor: (target: Pick<ImageTarget, 'registry'>) => ArtifactFetcher | undefined;
  /** Where CRLs come from for the default CRL revocation checkers. Without one, any CRL lookup is "unavailable". */
  readonly crlSource?: CrlSource;
  /** Where OCSP answers come from; with one, OCSP is asked first and CRLs are the fallback. Without, CRL only. */
  readonly ocspSource?: OcspSource;
  /** Replace the CRL checkers, per chain purpose. */
  readonly revocation?: { readonly codeSigning?: RevocationChecker; readonly timestamping?: RevocationChecker };
  /** The verification clock (default: the system clock). Read once per decision. */
  readonly clock?: () => Date;
  readonly limits?: Partial<DiscoveryLimits>;
  /** Bound on one whole decision: discovery, fetches and checks (default 30 s). */
  readonly timeoutMs?: number;
  readonly certificates?: CertificateCache;
  /** Upstream budget per decision when the registry's fetcher names none (ArtifactFetcher.decisionLimits). */
  readonly budget?: DecisionBudgetLimits;
  /** The process-wide cap on cold decisions; without one, this verifier gets its own with the defaults. */
  readonly coldDecisions?: ColdDecisions;
}

const NO_CRL_SOURCE: CrlSource = { fetchCrl: () => Promise.resolve({ ok: false, reason: 'no CRL source is configured' }) };

function deny(reason: DecisionReason, message: string, statement: string | undefined, signatures?: readonly SignatureOutcome[]): Decision {
  return { allow: false, reason, message, statement, checks: [], ...(signatures ? { signatures } : {}) };
}

/** The decision's own bounds have their own reasons; everything else is the registry's (verdict.ts). */
function reasonFor(code: FetchErrorCode): DecisionReason {
  if (code === 'BUDGET_EXCEEDED') return 'budget_exceeded';
  if (code === 'BUSY') return 'gate_busy';
  if (code === 'ABORTED') return 'verification_timeout';
  return reasonForFetch(code);
}

/** A signature whose manifest or envelope could not be had, as an outcome (checks it never reached are absent). */
function unfetched(f: SignatureFetchFailure): SignatureOutcome {
  if (f.kind === 'fetch') return { manifest: f.manifest, envelopeMediaType: undefined, signer: undefined, verified: false, checks: [], reason: reasonFor(f.code), message: `fetching signature ${f.manifest} failed: ${f.message}` };
  const reason: DecisionReason = f.kind === 'limit' ? 'limit_exceeded' : 'signature_invalid';
  const message = f.kind === 'limit' ? f.message : `signature verification failed: ${f.message}`;
  return { manifest: f.manifest, envelopeMediaType: f.envelopeMediaType, signer: undefined, verified: false, checks: [{ check: 'integrity', action: 'enforce', result: 'failed', message: f.message }], reason, message };
}

export class NotationVerifier implements SignatureVerifier {
  readonly #policy: TrustPolicyDocument;
  readonly #trustStore: TrustStore;
  readonly #fetcherFor: (target: Pick<ImageTarget, 'registry'>) => ArtifactFetcher | undefined;
  readonly #revocation: VerificationContext['revocation'];
  readonly #clock: () => Date;
  readonly #limits: DiscoveryLimits;
  readonly #timeoutMs: number;
  readonly #certificates: CertificateCache;
  readonly #budget: DecisionBudgetLimits;
  readonly #cold: ColdDecisions;
  readonly #referrers = new ReferrersSupport();
  readonly #prepared = new PreparedDiscoveries();

  constructor(options: NotationVerifierOptions) {
    this.#policy = options.policy;
    this.#trustStore = options.trustStore;
    this.#fetcherFor = options.fetcherFor;
    const crl = new CrlRevocationChecker(options.crlSource ?? NO_CRL_SOURCE, options.ocspSource ? { ocspSource: options.ocspSource } : {});
    this.#revocation = { codeSigning: options.revocation?.codeSigning ?? crl, timestamping: options.revocation?.timestamping ?? crl };
    this.#clock = options.clock ?? (() => new Date());
    this.#limits = { ...DEFAULT_DISCOVERY_LIMITS, ...options.limits };
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#certificates = options.certificates ?? new CertificateCache();
    this.#budget = options.budget ?? DEFAULT_DECISION_BUDGET;
    this.#cold = options.coldDecisions ?? new ColdDecisions();
  }

  /** Starts discovering the subject's signatures for a verify() that is about to follow (engine.ts). */
  prepare(subject: DecisionSubject, statementName: string): void {
    try {
      // Only while there is room, counting discoveries already started early: a gate at its cold-decision cap
      // lets each verification discover in its own turn, so early starts cannot add upstream work past the cap
      // (a flood of requests for digests whose manifests never come would otherwise start one each).
      if (this.#cold.active + this.#prepared.size >= this.#cold.limits.concurrent) return;
      const fetcher = this.#fetcherFor(subject);
      if (fetcher === undefined) return;
      this.#prepared.start(subject, statementName, () => {
        const budget = this.#newBudget(fetcher);
        return { discovery: discoverSignatures(budget, subject, this.#limits, this.#referrers), budget };
      });
    } catch {
      // Preparing is an optimisation: whatever goes wrong here, verify() discovers on its own.
    }
  }

  async verify(target: ImageTarget, statementName: string): Promise<Decision> {
    const statement = this.#policy.statements.find((s) => s.name === statementName);
    if (statement === undefined) return deny('no_policy_statement', `trust policy statement "${statementName}" does not exist`, undefined);
    if (statement.signatureVerification.level === 'skip') {
      return { allow: true, reason: 'skip', message: `trust policy "${statement.name}" skips verification`, statement: statement.name, checks: [] };
    }
    const fetcher = this.#fetcherFor(target);
    if (fetcher === undefined) return deny('upstream_unavailable', `registry ${target.registry} is not configured`, statement.name);

    const prepared = this.#prepared.claim<DecisionBudget>(target, statement.name);
    if (!this.#cold.tryAcquire() && !(await this.#cold.wait())) {
      prepared?.budget?.end();
      const { concurrent, waitMs } = this.#cold.limits;
      return deny('gate_busy', `too many images are being verified at once (${concurrent}); no room within ${waitMs} ms, try again`, statement.name);
    }
    const budget = prepared?.budget ?? this.#newBudget(fetcher);
    budget.keepAlive();
    const discovery = prepared?.discovery ?? discoverSignatures(budget, target, this.#limits, this.#referrers);
    try {
      // The deadline aborts every fetch of the budget; the race answers at once rather than when the last
      // aborted call has unwound.
      return await Promise.race([this.#verify(target, statement, budget, discovery), budget.expired.then(() => this.#timedOut(statement.name))]);
    } catch (err) {
      return deny('verification_error', `internal error during verification: ${err instanceof Error ? err.message : String(err)}`, statementName);
    } finally {
      budget.end();
      this.#cold.release();
    }
  }

  #newBudget(fetcher: ArtifactFetcher): DecisionBudget {
    return new DecisionBudget(fetcher, fetcher.decisionLimits ?? this.#budget, this.#timeoutMs, this.#cold);
  }

  #timedOut(statement: string): Decision {
    return deny('verification_timeout', `verification did not finish within ${this.#timeoutMs} ms`, statement);
  }

  async #verify(target: ImageTarget, statement: TrustPolicyStatement, budget: DecisionBudget, discovery: Promise<Discovery>): Promise<Decision> {
    const found = await discovery;
    if (!found.ok) return deny(reasonFor(found.code), `signature lookup failed: ${found.message}`, statement.name);

    const ctx: VerificationContext = { target, statement, trustStore: this.#trustStore, certificates: this.#certificates, now: this.#clock(), revocation: this.#revocation };
    const outcomes: (PipelineOutcome | SignatureOutcome)[] = [];
    for (const desc of found.signatures) {
      const sig = await fetchSignature(budget, target, desc, this.#limits);
      if (!sig.ok && sig.kind === 'fetch' && (sig.code === 'BUDGET_EXCEEDED' || sig.code === 'BUSY' || sig.code === 'ABORTED')) {
        // The decision's own bound, not this signature's fault: stop here (the signatures not tried might have
        // verified, so this is never "no signature" or "invalid").
        outcomes.push(unfetched(sig));
        const tried = verdict({ statement: statement.name, outcomes, truncated: false, maxSignatures: this.#limits.maxSignatures });
        return { ...tried, reason: reasonFor(sig.code), message: `stopped after ${outcomes.length} of ${found.signatures.length} signatures: ${sig.message}` };
      }
      const outcome = sig.ok ? await verifySignature(sig, ctx) : unfetched(sig);
      outcomes.push(outcome);
      if (outcome.verified) break;
    }
    return verdict({ statement: statement.name, outcomes, truncated: found.truncated, maxSignatures: this.#limits.maxSignatures });
  }
}
