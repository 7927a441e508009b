/**
 * Test-only: CRLs served over real HTTP on loopback, and a tiny CrlSource that reaches them. The source rewrites
 * the certificates' distribution-point origin (e.g. notation's `http://localhost:10086`) to the server's, keeps a
 * cache like a production source would, and honours `refresh` (a stale CRL is fetched again).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CrlSource } from '../../../oci/discovery/fetcher.ts';

export interface CrlServer {
  readonly url: string;
  /** path → CRL bytes; a path without bytes answers 404. */
  readonly files: Map<string, Uint8Array>;
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startCrlServer(): Promise<CrlServer> {
  const files = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.byteLength }).end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, files, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export class LoopbackCrlSource implements CrlSource {
  readonly #rewrite: (url: string) => string;
  readonly #cache = new Map<string, Uint8Array>();
  readonly fetches: { url: string; refresh: boolean }[] = [];

  constructor(rewrite: (url: string) => string) {
    this.#rewrite = rewrite;
  }

  async fetchCrl(url: string, options?: { readonly refresh?: boolean }): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; reason: string }> {
    const refresh = options?.refresh === true;
    this.fetches.push({ url, refresh });
    const cached = this.#cache.get(url);
    if (cached !== undefined && !refresh) return { ok: true, bytes: cached };
    try {
      const res = await fetch(this.#rewrite(url), { signal: AbortSignal.timeout(2_000) });
      if (res.status !== 200) return { ok: false, reason: `CRL ${url} answered HTTP ${res.status}` };
      const bytes = new Uint8Array(await res.arrayBuffer());
      this.#cache.set(url, bytes);
      return { ok: true, bytes };
    } catch (err) {
      return { ok: false, reason: `CRL ${url} unreachable (${(err as Error).message})` };
    }
  }
}
