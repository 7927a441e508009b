// Debian's distribution 2.8 registry (`docker-registry serve`) on a free loopback port, with fresh
// storage per start. Optionally a pull-through cache of another registry (proxyRemoteUrl), HTTPS
// (http.tls), Basic auth (auth.htpasswd), a storage root shared with another instance, and the `redirect`
// storage middleware (blob GETs answer 307 to a storage host).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpProbe, makeStateDir, startReadyPeer, tcpProbe } from './processes.ts';

export interface RegistryOptions {
  /** Run as distribution's pull-through cache of this upstream (e.g. another RegistryPeer's url). */
  proxyRemoteUrl?: string;
  /** Error-level logging and no access log: logging costs ~15% throughput (REAL-PEERS §1). */
  quiet?: boolean;
  /**
   * Filesystem storage root to use instead of a fresh one. Two instances over one root serve the same content
   * (distribution keeps no state outside its storage but caches), so a plain instance can take the pushes for an
   * instance that requires TLS or credentials. The caller owns (and removes) the directory.
   */
  storageRoot?: string;
  /** Serve HTTPS with this PEM certificate and key (distribution's `http.tls`); `url` is then https://. */
  tls?: { certFile: string; keyFile: string };
  /**
   * Require Basic credentials from this htpasswd file (distribution's `auth.htpasswd`; 2.8 accepts bcrypt
   * entries only). GET /v2/ then answers 401, which is what readiness waits for.
   */
  htpasswdFile?: string;
  /**
   * distribution's `redirect` storage middleware: blob GETs and HEADs answer 307 to
   * `<scheme>://<host of this URL>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data`, the blob's path in the
   * storage root (2.8 keeps only the scheme and host of `baseurl`).
   */
  redirectBaseUrl?: string;
}

export interface AccessLogEntry {
  remoteAddr: string;
  time: string;
  method: string;
  /** Request target as sent, including the query string (containerd adds ?ns=... to mirrors). */
  path: string;
  protocol: string;
  status: number;
  bytes: number;
  referer: string;
  userAgent: string;
}

export interface RegistryPeer {
  /** "127.0.0.1:PORT", as written in image references and hosts.toml directory names. */
  host: string;
  url: string;
  logFile: string;
  pid: number;
  /** The filesystem storage root (`storage.filesystem.rootdirectory`). */
  dataDir: string;
  /** Every access-log line so far, oldest first. Throws for quiet registries (no access log). */
  accessLog(): Promise<AccessLogEntry[]>;
  stop(): Promise<void>;
}

// Gorilla's combined log format, as written by distribution 2.8:
// 127.0.0.1 - - [25/Nov/2025:00:51:02 +0000] "HEAD /v2/a/manifests/v1?ns=x HTTP/1.1" 200 401 "" "containerd/1.6.20~ds1"
const COMBINED = /^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) ([^"]+)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;

export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = COMBINED.exec(line);
    if (m === null) continue; // logrus lines, start banners
    entries.push({
      remoteAddr: m[1]!, time: m[2]!, method: m[3]!, path: m[4]!, protocol: m[5]!,
      status: Number(m[6]), bytes: m[7] === '-' ? 0 : Number(m[7]), referer: m[8]!, userAgent: m[9]!,
    });
  }
  return entries;
}

function configYaml(addr: string, dataDir: string, opts: RegistryOptions): string {
  // JSON is valid YAML; it saves us from quoting paths by hand.
  const config: Record<string, unknown> = {
    version: 0.1,
    log: opts.quiet
      ? { level: 'error', accesslog: { disabled: true }, fields: { service: 'registry' } }
      : { level: 'info', fields: { service: 'registry' } },
    storage: {
      cache: { blobdescriptor: 'inmemory' },
      filesystem: { rootdirectory: dataDir },
      delete: { enabled: true },
    },
    http: {
      addr, secret: 'pullgate-test-only-secret',
      ...(opts.tls === undefined ? {} : { tls: { certificate: opts.tls.certFile, key: opts.tls.keyFile } }),
    },
  };
  if (opts.proxyRemoteUrl !== undefined) config.proxy = { remoteurl: opts.proxyRemoteUrl };
  if (opts.htpasswdFile !== undefined) config.auth = { htpasswd: { realm: 'pullgate-test', path: opts.htpasswdFile } };
  if (opts.redirectBaseUrl !== undefined) {
    config.middleware = { storage: [{ name: 'redirect', options: { baseurl: opts.redirectBaseUrl } }] };
  }
  return JSON.stringify(config, null, 2) + '\n';
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RegistryPeer> {
  if (opts.proxyRemoteUrl !== undefined) {
    // The cache pings its upstream at startup and panics when it is down (REAL-PEERS §5).
    const ping = httpProbe(new URL('/v2/', opts.proxyRemoteUrl).href);
    const deadline = Date.now() + 10000;
    while (!(await ping())) {
      if (Date.now() > deadline) throw new Error(`startRegistry: upstream ${opts.proxyRemoteUrl} did not answer GET /v2/ with 200 within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const dir = makeStateDir(opts.proxyRemoteUrl === undefined ? 'registry' : 'registry-cache');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const configFile = join(dir, 'config.yml');
  const dataDir = opts.storageRoot ?? join(dir, 'data');
  await writeFile(configFile, configYaml(host, dataDir, opts));
  const logFile = join(dir, 'registry.log');
  const url = `${opts.tls === undefined ? 'http' : 'https'}://${host}`;
  // Over TLS an HTTP probe would need the caller's CA: an accepted connection is enough (a refused config
  // ends the process, which waitUntilReady reports with the log).
  const ready: [string, () => Promise<boolean>] = opts.tls !== undefined
    ? [`TLS listener on ${host}`, tcpProbe(port)]
    : opts.htpasswdFile !== undefined
      ? [`GET ${url}/v2/ = 401`, httpProbe(`${url}/v2/`, 401)]
      : [`GET ${url}/v2/ = 200`, httpProbe(`${url}/v2/`)];
  const { proc, stop } = await startReadyPeer(
    { name: `docker-registry ${host}`, command: 'docker-registry', args: ['serve', configFile], logFile },
    dir,
    [ready],
  );
  return {
    host, url, logFile, pid: proc.pid, dataDir, stop,
    async accessLog() {
      if (opts.quiet) throw new Error(`registry ${host} was started quiet: its access log is disabled`);
      return parseAccessLog(await readFile(logFile, 'utf8'));
    },
  };
}
