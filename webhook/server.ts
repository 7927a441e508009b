/**
 * The webhook's listener: HTTPS with the configured certificate (reloaded on change, tls-reloader.ts), or plain
 * HTTP only on loopback without one. Routes: `POST /validate`, `POST /mutate` (pinning on), and `GET /healthz`,
 * `/readyz`, `/metrics` for the kubelet's probes and Prometheus. The apiserver appends `?timeout=…` to the
 * webhook path ("Dynamic Admission Control": timeouts), so only the path is routed on.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { HostPort } from '../config/types.ts';
import { isLoopback } from '../config/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AdmissionHandler } from './admission-handler.ts';
import type { WebhookMetrics } from './metrics.ts';
import { CertificateReloader, contextOptions, fileStamp, readKeyPair, type TlsFiles } from './tls-reloader.ts';

export interface WebhookServerOptions {
  readonly listen: HostPort;
  /** undefined: plain HTTP, allowed only on loopback. */
  readonly tls: TlsFiles | undefined;
  readonly handler: AdmissionHandler;
  readonly pinning: boolean;
  readonly maxBodyBytes: number;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** undefined when ready; otherwise why not. */
  readonly notReadyReason: () => string | undefined;
  /** How often the TLS files are polled for a rotation. */
  readonly tlsPollMs?: number;
}

export interface RunningWebhookServer {
  readonly server: Server;
  readonly url: string;
  readonly reloader: CertificateReloader | undefined;
  close(): Promise<void>;
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<RunningWebhookServer> {
  const listener = (req: IncomingMessage, res: ServerResponse) => route(opts, req, res);
  let server: Server;
  let reloader: CertificateReloader | undefined;
  if (opts.tls === undefined) {
    if (!isLoopback(opts.listen.host)) throw new Error(`webhook: plain HTTP on ${opts.listen.host} is not loopback; configure webhook.tlsCert and webhook.tlsKey`);
    server = createHttpServer(listener);
  } else {
    // Stamp first, so a rotation racing this start is seen by the first poll; unreadable files are reported
    // by readKeyPair with their names.
    const stamp = await fileStamp(opts.tls).catch(() => '');
    const pair = await readKeyPair(opts.tls);
    // With a client CA the server asks every client for a certificate, but does not end the handshake when
    // none comes: kubelet's probes and Prometheus present none and must still reach /healthz, /readyz and
    // /metrics. The review endpoints require one that chains to the CA (route()), so nobody but the API server
    // reaches the rules, the resolver or the registry credentials behind them.
    const clientAuth = opts.tls.clientCaFile === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
    const https = createHttpsServer({ ...contextOptions(pair), ...clientAuth }, listener);
    reloader = new CertificateReloader(https, opts.tls, opts.logger, (r) => {
      if (r !== 'unchanged') opts.metrics.tlsReloads.inc({ result: r === 'reloaded' ? 'ok' : 'failed' });
    });
    reloader.start(opts.tlsPollMs ?? 1000, stamp);
    server = https;
  }
  // The apiserver keeps connections open between reviews; a slow or stuck client is cut off.
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host;
  return {
    server,
    url: `${opts.tls === undefined ? 'http' : 'https'}://${host}:${port}`,
    reloader,
    async close() {
      reloader?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function route(opts: WebhookServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/validate' || path === '/mutate') {
    if (opts.tls?.clientCaFile !== undefined && !(req.socket as TLSSocket).authorized) {
      req.resume();
      const why = (req.socket as TLSSocket).authorizationError;
      opts.logger.warn({ endpoint: path, remote: req.socket.remoteAddress, why: why === undefined ? 'no client certificate' : String(why) }, 'review refused: client certificate required (webhook.clientCaFile)');
      return text(res, 403, 'a client certificate issued by webhook.clientCaFile is required\n', { connection: 'close' });
    }
    if (req.method !== 'POST') return text(res, 405, 'use POST with an AdmissionReview\n', { allow: 'POST' });
    if (path === '/mutate' && !opts.pinning) {
      // The mutating webhook is registered only with pinning on; a call here is a misconfiguration, and the
      // 404 makes the apiserver apply the webhook's failurePolicy rather than silently skip pinning.
      req.resume();
      return text(res, 404, 'pinning is disabled (webhook.pinning: false); /mutate is not served, use /validate\n');
    }
    return void review(opts, req, res, path === '/mutate' ? 'mutate' : 'validate');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/healthz') return text(res, 200, 'ok\n');
  if (path === '/readyz') {
    const reason = opts.notReadyReason();
    return reason === undefined ? text(res, 200, 'ready\n') : text(res, 503, `not ready: ${reason}\n`);
  }
  if (path === '/metrics') {
    opts.metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': opts.metrics.registry.contentType }).end(body),
      (err: Error) => text(res, 500, `metrics failed: ${err.message}\n`),
    );
    return;
  }
  text(res, 404, 'not found\n');
}

async function review(opts: WebhookServerOptions, req: IncomingMessage, res: ServerResponse, endpoint: 'validate' | 'mutate'): Promise<void> {
  const body = await readBody(req, opts.maxBodyBytes);
  if (typeof body !== 'string') {
    opts.metrics.record('error', 'bad_request', 0);
    opts.logger.warn({ endpoint, code: 'BODY_TOO_LARGE' }, body.problem);
    // Stop reading an oversized body: answer, then drop the connection.
    res.once('finish', () => req.destroy());
    return text(res, 400, `${body.problem}\n`, { connection: 'close' });
  }
  try {
    const answer = await opts.handler.handle(body, endpoint, endpoint === 'mutate');
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body) }).end(answer.body);
  } catch (err) {
    // The handler turns every decision failure into a denial; reaching this is a bug. The apiserver treats a
    // 500 by the webhook's failurePolicy (Fail in daemonset/), so this still does not allow anything.
    opts.logger.error({ err }, 'admission handler failed');
    text(res, 500, 'internal error\n');
  }
}

/** The body as text, or why not: larger than `max` (announced or actual), or the client went away. */
function readBody(req: IncomingMessage, max: number): Promise<string | { problem: string }> {
  const tooLarge = { problem: `AdmissionReview body larger than the ${max}-byte limit (webhook.maxBodyBytes)` };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: string | { problem: string }) => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > max) {
        req.pause();
        settle(tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle(Buffer.concat(chunks).toString('utf8')));
    req.on('error', (err) => settle({ problem: `reading the body failed: ${err.message}` }));
  });
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}
