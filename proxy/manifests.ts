/**
 * Manifest requests, HEAD and GET alike (containerd re-pulls cached content with only a HEAD, so a gate that
 * decides on GET alone is bypassed — DESIGN § What containerd really does). Decide (manifest-decider.ts), then
 * serve exactly the bytes that were decided on, or deny with `pullgate: <ref>: <reason>`; one log line and
 * one metric sample per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnforcementMode } from '../config/types.ts';
import { targetRef, type Decision } from '../policy/decision.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { OciError, sendOciError } from './oci-errors.ts';
import type { DistributionRequest } from './distribution-request.ts';
import type { FetchedManifest } from '../registry/manifest-fetch.ts';
import { decideManifest, type CacheResult } from './manifest-decider.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { UpstreamClient } from '../registry/client.ts';
import { DENIAL_NOTE_MEDIA_TYPE, type DenialNotes } from './denial-notes.ts';
import type { VerifiedStore } from './verified-store.ts';

export type ManifestRequest = Extract<DistributionRequest, { kind: 'manifest' }>;

/**
 * What one request works with: one policy generation. The engine and the verified store come as a pair (made
 * together by proxy/server.ts, replaced together on a reload), and a request reads this object once, when it
 * starts, so its lookups, its single flight and its writes all belong to the engine that decides for it.
 */
export interface ManifestDeps {
  readonly engine: PolicyEngine;
  readonly mode: EnforcementMode;
  readonly manifestMaxBytes: number;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** Shared by all generations: a note only ever denies, under a digest no image has (denial-notes.ts). */
  readonly notes: DenialNotes;
  readonly store: VerifiedStore;
}

export async function serveManifest(deps: ManifestDeps, request: ManifestRequest, client: UpstreamClient, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const registry = client.registry.host;
  const reference = request.reference.kind === 'tag' ? request.reference.tag : request.reference.digest.text;
  const ref = targetRef({ registry, repository: request.repository, reference });
  if (request.reference.kind === 'digest') {
    // The GET that follows a denied HEAD-by-tag: already decided and counted; now the reason can be shown.
    const note = deps.notes.lookup(request.reference.digest.text);
    if (note !== undefined) return sendOciError(res, request.method, new OciError('DENIED', note.message));
  }
  const outcome = await decideManifest({ engine: deps.engine, store: deps.store, manifestMaxBytes: deps.manifestMaxBytes, resolveRefusedTags: deps.mode === 'audit' }, client, request.repository, request.reference, req.headers.accept);
  if (outcome.kind === 'refused') {
    const d = outcome.decision;
    record(deps, { registry, ref, digest: undefined, decision: 'deny', reason: d.reason, message: d.message, started, method: request.method, cache: undefined, verifier: d.verifier, rule: d.rule?.key, requirements: d.requirements });
    return deny(deps, request, res, `pullgate: ${ref}: ${d.message}`);
  }
  if (outcome.kind === 'failed') {
    const notFound = outcome.reason === 'manifest_unknown';
    record(deps, { registry, ref, digest: undefined, decision: notFound ? 'not_found' : 'deny', reason: outcome.reason, message: outcome.message, started, method: request.method, cache: undefined });
    if (notFound) return sendOciError(res, request.method, new OciError('MANIFEST_UNKNOWN', `pullgate: ${ref}: ${outcome.message}`));
    return deny(deps, request, res, `pullgate: ${ref}: ${outcome.message}`);
  }
  const { manifest, decision, cache } = outcome;
  deps.metrics.decisionCache.inc({ result: cache });
  const audited = !decision.allow && deps.mode === 'audit';
  record(deps, {
    registry,
    ref,
    digest: manifest.digest.text,
    decision: decision.allow ? 'allow' : audited ? 'would_deny' : 'deny',
    reason: decision.reason,
    message: cache === 'stale' ? `${decision.message} (served stale: upstream unavailable)` : decision.message,
    started,
    method: request.method,
    statement: decision.statement,
    checks: decision.checks,
    cache,
    verifier: decision.verifier,
    rule: decision.rule?.key,
    requirements: decision.requirements,
  });
  if (!decision.allow && !audited) return deny(deps, request, res, `pullgate: ${ref}: ${decision.message}`);
  sendManifest(res, request.method, manifest);
}

