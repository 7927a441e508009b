/**
 * `pullgate audit [--config FILE] [--containerd-socket PATH] [--json] [--remove]` (DESIGN.md contract, issue 15):
 * decide every image containerd already holds against today's policy — images pulled before the gate existed,
 * imported by hand, or whose signer was since revoked. Wiring as in cli/verify.ts (one UpstreamClient per
 * configured registry for signatures, loadPolicyState, PolicyEngine), but the manifest comes from containerd's
 * content store. Exit 0 when every image passes, 1 when one fails, 2 on usage/config errors or an unreachable
 * containerd (a report we could not make is not a pass).
 */
import type { PullgateConfig } from '../config/types.ts';
import type { Decision } from '../policy/decision.ts';
import { PolicyEngine } from '../policy/engine.ts';
import { loadPolicyState } from '../policy/load-state.ts';
import { TrustServerClients } from './trust-servers.ts';
import { canonicalRegistryHost } from '../oci/names.ts';
import { upstreamArtifactFetcher } from '../registry/artifact-fetcher.ts';
import { UpstreamClient } from '../registry/client.ts';
import { HttpCrlSource } from '../registry/crl-source.ts';
import { HttpOcspSource } from '../registry/ocsp-source.ts';
import { loadCredentials } from '../registry/credentials.ts';
import { ContainerdClient } from '../node/containerd/client.ts';
import { ContainerdError } from '../node/containerd/grpc.ts';
import { auditImages, removeDenied, type AuditEntry } from '../node/audit/audit.ts';
import { UsageError } from './usage.ts';
import { parseReference } from './verify.ts';

export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

export interface AuditOptions {
  readonly socket: string;
  readonly remove: boolean;
}

export interface AuditRun {
  readonly entries: AuditEntry[];
  readonly durationMs: number;
}

/** One audit pass; shared by the CLI and serve's periodic audit. ContainerdError propagates (caller decides). */
export async function runAudit(config: PullgateConfig, opts: AuditOptions): Promise<AuditRun> {
  const started = performance.now();
  const credentials = await loadCredentials(config.credentials);
  const clients = new Map(config.registries.map((r) => [canonicalRegistryHost(r.host), new UpstreamClient(r, config.upstream, credentials.get(r.host), () => {})]));
  const fetchers = new Map([...clients].map(([host, c]) => [host, upstreamArtifactFetcher(c)]));
  const crlSource = new HttpCrlSource();
  const ocspSource = new HttpOcspSource();
  const containerd = new ContainerdClient(opts.socket);
  const trustServers = new TrustServerClients(() => credentials);
  try {
    // containerd first: an unreachable socket (missing, permission denied) is the answer, whatever the policy.
    await containerd.namespaces();
    const state = await loadPolicyState(config.notation.configDir, { fetcherFor: (r) => fetchers.get(canonicalRegistryHost(r)), crlSource, ocspSource, notaryV1: trustServers.deps() }, config.imagePolicy);
    const engine = new PolicyEngine(state);
    if (!engine.ready) throw new UsageError(`audit: ${engine.notReadyReason}`);
    const entries = await auditImages({
      client: containerd,
      manifestMaxBytes: config.upstream.manifestMaxBytes,
      parseName: (name) => parseReference(name),
      decide: (registry, target): Promise<Decision> | undefined => (clients.has(canonicalRegistryHost(registry)) ? engine.decide(target) : undefined),
    });
    if (opts.remove) await removeDenied(containerd, entries);
    return { entries, durationMs: performance.now() - started };
  } finally {
    containerd.close();
    await Promise.allSettled([...[...clients.values()].map((c) => c.close()), crlSource.close(), ocspSource.close(), trustServers.closeAll()]);
  }
}

export interface AuditOutput {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

export async function auditCommand(config: PullgateConfig, opts: AuditOptions, json: boolean): Promise<AuditOutput> {
  let run: AuditRun;
  try {
    run = await runAudit(config, opts);
  } catch (err) {
    if (err instanceof ContainerdError) return { code: 2, stdout: '', stderr: `pullgate: audit: ${err.message}\n` };
    throw err;
  }
  const code = run.entries.some((e) => e.verdict !== 'allow') ? 1 : 0;
  if (json) return { code, stdout: run.entries.map((e) => `${JSON.stringify(e)}\n`).join(''), stderr: '' };
  const lines = run.entries.map((e) => {
    const action = e.action && e.action !== 'kept' ? ` [${e.action}${e.actionMessage ? `: ${e.actionMessage}` : ''}]` : '';
    const used = e.containers.length > 0 ? ` (used by ${e.containers.join(', ')})` : '';
    return `${e.verdict}\t${e.references.join(',')}\t${e.digest}\t${e.reason}: ${e.message}${used}${action}`;
  });
  const summary = `${run.entries.length} image(s), ${run.entries.filter((e) => e.verdict !== 'allow').length} denied, in ${Math.round(run.durationMs)} ms`;
  return { code, stdout: lines.map((l) => `${l}\n`).join(''), stderr: `pullgate: audit: ${summary}\n` };
}
