/**
 * Can the node audit (issue 15) reach containerd? Checked when the config turns the audit on (audit.intervalMs
 * > 0, audit.remove) or names audit.containerdSocket: one Namespaces/List over the socket, the first call every
 * audit pass makes, so "reachable" here means the audit gets past its first step. The answer is a warning,
 * not a problem: an audit that cannot run lets no pull around the gate (doctor's exit code is about that), but
 * it leaves the node's existing images unchecked and pullgate_audit_last_success_timestamp_seconds growing old.
 * The socket path is used as the audit process sees it (inside the pod, the mount path), not under --host-root.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { PullgateConfig } from '../../config/types.ts';
import { ContainerdClient } from '../../node/containerd/client.ts';
import { ContainerdError, type ContainerdErrorCode } from '../../node/containerd/grpc.ts';
import { ok, warn, type Finding, type FindingCode } from './findings.ts';

const CODES: Record<ContainerdErrorCode, FindingCode> = {
  socket_missing: 'audit_socket_missing',
  permission_denied: 'audit_socket_denied',
  unreachable: 'audit_socket_unreachable',
  timeout: 'audit_socket_unreachable',
  too_large: 'audit_socket_unreachable',
  protocol: 'audit_socket_unreachable',
};

/** Whether the config file itself sets audit.containerdSocket (the loaded config always has a default). */
async function namesSocket(source: string | undefined): Promise<boolean> {
  if (source === undefined) return false;
  try {
    const raw = parseYaml(await readFile(source, 'utf8'), { maxAliasCount: 100 }) as { audit?: { containerdSocket?: unknown } } | null;
    return raw?.audit?.containerdSocket !== undefined;
  } catch {
    return false; // loadConfig already read and validated it; a race with an edit is not doctor's finding
  }
}

export async function checkAuditSocket(config: PullgateConfig, timeoutMs: number): Promise<Finding[]> {
  const audit = config.audit;
  if (audit === undefined) return [];
  const enabled = audit.intervalMs > 0 || audit.remove;
  if (!enabled && !(await namesSocket(config.source))) return [];
  const socket = audit.containerdSocket;
  const who = audit.intervalMs > 0 ? 'the periodic audit (audit.intervalMs)' : '`pullgate audit`';
  const client = new ContainerdClient(socket, timeoutMs);
  try {
    const namespaces = await client.namespaces();
    return [ok('audit_socket_ok', `audit reaches containerd at ${socket} (${namespaces.length} namespace${namespaces.length === 1 ? '' : 's'})`, { file: socket })];
  } catch (err) {
    if (!(err instanceof ContainerdError)) throw err;
    return [warn(CODES[err.code], `${who} cannot reach containerd: ${err.message}; the images already on this node go unaudited`, { file: socket })];
  } finally {
    client.close();
  }
}
