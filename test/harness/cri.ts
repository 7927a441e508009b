// A minimal CRI client: the exact gRPC call kubelet makes to pull an image, over containerd's unix
// socket, with node:http2 and a hand-written protobuf codec (crictl is not packaged in Debian 12 and
// we add no gRPC dependency for two messages). Only the fields we need are encoded/decoded:
//   PullImageRequest  { ImageSpec image = 1; }   ImageSpec { string image = 1; }
//   PullImageResponse { string image_ref = 1; }
import { connect as http2Connect, constants } from 'node:http2';
import { connect as netConnect } from 'node:net';

export type CriPullResult = { ok: true; imageRef: string } | { ok: false; grpcStatus: number; message: string };

export interface GrpcReply { grpcStatus: number; message: string; body: Buffer }

function varint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2): strings and embedded messages. */
function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

export function encodePullImageRequest(image: string): Buffer {
  const imageSpec = lengthDelimited(1, Buffer.from(image, 'utf8'));
  return lengthDelimited(1, imageSpec);
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  throw new Error('protobuf: truncated varint');
}

/** Returns the string fields of a message by field number (last one wins); skips other wire types. */
export function decodeStringFields(buf: Buffer): Map<number, string> {
  const fields = new Map<number, string>();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) pos = readVarint(buf, afterKey)[1];
    else if (wireType === 1) pos = afterKey + 8;
    else if (wireType === 5) pos = afterKey + 4;
    else if (wireType === 2) {
      const [len, start] = readVarint(buf, afterKey);
      fields.set(field, buf.subarray(start, start + len).toString('utf8'));
      pos = start + len;
    } else throw new Error(`protobuf: unsupported wire type ${wireType}`);
  }
  return fields;
}

/** One unary gRPC call over a unix socket. Transport failures reject; gRPC errors resolve. */
export function grpcUnary(socket: string, path: string, request: Buffer, timeoutMs = 60000): Promise<GrpcReply> {
  return new Promise((resolve, reject) => {
    const session = http2Connect('http://localhost', { createConnection: () => netConnect(socket) });
    const timer = setTimeout(() => { session.destroy(); reject(new Error(`gRPC ${path}: no reply within ${timeoutMs} ms`)); }, timeoutMs);
    const finish = (fn: () => void): void => { clearTimeout(timer); session.close(); fn(); };
    session.on('error', (err) => finish(() => reject(new Error(`gRPC ${path} via ${socket}: ${err.message}`))));
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(request.length, 1); // byte 0 = 0: not compressed
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${timeoutMs}m`,
    });
    const chunks: Buffer[] = [];
    let status: { grpcStatus: number; message: string } | undefined;
    const takeStatus = (headers: Record<string, unknown>): void => {
      const raw = headers['grpc-status'];
      if (raw === undefined) return;
      const message = String(headers['grpc-message'] ?? '');
      let decoded = message;
      try { decoded = decodeURIComponent(message); } catch { /* not percent-encoded */ }
      status = { grpcStatus: Number(raw), message: decoded };
    };
    stream.on('response', takeStatus); // "trailers-only" error replies put the status in the headers
    stream.on('trailers', takeStatus);
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('error', (err) => finish(() => reject(new Error(`gRPC ${path}: ${err.message}`))));
    stream.on('end', () => finish(() => {
      if (status === undefined) { reject(new Error(`gRPC ${path}: stream ended without grpc-status`)); return; }
      const data = Buffer.concat(chunks);
      const body = data.length >= 5 ? data.subarray(5, 5 + data.readUInt32BE(1)) : Buffer.alloc(0);
      resolve({ ...status, body });
    }));
    stream.end(Buffer.concat([frame, request]));
  });
}

/** runtime.v1 ImageService/PullImage, as kubelet calls it (no auth, no sandbox config). */
export async function criPullImage(socket: string, image: string, timeoutMs = 120000): Promise<CriPullResult> {
  const reply = await grpcUnary(socket, '/runtime.v1.ImageService/PullImage', encodePullImageRequest(image), timeoutMs);
  if (reply.grpcStatus !== 0) return { ok: false, grpcStatus: reply.grpcStatus, message: reply.message };
  return { ok: true, imageRef: decodeStringFields(reply.body).get(1) ?? '' };
}

/** True once the CRI plugin serves requests (it initialises after the socket is up). */
export async function criReady(socket: string): Promise<boolean> {
  const reply = await grpcUnary(socket, '/runtime.v1.RuntimeService/Version', Buffer.alloc(0), 2000);
  return reply.grpcStatus === 0;
}
