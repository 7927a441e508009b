/**
 * `pullgate doctor` says whether the node audit can reach containerd's socket, against a real containerd: a
 * socket that does not exist, one pullgate's user may not open (doctor run as uid 65534 with setpriv, as the
 * audit test does), one that answers; and nothing about the socket when the config does not use the audit.
 */
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor, type DoctorReport } from '../../cli/doctor.ts';
import { startContainerd } from '../harness/containerd.ts';
import { runCommand } from '../harness/processes.ts';

/**
 * A non-root uid (nobody) that may still read and traverse any directory (CAP_DAC_READ_SEARCH, ambient), so it can
 * load pullgate from a checkout under a root-only temp dir, as CI's is; connecting to containerd's socket needs write
 * permission on it, which that capability does not give: the denial tested is the socket's.
 */
const UNPRIVILEGED = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];


const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));

t.test('doctor: audit socket missing, permission denied, reachable, not configured', async (t) => {
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const dir = mkdtempSync(join(tmpdir(), 'pg-doctor-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // readable by the unprivileged run below
  const config = (name: string, audit: Record<string, unknown> | undefined) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ listen: '127.0.0.1:1', admin: '127.0.0.1:2', registries: [{ host: '127.0.0.1:5999', endpoint: 'http://127.0.0.1:5999' }], notation: { configDir: './notation' }, ...(audit === undefined ? {} : { audit }) }), { mode: 0o644 });
    return file;
  };
  const doctor = (configFile: string) => runDoctor({ configFile, containerdConfig: join(dir, 'no-containerd.toml'), certsDir: undefined, hostRoot: '/', timeoutMs: 3000 });
  const audit = (report: DoctorReport) => report.findings.filter((f) => f.code.startsWith('audit_socket'));

  const missing = audit(await doctor(config('missing', { intervalMs: 60_000, containerdSocket: join(dir, 'nothing.sock') })));
  t.same(missing.map((f) => `${f.level}:${f.code}`), ['warn:audit_socket_missing']);
  t.match(missing[0]?.message, /periodic audit .* does not exist/);

  const reachable = audit(await doctor(config('reachable', { intervalMs: 60_000, containerdSocket: containerd.socket })));
  t.same(reachable.map((f) => `${f.level}:${f.code}`), ['ok:audit_socket_ok']);
  t.match(reachable[0]?.message, containerd.socket);

  // Naming the socket (for `pullgate audit` by hand) is enough to have it checked, periodic audit off.
  const named = audit(await doctor(config('named', { containerdSocket: containerd.socket })));
  t.same(named.map((f) => f.code), ['audit_socket_ok']);
  t.same(audit(await doctor(config('off', undefined))), [], 'no audit configured: no audit finding');

  // Not root: containerd's state dir (0700) is not traversable, as a root-owned socket is not for pullgate's uid.
  const deniedFile = config('denied', { intervalMs: 60_000, containerdSocket: containerd.socket });
  const run = await runCommand('setpriv', [...UNPRIVILEGED, process.execPath, BIN, 'doctor', '--json', '--timeout', '3', '--config', deniedFile, '--containerd-config', join(dir, 'none.toml')], 30_000);
  const report = JSON.parse(run.stdout) as DoctorReport;
  const denied = audit(report);
  t.same(denied.map((f) => `${f.level}:${f.code}`), ['warn:audit_socket_denied'], run.stderr);
  t.match(denied[0]?.message, /permission denied opening containerd socket/);
});
