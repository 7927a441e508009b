/**
 * What the policy layer needs from a registry, as an interface the proxy layer implements on its upstream
 * client (imports go proxy → policy, never back). Every method is bounded by the caller's limits, checks
 * content digests before returning bytes, and throws FetchError for anything that is not a clean answer — a
 * fetch problem is never mistaken for "no signatures".
 */

import { CodedError } from '../../errors/coded-error.ts';

export type FetchErrorCode =
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_DENIED'
  | 'RATE_LIMITED'
  | 'TOO_LARGE'
  | 'DIGEST_MISMATCH'
  | 'INVALID_RESPONSE'
  // The decision's own bounds (oci/discovery/decision-budget.ts), not the registry's fault:
  | 'BUDGET_EXCEEDED' // the decision would make more upstream requests or read more bytes than it may
  | 'BUSY' // the bytes all decisions together may hold are taken (upstream.coldDecisionMaxBytes)
  | 'ABORTED'; // the decision ended (timed out) while this fetch was under way

export class FetchError extends CodedError<FetchErrorCode> {
  override readonly name = 'FetchError';
}

export type ReferrersPage =
  /** The registry implements the referrers API: an image index (one page of it). */
  | { readonly supported: true; readonly bytes: Buffer; readonly next: string | undefined }
  /** No referrers API (distribution 2.8 answers a plain-text 404): use the `sha256-<hex>` tag schema. */
  | { readonly supported: false };

export type ManifestLookup = { readonly found: true; readonly bytes: Buffer; readonly mediaType: string } | { readonly found: false };

/** What one decision may spend upstream (config `upstream.decisionMaxRequests`, `upstream.decisionMaxBytes`). */
export interface DecisionBudgetLimits {
  /** Upstream requests (referrers pages, manifests, blobs) one decision may make. */
  readonly maxRequests: number;
  /** Response bytes one decision may read (signature manifests, indexes and envelopes together). */
  readonly maxBytes: number;
}

/**
 * Every method takes an optional `signal`: when it aborts, the request (and the reading of its body) stops and
 * the call rejects, so a decision that timed out stops its downloads instead of finishing them unseen.
 */
export interface ArtifactFetcher {
  /**
   * `GET /v2/<repository>/referrers/<subject>?artifactType=<artifactType>` (distribution-spec § "Listing
   * Referrers"), or the page `next` named by a previous page's `Link` header when given.
   */
  referrers(repository: string, subject: string, artifactType: string, next?: string, signal?: AbortSignal): Promise<ReferrersPage>;
  /** A manifest or index by tag or digest; by digest, the bytes are checked against it. */
  manifest(repository: string, reference: string, accept: readonly string[], maxBytes: number, signal?: AbortSignal): Promise<ManifestLookup>;
  /** A blob by digest, at most `maxBytes`, checked against the digest. */
  blob(repository: string, digest: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer>;
  /** The per-decision budget configured for this registry; absent: the verifier's defaults. */
  readonly decisionLimits?: DecisionBudgetLimits;
}

/** Fetches certificate revocation lists over HTTP for the revocation check (cached, bounded, http/https only). */
export interface CrlSource {
  /**
   * `refresh`: the verifier found the CRL it got stale (past nextUpdate) and asks for a new download, bypassing a
   * cache (trust-store-trust-policy.md § "Revocation Checking with CRL": "a new CRL is retrieved"). Optional to
   * honour; a source that ignores it just yields the stale CRL again, which stays "revocation unavailable".
   */
  fetchCrl(url: string, options?: { readonly refresh?: boolean }): Promise<{ readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string }>;
}

/**
 * Sends OCSP requests for the revocation check (RFC 6960 § 4.1, Appendix A.1: HTTP POST of the DER request as
 * `application/ocsp-request`), bounded in size and time, http/https only. The answer is the raw OCSPResponse; its
 * verification is the caller's. `refresh`: the verifier found the answer it got stale and asks again, bypassing
 * a cache (optional to honour, as for CRLs).
 */
export interface OcspSource {
  fetchOcsp(url: string, request: Uint8Array, options?: { readonly refresh?: boolean }): Promise<{ readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string }>;
}
