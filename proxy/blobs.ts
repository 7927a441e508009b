/**
 * Blobs stream through untouched: they are content-addressed, and containerd checks every byte against the
 * digest in a manifest it only got from pullgate after verification. No buffering — undici's body is piped
 * into the response socket with backpressure — and a storage redirect (Docker Hub, GHCR, ECR, Artifact
 * Registry all answer blob GETs with one) is relayed to containerd instead of carrying the bytes, unless the
 * registry is configured to `follow`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { DistributionRequest } from './distribution-request.ts';
import { OciError, sendOciError } from './oci-errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { UpstreamClient } from '../registry/client.ts';
import { BLOB_RESPONSE_HEADERS } from '../registry/headers.ts';

export type BlobRequest = Extract<DistributionRequest, { kind: 'blob' }>;

export async function serveBlob(metrics: ProxyMetrics, logger: Logger, request: BlobRequest, client: UpstreamClient, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  const range = req.headers.range;
  if (typeof range === 'string') headers.range = range;
  const accept = req.headers.accept;
  if (typeof accept === 'string') headers.accept = accept;
  const scope = `repository:${request.repository}:pull`;
  const path = `/v2/${request.repository}/blobs/${request.digest.text}`;

  if (request.method === 'GET' && client.splicer !== undefined) {
    const authorization = await client.authorization(scope);
    const spliceHeaders = authorization === undefined ? headers : { ...headers, authorization };
    const outcome = await client.splicer.splice(path, spliceHeaders, res, (n) => metrics.blobBytes.inc({ registry: client.registry.host }, n));
    if (outcome.spliced) {
      client.observe('blob', 200);
      return;
    }
    // Not a plain sized body (redirect, challenge, error, chunked): undici below handles it in full.
    logger.debug({ digest: request.digest.text, reason: outcome.reason }, 'blob splice fell back to undici');
    if (res.destroyed) return;
  }

  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let up;
  try {
    up = await client.request({
      method: request.method,
      path,
      headers,
      scope,
      kind: 'blob',
      redirects: client.registry.blobRedirects === 'relay' ? 'return' : 'follow',
      signal: abort.signal,
    });
  } catch (err) {
    if (abort.signal.aborted) return;
    sendOciError(res, request.method, new OciError('UNAVAILABLE', `pullgate: blob ${request.digest.text}: upstream unavailable (${(err as Error).message})`));
    return;
  }

  const status = up.statusCode;
  if (status >= 300 && status < 400 && typeof up.headers.location === 'string') {
    up.body.resume();
    // Relay: containerd fetches from storage itself, without pullgate's Authorization (it never had it).
    const location = new URL(up.headers.location, client.registry.endpoint).toString();
    res.writeHead(307, { location, 'content-length': 0, 'docker-distribution-api-version': 'registry/2.0' });
    res.end();
    return;
  }
  if (status !== 200 && status !== 206) {
    up.body.resume();
    const code = status === 404 ? 'BLOB_UNKNOWN' : status === 429 ? 'TOOMANYREQUESTS' : status === 416 ? 'SIZE_INVALID' : 'UNAVAILABLE';
    sendOciError(res, request.method, new OciError(code, `pullgate: blob ${request.digest.text}: upstream answered HTTP ${status}`));
    return;
  }
  const out: Record<string, string | string[]> = { 'docker-distribution-api-version': 'registry/2.0' };
  for (const name of BLOB_RESPONSE_HEADERS) {
    const v = up.headers[name];
    if (v !== undefined) out[name] = v;
  }
  res.writeHead(status, out);
  if (request.method === 'HEAD') {
    up.body.resume();
    res.end();
    return;
  }
  pipeline(up.body, res, (err) => {
    if (err) {
      if (!abort.signal.aborted) logger.warn({ digest: request.digest.text, err: err.message }, 'blob stream ended early');
      return;
    }
    const length = Number(up.headers['content-length']);
    if (Number.isFinite(length)) metrics.blobBytes.inc({ registry: client.registry.host }, length);
  });
}
