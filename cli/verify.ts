/**
 * `pullgate verify [--config FILE] [--json] REF` (DESIGN.md contract): resolve one image reference upstream and
 * decide on it exactly as the mirror would — the same upstream client (auth, limits, digest checks:
 * registry/manifest-fetch.ts), the same trust policy and stores, the same PolicyEngine and NotationVerifier — for
 * the deployment pipeline that wants the answer before it deploys. Exit 0 and print the pinned reference
 * (`host/repo@sha256:…`) when allowed; exit 1 with the reasons when denied (or unresolvable); exit 2 for usage
 * and configuration errors, including a missing trust policy.
 */
import type { PullgateConfig } from '../config/types.ts';
import { targetRef, type Decision, type ImageTarget } from '../policy/decision.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { TrustServerClients } from './trust-servers.ts';
import { loadPolicyState } from '../policy/load-state.ts';
import { scopeWarningsFor } from '../verifiers/notation/trust/scope-lint.ts';
import { parseDigest } from '../oci/digest.ts';
import { DOCKER_HUB, canonicalRegistryHost, isValidRepositoryName, isValidTag, normalizeRepository } from '../oci/names.ts';
import type { ManifestReference } from '../oci/names.ts';
import { fetchManifest } from '../registry/manifest-fetch.ts';
import { upstreamArtifactFetcher } from '../registry/artifact-fetcher.ts';
import { UpstreamClient } from '../registry/client.ts';
import { HttpCrlSource } from '../registry/crl-source.ts';
import { HttpOcspSource } from '../registry/ocsp-source.ts';
import { loadCredentials } from '../registry/credentials.ts';
import { UsageError } from './usage.ts';

/** A bad reference or an unusable trust policy: exit 2, like any usage error. */
export class VerifyUsageError extends UsageError {
  override readonly name = 'VerifyUsageError';
}

export interface ParsedReference {
  /** Registry host as in image references (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  readonly repository: string;
  readonly reference: ManifestReference;
}

/**
 * `[host[:port]/]path[:tag][@digest]`, normalised as the docker CLI and containerd do: no host (the first
 * component has no `.` or `:` and is not `localhost`) means Docker Hub, where a one-component path is under
 * `library/`; no tag and no digest means `latest`; with both, the digest is what is pulled.
 */
export function parseReference(text: string): ParsedReference {
  const bad = (why: string): never => {
    throw new VerifyUsageError(`invalid image reference ${JSON.stringify(text)}: ${why}`);
  };
  if (text.length === 0 || text.length > 2048) bad('empty or too long');
  let rest = text;
  let digest: ManifestReference | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const parsed = parseDigest(rest.slice(at + 1));
    if (!parsed.ok) bad(parsed.reason);
    else digest = { kind: 'digest', digest: parsed.digest };
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) bad(`invalid tag ${JSON.stringify(tag)}`);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  const hasHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasHost ? canonicalRegistryHost(first) : DOCKER_HUB;
  const repository = normalizeRepository(registry, hasHost ? rest.slice(slash + 1) : rest);
  if (!isValidRepositoryName(repository)) bad(`invalid repository name ${JSON.stringify(repository)}`);
  return { registry, repository, reference: digest ?? { kind: 'tag', tag: tag ?? 'latest' } };
}

