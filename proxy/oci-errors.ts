/**
 * The one catalogue of OCI distribution error codes pullgate answers with, and the one place they are rendered
 * (distribution-spec § "Error Codes"). A HEAD gets the status and headers only: it has no body, which is why a
 * denial on HEAD shows no message in ctr (DESIGN.md) — the GET that follows carries it.
 */
import type { ServerResponse } from 'node:http';
import { CodedError } from '../errors/coded-error.ts';

export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE';

const STATUS: Record<OciErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  // Not in the spec's table, but a registry-style JSON error keeps clients' messages readable.
  UNAVAILABLE: 503,
};

export class OciError extends CodedError<OciErrorCode> {
  override readonly name = 'OciError';
  readonly status: number;
  constructor(code: OciErrorCode, message: string) {
    super(code, message);
    this.status = STATUS[code];
  }
}

export function sendOciError(res: ServerResponse, method: string | undefined, error: OciError): void {
  if (res.headersSent) {
    res.destroy(error);
    return;
  }
  const body = JSON.stringify({ errors: [{ code: error.code, message: error.message }] });
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'docker-distribution-api-version': 'registry/2.0',
    ...(error.code === 'UNSUPPORTED' ? { allow: 'GET, HEAD' } : {}),
  });
  res.end(method === 'HEAD' ? undefined : body);
}
