/**
 * What the Notary v1 gate tests (issue 13, "Done when") share: the real peers (distribution registry with its access
 * log, notary-server + notary-signer, containerd), the `policy:` section's Notary v1 requirement in the config shape
 * policy/image-policy/parse.ts reads, a Notation trust policy trusting the e2e key everywhere (so an image the
 * image policy hands to Notary v1 would be denied as unsigned if the gate fell back to Notation), and the two pulls
 * kubelet and an operator make: ctr and the CRI PullImage call.
 */
import type { Test } from 'tap';
import { join } from 'node:path';
import { startContainerd, type ContainerdPeer, type CommandResult, type CriPullResult } from '../harness/containerd.ts';
import { startNotary, type NotaryPeers } from '../harness/notary.ts';
import { startRegistry, type RegistryPeer } from '../harness/registry.ts';
import { waitFor } from '../harness/wait.ts';
import { startPullgate, VECTORS, type PullgateProcess } from './pullgate-process.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');

export interface NotaryGatePeers {
  readonly registry: RegistryPeer;
  readonly notary: NotaryPeers;
  readonly containerd: ContainerdPeer;
}

/** Starts the three peers; each is stopped in the test's teardown. */
export async function startNotaryGatePeers(t: Test): Promise<NotaryGatePeers> {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const notary = await startNotary();
  t.teardown(() => notary.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  return { registry, notary, containerd };
}

export interface NotaryRequirementOptions {
  trustServer?: string;
  rootKeys: readonly string[];
  delegations?: readonly string[];
  signers?: readonly { role: string; publicKey: string }[];
}

/** `{verifier: notaryv1, trustServer, rootKeys, delegations | signers}` (README.md § Image policy, "Requirements"). */
export function notaryRequirement(o: NotaryRequirementOptions): Record<string, unknown> {
  return {
    verifier: 'notaryv1',
    trustServer: o.trustServer ?? 'notary',
    rootKeys: o.rootKeys,
    ...(o.delegations === undefined ? {} : { delegations: o.delegations }),
    ...(o.signers === undefined ? {} : { signers: o.signers }),
  };
}

/** The trust servers section: the real notary-server, plus any relays in front of it (same CA). */
export function trustServers(notary: NotaryPeers, relays: Record<string, string> = {}): Record<string, unknown> {
  const servers: Record<string, unknown> = { notary: { url: notary.url, caFile: notary.caFile } };
  for (const [name, url] of Object.entries(relays)) servers[name] = { url, caFile: notary.caFile };
  return servers;
}

/**
 * `pullgate serve` for the registry (and `moreRegistries`) with `policy` as the config's `policy:` section (none when undefined), the
 * Notation trust policy strict on `*` with the e2e certificate, and containerd's hosts.toml pointing at it.
 */
export async function startNotaryGate(t: Test, peers: NotaryGatePeers, policy: unknown, moreRegistries: readonly RegistryPeer[] = []): Promise<PullgateProcess> {
  const gate = await startPullgate({
    registries: [peers.registry, ...moreRegistries].map((r) => ({ host: r.host, endpoint: r.url })),
    trustPolicy: {
      version: '1.0',
      trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }],
    },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    ...(policy === undefined ? {} : { extra: { policy } }),
  });
  t.teardown(() => gate.stop());
  const hosts = await gate.cli(['hosts', '--dir', peers.containerd.certsDir]);
  if (hosts.code !== 0) throw new Error(`pullgate hosts: ${hosts.stderr}`);
  return gate;
}

/** The digest containerd recorded for `ref` in `namespace` (ctr: default; CRI: k8s.io), or undefined. */
export async function digestInContainerd(containerd: ContainerdPeer, ref: string, namespace: string): Promise<string | undefined> {
  return (await containerd.listImages(namespace)).find((i) => i.name === ref)?.digest;
}

export interface BothPulls { ctr: CommandResult; cri: CriPullResult }

