/**
 * A bounded parser for an HTTP/1.1 response head (RFC 9112 § 4–5), for the blob splice path. It only has to
 * recognise the one shape worth splicing — `200`/`206` with a `Content-Length` and no `Transfer-Encoding` —
 * everything else makes the caller fall back to undici, which handles HTTP in full.
 */

export const MAX_HEAD_BYTES = 64 * 1024;

export interface ResponseHead {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its first value (the ones we read must not repeat anyway). */
  readonly headers: ReadonlyMap<string, string>;
  /** Header names seen more than once. */
  readonly repeated: ReadonlySet<string>;
  readonly keepAlive: boolean;
}

export type HeadParse =
  | { readonly done: false }
  | { readonly done: true; readonly head: ResponseHead; readonly bodyStart: number }
  | { readonly done: true; readonly error: string };

const CRLFCRLF = Buffer.from('\r\n\r\n');

export function parseResponseHead(buf: Buffer): HeadParse {
  const end = buf.indexOf(CRLFCRLF);
  if (end === -1) return buf.length > MAX_HEAD_BYTES ? { done: true, error: 'response head too large' } : { done: false };
  if (end > MAX_HEAD_BYTES) return { done: true, error: 'response head too large' };
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return { done: true, error: 'malformed status line' };
  const headers = new Map<string, string>();
  const repeated = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    // obs-fold (a line starting with whitespace) and nameless lines are errors (RFC 9112 § 5.2).
    if (colon <= 0 || line[0] === ' ' || line[0] === '\t') return { done: true, error: 'malformed header line' };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (headers.has(name)) repeated.add(name);
    else headers.set(name, value);
  }
  const connection = (headers.get('connection') ?? '').toLowerCase();
  const keepAlive = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { done: true, head: { status: Number(m[2]), headers, repeated, keepAlive }, bodyStart: end + 4 };
}

/** The body length when the head is one we can splice byte-for-byte, else undefined. */
export function spliceableLength(head: ResponseHead): number | undefined {
  if (head.status !== 200 && head.status !== 206) return undefined;
  if (head.headers.has('transfer-encoding') || head.repeated.has('content-length')) return undefined;
  const text = head.headers.get('content-length');
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}
