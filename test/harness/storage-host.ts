// A blob storage host on loopback, standing where S3, GCS or a CDN stand behind Docker Hub or GHCR: nginx
// serving a distribution registry's filesystem storage root as static files, so that the registry's `redirect`
// storage middleware (RegistryOptions.redirectBaseUrl) sends blob GETs here. Its access log records every
// request's Authorization header, which is the point: registry credentials must never reach storage.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { httpProbe, makeStateDir, startReadyPeer } from './processes.ts';

export interface StorageRequest {
  method: string;
  /** Request target as sent, with its query string. */
  uri: string;
  status: number;
  /** The Authorization header as received; '' when there was none. */
  authorization: string;
  userAgent: string;
}

export interface StorageHostPeer {
  host: string;
  url: string;
  pid: number;
  /** Every request so far, oldest first (readiness probes excluded). */
  accessLog(): Promise<StorageRequest[]>;
  stop(): Promise<void>;
}

/**
 * nginx on a free loopback port serving `root` read-only. nginx workers run as nobody when we are root, so
 * `root` and the directories above it must be world-traversable (the registry writes 0755/0644 below it).
 */
export async function startStorageHost(root: string): Promise<StorageHostPeer> {
  const prefix = makeStateDir('storage-host');
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'logs'));
  mkdirSync(join(prefix, 'tmp'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const p = (rel: string): string => join(prefix, rel);
  const accessLogFile = p('logs/access.log');
  // escape=json: header values are logged inside JSON strings, and an absent header is an empty string.
  writeFileSync(p('nginx.conf'), `daemon off;
worker_processes 1;
pid ${p('nginx.pid')};
error_log ${p('logs/error.log')} warn;
events { worker_connections 64; }
http {
  log_format storage escape=json '{"method":"$request_method","uri":"$request_uri","status":$status,"authorization":"$http_authorization","userAgent":"$http_user_agent"}';
  client_body_temp_path ${p('tmp/body')};
  proxy_temp_path ${p('tmp/proxy')};
  fastcgi_temp_path ${p('tmp/fastcgi')};
  uwsgi_temp_path ${p('tmp/uwsgi')};
  scgi_temp_path ${p('tmp/scgi')};
  server {
    listen ${host};
    access_log ${accessLogFile} storage;
    location = /__ready { access_log off; return 204; }
    location / { root ${root}; limit_except GET { deny all; } }
  }
}
`);
  const { proc, stop } = await startReadyPeer(
    { name: `storage nginx ${host}`, command: 'nginx', args: ['-p', prefix, '-c', p('nginx.conf'), '-e', p('logs/error.log')], logFile: p('logs/stdout.log') },
    prefix,
    [[`GET ${url}/__ready = 204`, httpProbe(`${url}/__ready`, 204)]],
  );
  return {
    host, url, pid: proc.pid, stop,
    async accessLog() {
      const text = await readFile(accessLogFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as StorageRequest);
    },
  };
}