/** A fresh ctr pull and a fresh CRI pull of `ref` (each starting from nothing in containerd). */
export async function pullBoth(containerd: ContainerdPeer, ref: string): Promise<BothPulls> {
  await containerd.removeImage(ref);
  const ctr = await containerd.ctrPull(ref);
  const cri = await containerd.criPull(ref);
  return { ctr, cri };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the gate must have recorded for a decision: its log line's reason and verifier, and the counter for both. */
export interface GateRecord {
  readonly gate: PullgateProcess;
  readonly reason: string;
  readonly verifier: string;
}

const decisions = (gate: PullgateProcess, decision: string, r: GateRecord): Promise<number> =>
  gate.metric('pullgate_pull_decisions_total', { decision, reason: r.reason, verifier: r.verifier });

/** The log lines of `ref` with `decision` all carry the expected reason and verifier, and the counter moved. */
async function assertRecorded(t: Test, ref: string, decision: string, r: GateRecord, before: number): Promise<void> {
  const linesOf = () => r.gate.logLines().filter((l) => l.ref === ref && l.decision === decision);
  // The log is a file the gate appends to: wait for the line rather than assume it is flushed already.
  t.ok(await waitFor(() => linesOf().length > 0), `${ref}: a ${decision} line is logged`);
  const lines = linesOf();
  t.same([...new Set(lines.map((l) => `${String(l.reason)} by ${String(l.verifier)}`))], [`${r.reason} by ${r.verifier}`], `${ref}: logged as ${r.reason} by ${r.verifier}`);
  t.ok((await decisions(r.gate, decision, r)) > before, `${ref}: counted as ${decision}{reason="${r.reason}",verifier="${r.verifier}"}`);
  if (decision === 'allow' && r.verifier === 'notaryv1') {
    // The line says which requirement decided and how: the role that signed, its version and its signing keys.
    const reqs = lines[0]!.requirements as { status: string; roles?: { role: string; version: number; signerKeyIds: string[] }[] }[] | undefined;
    const passed = reqs?.find((q) => q.status === 'passed');
    t.ok(typeof lines[0]!.rule === 'string' && passed?.roles?.[0]?.role !== undefined && passed.roles[0].signerKeyIds.length > 0, `${ref}: the log line names the rule and the role and keys that signed`);
  }
}

/**
 * Both pulls of `ref` are refused by the gate: ctr prints `denied: pullgate: <ref>: …` and both ctr's error and the
 * CRI error kubelet would show carry `words` (the reason in words); with `record`, the gate logged and counted it.
 */
export async function assertDenied(t: Test, containerd: ContainerdPeer, ref: string, words: RegExp, record?: GateRecord): Promise<void> {
  const before = record === undefined ? 0 : await decisions(record.gate, 'deny', record);
  const { ctr, cri } = await pullBoth(containerd, ref);
  t.not(ctr.code, 0, `${ref}: ctr pull fails`);
  t.match(ctr.stderr, new RegExp(`denied: pullgate: ${escape(ref)}: `), `${ref}: the gate's message reaches ctr`);
  t.match(ctr.stderr, words, `${ref}: ctr's error has the reason`);
  t.notOk(cri.ok, `${ref}: CRI PullImage fails`);
  if (!cri.ok) {
    t.match(cri.message, new RegExp(`pullgate: ${escape(ref)}: `), `${ref}: the CRI error names pullgate and the image`);
    t.match(cri.message, words, `${ref}: the CRI error (what kubelet shows) has the reason`);
  }
  t.notOk(await digestInContainerd(containerd, ref, 'default'), `${ref}: no image in containerd (ctr)`);
  t.notOk(await digestInContainerd(containerd, ref, 'k8s.io'), `${ref}: no image in containerd (CRI)`);
  if (record !== undefined) await assertRecorded(t, ref, 'deny', record, before);
}

/** Both pulls of `ref` succeed and containerd records `digest` for it in both namespaces; with `record`, as logged. */
export async function assertPullsAs(t: Test, containerd: ContainerdPeer, ref: string, digest: string, record?: GateRecord): Promise<void> {
  const before = record === undefined ? 0 : await decisions(record.gate, 'allow', record);
  const { ctr, cri } = await pullBoth(containerd, ref);
  t.equal(ctr.code, 0, `ctr images pull ${ref}: ${ctr.stderr}`);
  t.equal(await digestInContainerd(containerd, ref, 'default'), digest, `${ref}: ctr recorded the signed digest`);
  t.ok(cri.ok, `CRI PullImage ${ref}: ${cri.ok ? '' : cri.message}`);
  t.equal(await digestInContainerd(containerd, ref, 'k8s.io'), digest, `${ref}: CRI recorded the signed digest`);
  if (record !== undefined) await assertRecorded(t, ref, 'allow', record, before);
}

/**
 * No request from containerd reached the registry around the gate (hosts.toml is the gate): every request came from
 * the gate (`pullgate`), the test's own pushes and reads (`node`, Node's fetch) or the readiness probe (no agent).
 */
export async function assertNoBypass(t: Test, registry: RegistryPeer): Promise<void> {
  const log = await registry.accessLog();
  const others = log.filter((e) => !['pullgate', 'node', ''].includes(e.userAgent));
  t.same(others.map((e) => `${e.method} ${e.path} (${e.userAgent})`), [], 'only the gate and the test itself reached the registry');
  t.ok(log.some((e) => e.userAgent === 'pullgate'), 'the gate did reach it');
  t.notOk(log.some((e) => e.userAgent === 'node' && e.method === 'GET' && /\/blobs\//.test(e.path)), 'no layer was fetched by anything but the gate');
}

/**
 * A by-digest pull: containerd resolves it with a HEAD, whose 403 carries no body, so ctr and CRI only say 403;
 * the reason is in the gate's decision log and counter.
 */
export async function assertDeniedByDigest(t: Test, containerd: ContainerdPeer, ref: string, record: GateRecord): Promise<void> {
  const before = await decisions(record.gate, 'deny', record);
  const { ctr, cri } = await pullBoth(containerd, ref);
  t.not(ctr.code, 0, `${ref}: ctr pull fails`);
  t.match(ctr.stderr, /403 Forbidden/, `${ref}: refused by the gate`);
  t.notOk(cri.ok, `${ref}: CRI PullImage fails`);
  if (!cri.ok) t.match(cri.message, /403 Forbidden/, `${ref}: CRI: refused by the gate`);
  t.notOk(await digestInContainerd(containerd, ref, 'default'), `${ref}: no image in containerd (ctr)`);
  await assertRecorded(t, ref, 'deny', record, before);
}
