/**
 * One AdmissionReview in, one answer out: parse (400 on anything malformed), evaluate the rules within the
 * configured bound, turn the outcome into a verdict (audit mode lets denials through as warnings), render it,
 * and leave one log line and one metric sample. Every failure past parsing is a denial with a reason — the
 * webhook never answers "allowed" because something broke (fail closed, like failurePolicy: Fail).
 */
import type { EnforcementMode } from '../config/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import { parseAdmissionReview, renderAdmissionResponse, ReviewError, type AdmissionRequest, type AdmissionVerdict } from './admission-review.ts';
import type { AdmissionOutcome, AdmissionRules } from './admission-rules.ts';
import type { AdmissionDecisionLabel, WebhookMetrics } from './metrics.ts';

export interface HandlerDeps {
  readonly rules: AdmissionRules;
  readonly mode: EnforcementMode;
  /** Bound on one decision; past it, the request is denied. */
  readonly timeoutMs: number;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

export interface HandlerAnswer {
  readonly status: 200 | 400;
  readonly contentType: 'application/json' | 'text/plain; charset=utf-8';
  readonly body: string;
}

export type Endpoint = 'validate' | 'mutate';

const TIMED_OUT = Symbol('timed out');

export class AdmissionHandler {
  readonly #deps: HandlerDeps;

  constructor(deps: HandlerDeps) {
    this.#deps = deps;
  }

  /** `pin`: answer as the mutating endpoint with pinning on. */
  async handle(body: string, endpoint: Endpoint, pin: boolean): Promise<HandlerAnswer> {
    const started = performance.now();
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(body);
    } catch (err) {
      if (!(err instanceof ReviewError)) throw err;
      this.#deps.metrics.record('error', 'bad_request', seconds(started));
      this.#deps.logger.warn({ endpoint, code: err.code }, `bad AdmissionReview: ${err.message}`);
      return { status: 400, contentType: 'text/plain; charset=utf-8', body: `${err.message}\n` };
    }
    const outcome = await this.#evaluate(request, pin);
    const [verdict, decision] = this.#verdict(outcome);
    const elapsed = seconds(started);
    this.#deps.metrics.record(decision, outcome.reason, elapsed);
    this.#log(request, endpoint, outcome, decision, elapsed);
    return { status: 200, contentType: 'application/json', body: renderAdmissionResponse(request, verdict) };
  }

  async #evaluate(request: AdmissionRequest, pin: boolean): Promise<AdmissionOutcome> {
    const { timeoutMs } = this.#deps;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
    });
    try {
      const result = await Promise.race([this.#deps.rules.evaluate(request, pin), deadline]);
      if (result !== TIMED_OUT) return result;
      return deny('timeout', `the admission decision did not finish within ${timeoutMs} ms; denied (fail closed)`);
    } catch (err) {
      this.#deps.logger.error({ err, uid: request.uid }, 'admission evaluation failed');
      return deny('internal_error', `internal error while deciding (${(err as Error).message}); denied (fail closed)`);
    } finally {
      clearTimeout(timer);
    }
  }

  #verdict(outcome: AdmissionOutcome): [AdmissionVerdict, AdmissionDecisionLabel] {
    const notes = (outcome.warnings ?? []).map((w) => `pullgate: ${w}`);
    if (outcome.allowed) {
      return [{ allowed: true, message: undefined, patch: outcome.patch, warnings: notes }, outcome.patch.length > 0 ? 'patch' : 'allow'];
    }
    if (this.#deps.mode === 'audit') {
      // Audit: the pins that did resolve are still applied; kubectl prints each warning as "Warning: …".
      const warnings = [...outcome.violations.map((v) => `pullgate (audit mode, would deny): ${v.message}`), ...notes];
      return [{ allowed: true, message: undefined, patch: outcome.patch, warnings }, 'would_deny'];
    }
    const message = `pullgate: ${outcome.violations.map((v) => v.message).join('; ')}`;
    return [{ allowed: false, message, patch: [], warnings: notes }, 'deny'];
  }

  #log(request: AdmissionRequest, endpoint: Endpoint, outcome: AdmissionOutcome, decision: AdmissionDecisionLabel, elapsed: number): void {
    const inspected = outcome.reason !== 'not_inspected';
    const level = decision === 'deny' || decision === 'would_deny' ? 'warn' : inspected ? 'info' : 'debug';
    if (!this.#deps.logger.isLevelEnabled(level)) return;
    this.#deps.logger[level](
      {
        uid: request.uid,
        endpoint,
        operation: request.operation,
        kind: request.kind.kind,
        subResource: request.subResource || undefined,
        namespace: request.namespace,
        name: request.name || undefined,
        dryRun: request.dryRun || undefined,
        decision,
        reason: outcome.reason,
        violations: outcome.violations.length > 0 ? outcome.violations.map((v) => v.message) : undefined,
        patched: outcome.patch.length > 0 ? outcome.patch.map((p) => p.value) : undefined,
        durationMs: Math.round(elapsed * 1e6) / 1e3,
      },
      `admission ${decision}: ${outcome.reason}`,
    );
  }
}

function deny(reason: AdmissionOutcome['reason'], message: string): AdmissionOutcome {
  return { allowed: false, reason, violations: [{ reason, message }], patch: [] };
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}
