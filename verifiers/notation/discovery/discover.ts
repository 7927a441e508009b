/**
 * Signature discovery, signing-and-verification-workflow.md § "OCI artifact verification workflow" step 2: list
 * the target's referrers with `artifactType=application/vnd.cncf.notary.signature` through the Referrers API,
 * or — when the registry has none (distribution 2.8 answers 404) — read the referrers tag schema index
 * `sha256-<hex>` (distribution-spec § "Referrers Tag Schema"), as notation (oras-go) does. Filtering happens
 * client side in both cases. Bounded: pages, descriptors, and the number of signatures handed on (notation-go
 * `maxSignatureAttempts` = 50). Any fetch problem is a typed failure, never "no signature".
 */
import type { ImageTarget } from '../../../policy/decision.ts';
import { DecisionBudget } from '../../../oci/discovery/decision-budget.ts';
import { FetchError, type ArtifactFetcher, type FetchErrorCode } from '../../../oci/discovery/fetcher.ts';
import { OCI_INDEX, SIGNATURE_ARTIFACT_TYPE, parseReferrersIndex, referrersTag, type SignatureDescriptor } from '../../../oci/discovery/referrers-index.ts';

export interface DiscoveryLimits {
  /** Signatures tried per artifact (notation-go verifier `MaxSignatureAttempts` default). */
  readonly maxSignatures: number;
  /** Referrers API pages followed through `Link: rel="next"`. */
  readonly maxPages: number;
  /** A referrers index page, a tag-schema index or a signature manifest. */
  readonly maxManifestBytes: number;
  /** One signature envelope blob (notation-go `maxBlobSizeLimit`). */
  readonly maxEnvelopeBytes: number;
}

export const DEFAULT_DISCOVERY_LIMITS: DiscoveryLimits = Object.freeze({
  maxSignatures: 50,
  maxPages: 10,
  maxManifestBytes: 4 * 1024 * 1024,
  maxEnvelopeBytes: 32 * 1024 * 1024,
});

export type DiscoverySource = 'referrers-api' | 'referrers-tag';

export type Discovery =
  | {
      readonly ok: true;
      readonly source: DiscoverySource;
      /** Signature manifest descriptors in the order the registry listed them, duplicates removed, at most maxSignatures. */
      readonly signatures: readonly SignatureDescriptor[];
      /** More signatures (or pages) exist than the limits let through. */
      readonly truncated: boolean;
    }
  | { readonly ok: false; readonly code: FetchErrorCode; readonly message: string };

export function fetchFailure(err: unknown): { readonly ok: false; readonly code: FetchErrorCode; readonly message: string } {
  if (err instanceof FetchError) return { ok: false, code: err.code, message: err.message };
  return { ok: false, code: 'INVALID_RESPONSE', message: `signature discovery failed (${err instanceof Error ? err.message : String(err)})` };
}

class Collector {
  readonly #seen = new Set<string>();
  readonly #limit: number;
  readonly signatures: SignatureDescriptor[] = [];
  truncated = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  add(list: readonly SignatureDescriptor[]): void {
    for (const d of list) {
      if (this.#seen.has(d.digest)) continue;
      this.#seen.add(d.digest);
      if (this.signatures.length >= this.#limit) {
        this.truncated = true;
        return;
      }
      this.signatures.push(d);
    }
  }

  get full(): boolean {
    return this.truncated;
  }
}

/**
 * Remembers, per registry (ArtifactFetcher), that it answered the Referrers API with "not supported", so the next
 * discoveries go straight to the tag schema for a while (oras-go's referrers capability, with an expiry so an
 * upgraded registry is noticed). It saves one round trip per decision against registries such as distribution
 * 2.8. Only "unsupported" is remembered; a mistake can only cost a "no signature" deny, never an allow.
 */
export class ReferrersSupport {
  readonly #unsupportedUntil = new WeakMap<ArtifactFetcher, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs = 60_000, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  knownUnsupported(fetcher: ArtifactFetcher): boolean {
    const until = this.#unsupportedUntil.get(registryOf(fetcher));
    return until !== undefined && this.#now() < until;
  }

  markUnsupported(fetcher: ArtifactFetcher): void {
    this.#unsupportedUntil.set(registryOf(fetcher), this.#now() + this.#ttlMs);
  }
}

/** A decision's budget is a new fetcher each time; what a registry supports belongs to the registry's fetcher. */
function registryOf(fetcher: ArtifactFetcher): ArtifactFetcher {
  return fetcher instanceof DecisionBudget ? fetcher.inner : fetcher;
}

/** Lists the Notary Project signature manifests of `target` (see file comment). Never throws. */
export async function discoverSignatures(fetcher: ArtifactFetcher, target: Pick<ImageTarget, 'repository' | 'digest'>, limits: DiscoveryLimits = DEFAULT_DISCOVERY_LIMITS, support?: ReferrersSupport): Promise<Discovery> {
  const repository = target.repository;
  const subject = target.digest.text;
  const found = new Collector(limits.maxSignatures);
  try {
    const skipApi = support?.knownUnsupported(fetcher) === true;
    let page = skipApi ? ({ supported: false } as const) : await fetcher.referrers(repository, subject, SIGNATURE_ARTIFACT_TYPE);
    if (!page.supported && !skipApi) support?.markUnsupported(fetcher);
    if (page.supported) {
      for (let pages = 1; ; pages++) {
        if (page.bytes.byteLength > limits.maxManifestBytes) throw new FetchError('TOO_LARGE', `referrers page exceeds ${limits.maxManifestBytes} bytes`);
        const parsed = parseReferrersIndex(page.bytes);
        if (!parsed.ok) throw new FetchError('INVALID_RESPONSE', parsed.message);
        found.add(parsed.signatures);
        if (page.next === undefined || found.full) break;
        if (pages >= limits.maxPages) {
          found.truncated = true;
          break;
        }
        page = await fetcher.referrers(repository, subject, SIGNATURE_ARTIFACT_TYPE, page.next);
        if (!page.supported) throw new FetchError('INVALID_RESPONSE', 'referrers API stopped answering while paging');
      }
      return { ok: true, source: 'referrers-api', signatures: found.signatures, truncated: found.truncated };
    }
    const tagged = await fetcher.manifest(repository, referrersTag(target.digest), [OCI_INDEX], limits.maxManifestBytes);
    if (tagged.found) {
      const parsed = parseReferrersIndex(tagged.bytes);
      if (!parsed.ok) throw new FetchError('INVALID_RESPONSE', `${referrersTag(target.digest)}: ${parsed.message}`);
      found.add(parsed.signatures);
    }
    return { ok: true, source: 'referrers-tag', signatures: found.signatures, truncated: found.truncated };
  } catch (err) {
    return fetchFailure(err);
  }
}