export interface VerifyOutput {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

interface Report {
  readonly ref: string;
  readonly allowed: boolean;
  readonly pinned?: string;
  readonly digest?: string;
  readonly mediaType?: string;
  readonly reason: string;
  readonly message: string;
  readonly decision?: Decision;
}

function render(report: Report, json: boolean): VerifyOutput {
  const code = report.allowed ? 0 : 1;
  if (json) return { code, stdout: `${JSON.stringify(report, null, 2)}\n`, stderr: '' };
  if (report.allowed) {
    const warnings = (report.decision?.warnings ?? []).map((w) => `pullgate: ${report.ref}: warning: ${w}\n`).join('');
    return { code, stdout: `${report.pinned}\n`, stderr: warnings };
  }
  const lines = [`pullgate: ${report.ref}: ${report.message}`];
  for (const s of report.decision?.signatures ?? []) {
    if (!s.verified) lines.push(`  signature ${s.manifest}${s.signer ? ` (${s.signer})` : ''}: ${s.message ?? s.reason ?? 'failed'}`);
  }
  for (const r of report.decision?.requirements ?? []) {
    lines.push(`  ${r.verifier} requirement "${r.name}" (${r.key}): ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
  }
  return { code, stdout: '', stderr: `${lines.join('\n')}\n` };
}

/** Runs the command; never writes to the process streams itself (main.ts does). */
export async function verifyCommand(config: PullgateConfig, text: string, json: boolean): Promise<VerifyOutput> {
  const parsed = parseReference(text);
  const shown = parsed.reference.kind === 'tag' ? parsed.reference.tag : parsed.reference.digest.text;
  const ref = targetRef({ registry: parsed.registry, repository: parsed.repository, reference: shown });
  const registryConfig = config.registries.find((r) => canonicalRegistryHost(r.host) === parsed.registry);
  if (registryConfig === undefined) {
    return render({ ref, allowed: false, reason: 'registry_not_configured', message: `registry ${parsed.registry} is not mirrored by pullgate (add it to "registries")` }, json);
  }
  const credentials = await loadCredentials(config.credentials);
  const client = new UpstreamClient(registryConfig, config.upstream, credentials.get(registryConfig.host), () => {});
  const crlSource = new HttpCrlSource();
  const ocspSource = new HttpOcspSource();
  const trustServers = new TrustServerClients(() => credentials);
  try {
    const fetcher = upstreamArtifactFetcher(client);
    const state = await loadPolicyState(
      config.notation.configDir,
      { fetcherFor: (r) => (canonicalRegistryHost(r) === parsed.registry ? fetcher : undefined), crlSource, ocspSource, notaryV1: trustServers.deps() },
      config.imagePolicy,
    );
    const engine = new PolicyEngine(state);
    if (!engine.ready) throw new VerifyUsageError(engine.notReadyReason ?? 'no usable policy');
    // A scope written for this image that never matches it (e.g. docker.io/nginx): its statement was not applied.
    const scopeNotes = scopeWarningsFor(state.scopeWarnings, parsed.registry, parsed.repository).map((w) => `pullgate: warning: ${w.message}\n`).join('');
    const withNotes = (out: VerifyOutput): VerifyOutput => ({ ...out, stderr: scopeNotes + out.stderr });
    // As the gate does: under a rule whose trust data signs tags (Notary v1) the tag stands for the signed digest.
    let reference = parsed.reference;
    if (reference.kind === 'tag') {
      const resolution = await engine.resolveTag({ registry: parsed.registry, repository: parsed.repository, tag: reference.tag });
      if (resolution.kind === 'denied') {
        const d = resolution.decision;
        return withNotes(render({ ref, allowed: false, reason: d.reason, message: d.message, decision: d }, json));
      }
      if (resolution.kind === 'signed') reference = { kind: 'digest', digest: resolution.digest };
    }
    const fetched = await fetchManifest(client, parsed.repository, reference, undefined, config.upstream.manifestMaxBytes);
    if (!fetched.ok) return withNotes(render({ ref, allowed: false, reason: fetched.reason, message: fetched.message }, json));
    const m = fetched.manifest;
    const target: ImageTarget = { registry: parsed.registry, repository: parsed.repository, reference: shown, digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, bytes: m.bytes };
    let decision: Decision;
    try {
      decision = await engine.decide(target);
    } catch (err) {
      decision = { allow: false, reason: 'verification_error', message: `internal error during verification: ${(err as Error).message}`, statement: undefined, checks: [] };
    }
    const pinned = `${parsed.registry}/${parsed.repository}@${m.digest.text}`;
    return withNotes(render({ ref, allowed: decision.allow, ...(decision.allow ? { pinned } : {}), digest: m.digest.text, mediaType: m.mediaType, reason: decision.reason, message: decision.message, decision }, json));
  } finally {
    await Promise.allSettled([client.close(), crlSource.close(), ocspSource.close(), trustServers.closeAll()]);
  }
}
