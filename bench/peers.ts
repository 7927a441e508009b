// Peers for `npm run bench`: nginx as the plain reverse-proxy baseline (REAL-PEERS §6) and as the TLS latency
// floor, socat as the bare-relay ceiling, and distribution's pull-through cache (startRegistry({
// proxyRemoteUrl })) as the caching baseline.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/harness/ports.ts';
import { httpProbe, makeStateDir, startReadyPeer, tcpProbe } from '../test/harness/processes.ts';

export { startRegistry } from '../test/harness/registry.ts';
export type { RegistryOptions, RegistryPeer } from '../test/harness/registry.ts';
export { ensureBenchPeers } from '../test/harness/ensure-peers.ts';

export interface NginxPeer {
  host: string;
  url: string;
  logFile: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * An nginx config under `prefix` with one `server` block (`server`, given the prefix path helper): the pid,
 * logs and temp paths inside the prefix, one worker, as REAL-PEERS §6 runs it.
 */
function nginxConf(prefix: string, accessLog: boolean, server: string): string {
  const p = (rel: string): string => join(prefix, rel);
  return `daemon off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('logs/error.log')} warn;
events { worker_connections 1024; }
http {
  access_log ${accessLog ? p('logs/access.log') : 'off'};
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
${server}
}
`;
}

/** nginx on a free loopback port with a fresh prefix dir; `server` renders the server block for its host:port. */
async function launchNginx(opts: {
  name: string;
  scheme: 'http' | 'https';
  accessLog: boolean;
  server: (host: string) => string;
  ready: (url: string, port: number) => [what: string, probe: () => Promise<boolean>];
}): Promise<NginxPeer> {
  const prefix = makeStateDir(opts.name);
  // As root, nginx workers run as nobody and must traverse the prefix (mkdtemp makes it 0700).
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'tmp'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `${opts.scheme}://${host}`;
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, opts.accessLog, opts.server(host)));
  const logFile = join(prefix, 'logs', 'error.log');
  // -e: otherwise nginx opens its compiled-in /var/log/nginx/error.log before reading our config.
  const { proc, stop } = await startReadyPeer(
    { name: `${opts.name} ${host}`, command: 'nginx', args: ['-p', prefix, '-c', conf, '-e', logFile], logFile: join(prefix, 'logs', 'stdout.log') },
    prefix,
    [opts.ready(url, port)],
  );
  return { host, url, logFile, pid: proc.pid, stop };
}

/**
 * nginx on a free loopback port proxying /v2/ to `upstreamHostPort` ("127.0.0.1:PORT"), with a fresh
 * prefix dir. Ready once GET /v2/ through it returns 200, so the upstream must already be up.
 */
export function startNginx(upstreamHostPort: string, opts: { accessLog?: boolean } = {}): Promise<NginxPeer> {
  return launchNginx({
    name: 'nginx',
    scheme: 'http',
    accessLog: opts.accessLog ?? false,
    server: (host) => `  upstream registry { server ${upstreamHostPort}; keepalive 32; }
  server {
    listen ${host};
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location /v2/ {
      proxy_pass http://registry;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # the registry builds absolute upload Location URLs from Host, so pushes work through nginx too
      proxy_set_header Host $http_host;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 900;
    }
  }`,
    ready: (url) => [`GET ${url}/v2/ = 200 via nginx`, httpProbe(`${url}/v2/`)],
  });
}

/**
 * nginx answering every request with a static 200 over TLS (`certFile`/`keyFile`): the latency floor of this
 * machine for an HTTPS request with no application behind it, next to which the webhook's numbers are read.
 */
export function startNginxTlsStatic(certFile: string, keyFile: string): Promise<NginxPeer> {
  return launchNginx({
    name: 'nginx-tls',
    scheme: 'https',
    accessLog: false,
    server: (host) => `  server {
    listen ${host} ssl;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    keepalive_timeout 30s;
    location / { return 200 "ok"; }
  }`,
    ready: (_url, port) => [`TLS listener on port ${port}`, tcpProbe(port)],
  });
}

export interface RelayPeer {
  host: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * socat as a bare TCP relay to `upstreamHostPort` with 1 MiB read/write buffers: no HTTP, no policy, just bytes
 * copied between two sockets by a C loop (a process per connection). It is the ceiling any userspace proxy can
 * reach on this machine, so it says how much of the gap to "direct" is the relaying itself.
 */
export async function startSocatRelay(upstreamHostPort: string): Promise<RelayPeer> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dir = makeStateDir('socat');
  const url = `http://${host}`;
  const { stop } = await startReadyPeer(
    {
      name: `socat ${host}`,
      command: 'socat',
      args: ['-b', String(1 << 20), `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:${upstreamHostPort}`],
      logFile: join(dir, 'socat.log'),
    },
    dir,
    [[`GET ${url}/v2/ = 200 via socat`, httpProbe(`${url}/v2/`)]],
  );
  return { host, url, stop };
}
