/**
 * A plain-HTTP loopback relay in front of the TLS notary-server, for the tests that must count what reaches the
 * server (cache, single flight) or change one response header (Cache-Control). It forwards each GET as it is
 * (authorization included), over a fresh TLS connection trusting the harness CA, and returns status, headers and body
 * unchanged unless `rewrite` says otherwise.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RelayedRequest { readonly path: string; readonly authorization: string | undefined }

export interface CountingRelay {
  readonly origin: string;
  readonly requests: RelayedRequest[];
  /** How many requests asked for `<name>.json` of any GUN (exact role name, e.g. `targets` or `1.root`). */
  count(name: string): number;
  /** Replace (string) or drop (undefined) the Cache-Control of responses whose path ends with `/<name>.json`. */
  cacheControl: Map<string, string | undefined>;
  close(): Promise<void>;
}

const MAX_BODY = 4 << 20;

export async function startCountingRelay(upstream: string, caPem: string): Promise<CountingRelay> {
  const requests: RelayedRequest[] = [];
  const cacheControl = new Map<string, string | undefined>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, authorization: req.headers.authorization });
    const headers: IncomingHttpHeaders = { ...req.headers, host: new URL(upstream).host };
    const up = request(new URL(path, upstream), { method: req.method ?? 'GET', headers, ca: caPem, agent: false, timeout: 10_000 }, (upRes) => {
      const chunks: Buffer[] = [];
      let size = 0;
      upRes.on('data', (b: Buffer) => { size += b.length; if (size <= MAX_BODY) chunks.push(b); });
      upRes.on('end', () => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers)) {
          if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-length') out[k] = v;
        }
        const name = [...cacheControl.keys()].find((n) => path.endsWith(`/${n}.json`));
        if (name !== undefined) {
          const v = cacheControl.get(name);
          if (v === undefined) delete out['cache-control'];
          else out['cache-control'] = v;
        }
        res.writeHead(upRes.statusCode ?? 502, out).end(Buffer.concat(chunks));
      });
      upRes.on('error', () => res.destroy());
    });
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
    up.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    cacheControl,
    count: (name) => requests.filter((r) => r.path.endsWith(`/_trust/tuf/${name}.json`)).length,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
