// `npm test`'s pretest: make sure the real peers the tests start are installed (Debian packages).
// Fast path is a PATH lookup with no child process, so it costs a few ms when all is present.
// Installs only when we are root and apt-get exists; otherwise says exactly what to run and exits 1.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Binary -> Debian package that provides it, for every command a test starts or calls (held complete by
 * test/harness/external-commands.test.ts). runc comes with containerd but is checked on its own; nginx is the
 * harness's reverse-proxy peer (test/harness/peers.test.ts); openssl makes test certificates and answers OCSP; notary is
 * Docker Content Trust's client, server and signer (test/harness/notary.ts, REAL-PEERS §7).
 */
export const TEST_PEERS: Record<string, string> = {
  'docker-registry': 'docker-registry',
  containerd: 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  // test/audit runs ctr as an unprivileged user (permission denied on the socket); util-linux is essential on Debian.
  setpriv: 'util-linux',
  // test/audit/sleeper-image.ts copies /bin/sleep and the libraries ldd lists into a runnable test image.
  ldd: 'libc-bin',
  nginx: 'nginx',
  openssl: 'openssl',
  notary: 'notary',
  'notary-server': 'notary',
  'notary-signer': 'notary',
};
/** nginx: the reverse-proxy baseline; socat: the bare byte-relay ceiling; wrk and curl: the load generators. */
export const BENCH_PEERS: Record<string, string> = { nginx: 'nginx', socat: 'socat', wrk: 'wrk', curl: 'curl' };

// sbin directories are not on every PATH (non-login root shells, npm's env), but nginx and runc live there.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* next */ }
  }
  return undefined;
}

/** Packages that provide the missing binaries (deduplicated, in a stable order). */
export function missingPackages(peers: Record<string, string>): string[] {
  return [...new Set(Object.entries(peers).filter(([bin]) => findBinary(bin) === undefined).map(([, pkg]) => pkg))];
}

let aptUpdated = false;

function run(command: string, args: string[]): boolean {
  process.stderr.write(`pullgate: running ${command} ${args.join(' ')}\n`);
  const res = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return res.status === 0;
}

/**
 * Ensure the binaries for `peers` exist, installing their packages with apt-get when possible.
 * Returns true when everything is present afterwards; prints why not otherwise.
 */
export function ensurePeers(peers: Record<string, string>, purpose: string): boolean {
  const missing = missingPackages(peers);
  if (missing.length === 0) return true;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  const apt = findBinary('apt-get');
  if (!isRoot || apt === undefined) {
    process.stderr.write(
      `pullgate: the ${purpose} need these Debian packages, which are not installed: ${missing.join(', ')}\n` +
      `  install them with:  sudo DEBIAN_FRONTEND=noninteractive ${command}\n` +
      `  (${!isRoot ? 'not running as root' : 'apt-get not found'}, so not installing them automatically)\n`);
    return false;
  }
  // Wait for a concurrent apt/dpkg run instead of failing on its lock.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=300'];
  if (!aptUpdated) {
    if (!run(apt, [...lockWait, 'update'])) process.stderr.write('pullgate: apt-get update failed; trying the install anyway\n');
    aptUpdated = true;
  }
  if (!run(apt, [...lockWait, 'install', '-y', '--no-install-recommends', ...missing])) {
    process.stderr.write(`pullgate: ${command} failed\n`);
    return false;
  }
  const still = missingPackages(peers);
  if (still.length > 0) {
    process.stderr.write(`pullgate: still missing after install: ${still.join(', ')}\n`);
    return false;
  }
  return true;
}

/** For the tests: TEST_PEERS. */
export function ensureTestPeers(): boolean {
  return ensurePeers(TEST_PEERS, 'real-peer tests');
}

/** For `npm run bench`: the test peers plus BENCH_PEERS. */
export function ensureBenchPeers(): boolean {
  return ensurePeers({ ...TEST_PEERS, ...BENCH_PEERS }, 'benchmarks');
}

if (import.meta.main) {
  if (!ensureTestPeers()) process.exit(1);
}
