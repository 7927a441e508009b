/**
 * The few protobuf shapes the node audit exchanges with containerd, hand-encoded (wire format:
 * https://protobuf.dev/programming-guides/encoding/). We read only the fields we name, skip the rest, and refuse
 * malformed input with a typed error instead of guessing — the bytes come from a socket we do not control.
 */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

export interface Field {
  readonly field: number;
  readonly wire: 0 | 1 | 2 | 5;
  /** Varints as numbers (exact up to 2^53, enough for states and sizes); length-delimited as bytes. */
  readonly int: number;
  readonly bytes: Buffer;
}

const EMPTY = Buffer.alloc(0);

export function varint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new ProtobufError(`varint out of range: ${value}`);
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function stringField(field: number, text: string): Buffer {
  return bytesField(field, Buffer.from(text, 'utf8'));
}

export function bytesField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

export function intField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  throw new ProtobufError('truncated or overlong varint');
}

/** Every field of one message, in wire order. */
export function decodeFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    if (wire === 0) {
      const [int, next] = readVarint(buf, afterKey);
      fields.push({ field, wire, int, bytes: EMPTY });
      pos = next;
    } else if (wire === 1 || wire === 5) {
      const width = wire === 1 ? 8 : 4;
      if (afterKey + width > buf.length) throw new ProtobufError('truncated fixed-width field');
      fields.push({ field, wire, int: 0, bytes: buf.subarray(afterKey, afterKey + width) });
      pos = afterKey + width;
    } else if (wire === 2) {
      const [len, start] = readVarint(buf, afterKey);
      if (start + len > buf.length) throw new ProtobufError('length-delimited field runs past the message');
      fields.push({ field, wire, int: 0, bytes: buf.subarray(start, start + len) });
      pos = start + len;
    } else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  return fields;
}

/** A typed view: first string / all strings / all sub-messages / first varint of a field. */
export class Message {
  private readonly fields: Field[];
  constructor(buf: Buffer) {
    this.fields = decodeFields(buf);
  }
  string(field: number): string {
    return this.all(field)[0]?.toString('utf8') ?? '';
  }
  strings(field: number): string[] {
    return this.all(field).map((b) => b.toString('utf8'));
  }
  messages(field: number): Message[] {
    return this.all(field).map((b) => new Message(b));
  }
  message(field: number): Message | undefined {
    const b = this.all(field)[0];
    return b === undefined ? undefined : new Message(b);
  }
  bytes(field: number): Buffer {
    return this.all(field)[0] ?? EMPTY;
  }
  int(field: number): number {
    return this.fields.find((f) => f.field === field && f.wire === 0)?.int ?? 0;
  }
  private all(field: number): Buffer[] {
    return this.fields.filter((f) => f.field === field && f.wire === 2).map((f) => f.bytes);
  }
}