function deny(deps: ManifestDeps, request: ManifestRequest, res: ServerResponse, message: string): void {
  denyManifest(deps.notes, request, res, message);
}

/**
 * 403 DENIED; a HEAD by tag gets a denial note instead, so the reason reaches the client (denial-notes.ts).
 * Also used for registries pullgate does not list (reached through `_default/hosts.toml`).
 */
export function denyManifest(notes: DenialNotes, request: ManifestRequest, res: ServerResponse, message: string): void {
  if (request.method === 'HEAD' && request.reference.kind === 'tag') {
    const note = notes.note(message);
    res.writeHead(200, {
      'content-type': DENIAL_NOTE_MEDIA_TYPE,
      'content-length': note.size,
      'docker-content-digest': note.digest,
      'docker-distribution-api-version': 'registry/2.0',
    });
    res.end();
    return;
  }
  sendOciError(res, request.method, new OciError('DENIED', message));
}

/** The verified bytes under the verified digest; HEAD gets the same headers (containerd needs the length). */
function sendManifest(res: ServerResponse, method: 'GET' | 'HEAD', manifest: FetchedManifest): void {
  res.writeHead(200, {
    'content-type': manifest.mediaType,
    'content-length': manifest.bytes.length,
    'docker-content-digest': manifest.digest.text,
    'docker-distribution-api-version': 'registry/2.0',
    etag: `"${manifest.digest.text}"`,
  });
  res.end(method === 'HEAD' ? undefined : manifest.bytes);
}

interface DecisionRecord {
  readonly registry: string;
  readonly ref: string;
  readonly digest: string | undefined;
  readonly decision: 'allow' | 'deny' | 'would_deny' | 'not_found';
  readonly reason: string;
  readonly message: string;
  readonly started: number;
  readonly method: string;
  readonly cache: CacheResult | undefined;
  readonly statement?: string | undefined;
  readonly checks?: Decision['checks'];
  readonly verifier?: string | undefined;
  readonly rule?: string | undefined;
  readonly requirements?: Decision['requirements'];
}

/**
 * One log line and one metric sample per decision (DESIGN § Observability). Fresh decisions and every denial
 * log at info/warn; allows answered from the verified store log at debug, to keep the warm path cheap.
 */
function record(deps: ManifestDeps, r: DecisionRecord): void {
  const seconds = (performance.now() - r.started) / 1000;
  deps.metrics.decisions.inc({ registry: r.registry, decision: r.decision, reason: r.reason, verifier: r.verifier ?? 'none' });
  deps.metrics.decisionSeconds.observe({ decision: r.decision }, seconds);
  const level = r.decision === 'allow' ? (r.cache === 'hit' || r.cache === 'closure' ? 'debug' : 'info') : 'warn';
  if (!deps.logger.isLevelEnabled(level)) return;
  deps.logger[level](
    {
      ref: r.ref,
      digest: r.digest,
      method: r.method,
      decision: r.decision,
      reason: r.reason,
      cache: r.cache,
      statement: r.statement,
      checks: r.checks,
      verifier: r.verifier,
      rule: r.rule,
      // Per requirement, what decided it: Notary v1 roles (with versions and signer key IDs), cosign keys or
      // keyless signers; the Notation signature outcomes are already in `checks`.
      requirements: r.requirements?.map((q) => ({
        name: q.name, key: q.key, verifier: q.verifier, status: q.status, reason: q.reason, message: q.message, digest: q.digest,
        ...(q.notaryv1 ? { roles: q.notaryv1.roles } : {}),
        ...(q.cosign?.verifiedBy ? { verifiedBy: q.cosign.verifiedBy } : {}),
      })),
      durationMs: Math.round(seconds * 1e6) / 1e3,
    },
    `${r.decision}: ${r.message}`,
  );
}
