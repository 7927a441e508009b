/**
 * The fast path for blob GETs from a plain-HTTP upstream (in-cluster registries and mirrors, where bandwidth
 * matters most): a keep-alive pool of SpliceConnections. A response worth splicing (200/206 with a
 * Content-Length) is moved byte-for-byte; anything else — a redirect, a 401 challenge, an error, chunked
 * encoding — makes `splice` answer `fallback`, and the caller replays the GET through undici, which handles
 * HTTP in full. HTTPS upstreams always use undici (TLS, not copying, dominates their cost).
 */
import type { ServerResponse } from 'node:http';
import { SpliceConnection } from './splice-connection.ts';
import { spliceableLength, type ResponseHead } from './response-head.ts';

export interface SplicerOptions {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Idle connections kept for reuse. */
  readonly maxIdle: number;
  /** An idle connection unused this long is closed (default splice-connection.ts IDLE_MS). */
  readonly idleMs?: number;
}

export type SpliceOutcome = { readonly spliced: true } | { readonly spliced: false; readonly reason: string };

export class BlobSplicer {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #opts: SplicerOptions;
  readonly #idle: SpliceConnection[] = [];
  readonly #passHeaders: readonly string[];

  constructor(endpoint: URL, opts: SplicerOptions, passHeaders: readonly string[]) {
    if (endpoint.protocol !== 'http:') throw new Error('BlobSplicer is for plain-HTTP upstreams');
    this.#host = endpoint.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(endpoint.port || 80);
    this.#hostHeader = endpoint.host;
    this.#opts = opts;
    this.#passHeaders = passHeaders;
  }

  /**
   * GETs `path` and, when the response is a plain sized body, writes the status, the passed headers and the
   * body into `res`. Header values must already be validated (no CR/LF): they are written as they are.
   */
  async splice(path: string, headers: Readonly<Record<string, string>>, res: ServerResponse, onBytes: (n: number) => void): Promise<SpliceOutcome> {
    let lines = `GET ${path} HTTP/1.1\r\nHost: ${this.#hostHeader}\r\nUser-Agent: pullgate\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(value)) return { spliced: false, reason: 'header value with a line break' };
      lines += `${name}: ${value}\r\n`;
    }
    const head = `${lines}\r\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const reused = this.#idle.pop();
      const conn = reused?.reusable ? reused : this.#connect();
      const result = await conn.request(head, this.#opts.headersTimeoutMs);
      if (!result.ok) {
        // A pooled connection the server closed while idle: retry once on a fresh one (GET is idempotent).
        if (result.fresh && conn === reused) continue;
        return { spliced: false, reason: result.reason };
      }
      const length = spliceableLength(result.head);
      if (length === undefined || res.destroyed) {
        conn.discard();
        return { spliced: false, reason: `upstream answered ${result.head.status}` };
      }
      res.writeHead(result.head.status, this.#responseHeaders(result.head));
      conn.pipeBody(res, result.rest, length, result.head.keepAlive, this.#opts.bodyTimeoutMs, (reusable) => {
        if (reusable) {
          onBytes(length);
          if (this.#idle.length < this.#opts.maxIdle) this.#idle.push(conn);
          else conn.discard();
        }
      });
      return { spliced: true };
    }
    return { spliced: false, reason: 'upstream closed pooled connections' };
  }

  /**
   * A new connection that leaves the idle pool the moment it dies (closed by the upstream while idle, or by its
   * idle timer): otherwise an idle gate keeps every dead pooled connection, and its 1 MiB ring, until the next
   * blob pops it — up to maxIdle MiB held by closed sockets (issue 16.4, bench/soak.ts).
   */
  #connect(): SpliceConnection {
    const conn: SpliceConnection = new SpliceConnection(this.#host, this.#port, this.#opts.connectTimeoutMs, {
      ...(this.#opts.idleMs === undefined ? {} : { idleMs: this.#opts.idleMs }),
      onDead: () => {
        const i = this.#idle.indexOf(conn);
        if (i !== -1) this.#idle.splice(i, 1);
      },
    });
    return conn;
  }

  /** Connections in the idle pool (each holds its ring of slots). */
  get idleConnections(): number {
    return this.#idle.length;
  }

  #responseHeaders(head: ResponseHead): Record<string, string> {
    const out: Record<string, string> = { 'docker-distribution-api-version': 'registry/2.0' };
    for (const name of this.#passHeaders) {
      const v = head.headers.get(name);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  close(): void {
    for (const conn of this.#idle.splice(0)) conn.discard();
  }
}
