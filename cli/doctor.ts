/**
 * `pullgate doctor`: is this node's containerd really wired to pullgate? Reads containerd's config, finds
 * config_path, checks the hosts.toml containerd will use for every registry pullgate is configured for (found
 * in containerd's own order: `<host>_<port>_`, `<host>:<port>`, `_default`, root by root), says what happens to
 * registries it is not configured for (`_default`), warns about trust policy scopes that can never match an
 * image, asks the mirror `GET /v2/`, and — when the node audit is configured — whether it can reach containerd's
 * socket (cli/doctor/audit-socket.ts). Exit 0 when nothing lets a pull go around the gate (warnings
 * allowed), 1 when something does, 2 on usage/config errors — so it can serve as an exec readiness or startup
 * probe.
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadConfig } from '../config/load.ts';
import { mirrorUrl } from './hosts.ts';
import { readContainerdWiring } from './doctor/containerd-config.ts';
import { checkRegistryHosts, checkUnlistedRegistries } from './doctor/hosts-check.ts';
import { checkPolicyScopes } from './doctor/policy-scopes.ts';
import { checkAuditSocket } from './doctor/audit-socket.ts';
import { ok, problem, type Finding } from './doctor/findings.ts';
import { DOCTOR_USAGE } from './usage.ts';


export interface DoctorOptions {
  readonly configFile: string | undefined;
  /** containerd's config as a host path (default /etc/containerd/config.toml). */
  readonly containerdConfig: string;
  /** Read hosts.toml here instead of under config_path (e.g. the hostPath mount in a pod). */
  readonly certsDir: string | undefined;
  /** Where the host's filesystem is mounted ("/" on the node itself, "/host" in the DaemonSet pod). */
  readonly hostRoot: string;
  readonly timeoutMs: number;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly mirror: string;
  readonly containerd: { readonly file: string; readonly shape: string | null; readonly configPath: string | null; readonly hostsDirs: readonly string[] };
  readonly findings: readonly Finding[];
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const config = await loadConfig(opts.configFile);
  const mirror = mirrorUrl(config);
  const { wiring, findings } = await readContainerdWiring(opts.containerdConfig, opts.hostRoot);
  const hostsDirs = opts.certsDir !== undefined ? [opts.certsDir] : (wiring?.roots ?? []);
  if (wiring?.configPath !== undefined || opts.certsDir !== undefined) {
    for (const r of config.registries) findings.push(...(await checkRegistryHosts(hostsDirs, r.host, mirror)));
    findings.push(...(await checkUnlistedRegistries(hostsDirs, config.registries.map((r) => r.host), mirror)));
  }
  findings.push(...(await checkPolicyScopes(config.notation.configDir)));
  findings.push(await probeMirror(mirror, opts.timeoutMs));
  findings.push(...(await checkAuditSocket(config, opts.timeoutMs)));
  return {
    ok: findings.every((f) => f.level !== 'problem'),
    mirror,
    containerd: { file: wiring?.file ?? opts.containerdConfig, shape: wiring?.shape ?? null, configPath: wiring?.configPath ?? null, hostsDirs },
    findings,
  };
}

/** The hosts.toml only fails closed usefully if something answers there: a dead mirror fails every pull. */
async function probeMirror(mirror: string, timeoutMs: number): Promise<Finding> {
  try {
    const res = await request(`${mirror}/v2/`, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    const api = res.headers['docker-distribution-api-version'];
    if (res.statusCode === 200 && api === 'registry/2.0') return ok('mirror_live', `pullgate answers GET ${mirror}/v2/`);
    return problem('mirror_down', `GET ${mirror}/v2/ answered ${res.statusCode} without the registry API header: something else listens there`);
  } catch (err) {
    return problem('mirror_down', `pullgate does not answer at ${mirror} (${(err as Error).message}): every pull of the registries above fails until it runs`);
  }
}

export function renderHuman(report: DoctorReport): string {
  const label = { ok: 'ok     ', warn: 'WARN   ', problem: 'PROBLEM' } as const;
  const lines = report.findings.map((f) => `${label[f.level]}  ${f.registry !== undefined ? `${f.registry}: ` : ''}${f.message}`);
  const problems = report.findings.filter((f) => f.level === 'problem').length;
  const warnings = report.findings.filter((f) => f.level === 'warn').length;
  lines.push(report.ok
    ? `pullgate doctor: every configured registry goes through pullgate at ${report.mirror}${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`
    : `pullgate doctor: ${problems} problem${problems === 1 ? '' : 's'}: pulls on this node can go around pullgate or fail`);
  return `${lines.join('\n')}\n`;
}

export async function doctorCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      'containerd-config': { type: 'string' },
      'certs-dir': { type: 'string' },
      'host-root': { type: 'string' },
      json: { type: 'boolean' },
      timeout: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const timeoutMs = values.timeout === undefined ? 3000 : Number(values.timeout) * 1000;
  if (positionals.length > 0 || !(timeoutMs > 0)) {
    process.stderr.write(`pullgate: doctor takes no arguments${positionals.length > 0 ? ` (got "${positionals.join(' ')}")` : ''}; --timeout is in seconds\n${DOCTOR_USAGE}\n`);
    return 2;
  }
  const report = await runDoctor({
    configFile: values.config,
    containerdConfig: values['containerd-config'] ?? '/etc/containerd/config.toml',
    certsDir: values['certs-dir'],
    hostRoot: values['host-root'] ?? '/',
    timeoutMs,
  });
  process.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderHuman(report));
  return report.ok ? 0 : 1;
}
