/**
 * gRPC over containerd's unix socket with node:http2 (gRPC over HTTP/2:
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). Unary and server-streaming calls share one
 * path: send one length-prefixed message, collect the reply frames, read grpc-status from the trailers. Bounded:
 * a deadline per call and a byte cap on the reply. Transport failures become ContainerdError with a closed code.
 */
import { connect as http2Connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { CodedError } from '../../errors/coded-error.ts';

export type ContainerdErrorCode = 'socket_missing' | 'permission_denied' | 'unreachable' | 'timeout' | 'too_large' | 'protocol';

export class ContainerdError extends CodedError<ContainerdErrorCode> {
  override readonly name = 'ContainerdError';
}

export interface GrpcReply {
  /** 0 OK; 5 NOT_FOUND; others as in https://grpc.github.io/grpc/core/md_doc_statuscodes.html */
  readonly status: number;
  readonly message: string;
  readonly frames: Buffer[];
}

export interface CallOptions {
  readonly namespace?: string;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/** One HTTP/2 session to the socket; calls are multiplexed on it. */
export class GrpcConnection {
  private session: ClientHttp2Session | undefined;
  private failure: ContainerdError | undefined;

  readonly socket: string;
  constructor(socket: string) {
    this.socket = socket;
  }

  private open(): ClientHttp2Session {
    if (this.session !== undefined && !this.session.destroyed && !this.session.closed) return this.session;
    this.failure = undefined;
    const session = http2Connect('http://localhost', { createConnection: () => netConnect(this.socket) });
    session.on('error', (err: NodeJS.ErrnoException) => {
      this.failure = transportError(this.socket, err);
    });
    this.session = session;
    return session;
  }

  call(path: string, request: Buffer, opts: CallOptions = {}): Promise<GrpcReply> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const session = this.open();
      const headers: Record<string, string> = {
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
      };
      // containerd selects the namespace from this metadata key (namespaces.GRPCHeader in containerd's source).
      if (opts.namespace !== undefined) headers['containerd-namespace'] = opts.namespace;
      const stream = session.request(headers);
      let settled = false;
      const done = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => done(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(new ContainerdError('timeout', `containerd ${path}: no reply within ${timeoutMs} ms`));
      }), timeoutMs);
      const chunks: Buffer[] = [];
      let received = 0;
      let status: { status: number; message: string } | undefined;
      const takeStatus = (h: Record<string, unknown>): void => {
        if (h['grpc-status'] === undefined) return;
        let message = String(h['grpc-message'] ?? '');
        try { message = decodeURIComponent(message); } catch { /* not percent-encoded */ }
        status = { status: Number(h['grpc-status']), message };
      };
      stream.on('response', takeStatus); // trailers-only replies carry the status in the headers
      stream.on('trailers', takeStatus);
      stream.on('data', (b: Buffer) => {
        received += b.length;
        if (received > maxBytes) {
          stream.close(constants.NGHTTP2_CANCEL);
          done(() => reject(new ContainerdError('too_large', `containerd ${path}: reply exceeds ${maxBytes} bytes`)));
          return;
        }
        chunks.push(b);
      });
      stream.on('error', (err: NodeJS.ErrnoException) => done(() => reject(this.failure ?? transportError(this.socket, err))));
      stream.on('close', () => done(() => {
        if (status === undefined) {
          reject(this.failure ?? new ContainerdError('protocol', `containerd ${path}: stream ended without grpc-status`));
          return;
        }
        try {
          resolve({ ...status, frames: splitFrames(Buffer.concat(chunks)) });
        } catch (err) {
          reject(err);
        }
      }));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(request.length, 1); // byte 0 = 0: not compressed
      stream.end(Buffer.concat([prefix, request]));
    });
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}

function splitFrames(data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 5 > data.length) throw new ContainerdError('protocol', 'truncated gRPC frame header');
    if (data[pos] !== 0) throw new ContainerdError('protocol', 'compressed gRPC frame (not requested)');
    const len = data.readUInt32BE(pos + 1);
    if (pos + 5 + len > data.length) throw new ContainerdError('protocol', 'truncated gRPC frame');
    frames.push(data.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  return frames;
}

function transportError(socket: string, thrown: NodeJS.ErrnoException): ContainerdError {
  // A stream canceled because its session never connected carries the socket error as its cause.
  const cause = thrown.cause as NodeJS.ErrnoException | undefined;
  const err = cause !== undefined && typeof cause.code === 'string' && cause.code.startsWith('E') && !cause.code.startsWith('ERR_') ? cause : thrown;
  if (err.code === 'ENOENT') return new ContainerdError('socket_missing', `containerd socket ${socket} does not exist (is containerd running? set audit.containerdSocket or --containerd-socket)`);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new ContainerdError('permission_denied', `permission denied opening containerd socket ${socket} (audit needs read/write access to the socket: run as root or mount it into the pod)`);
  if (err.code === 'ECONNREFUSED') return new ContainerdError('unreachable', `nothing listens on containerd socket ${socket} (ECONNREFUSED)`);
  return new ContainerdError('unreachable', `containerd socket ${socket}: ${err.message}`);
}
