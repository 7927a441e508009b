/**
 * Test-only: pulls the pieces the timestamp/x509 primitives need out of a Notary Project envelope — the raw
 * signature bytes, the x5c chain and the `io.cncf.notary.timestampSignature` unprotected header — without the
 * real envelope parser (another module's job). JWS: JSON serialization (signature-envelope-jws.md). COSE:
 * COSE_Sign1 (tag 18) decoded with a minimal CBOR reader (RFC 8949), enough for these vectors.
 */

export interface EnvelopeParts {
  readonly signature: Uint8Array;
  readonly x5c: Uint8Array[];
  readonly timestampToken: Uint8Array | null;
}

const TS_HEADER = 'io.cncf.notary.timestampSignature';

export function extractJws(text: string): EnvelopeParts {
  const env = JSON.parse(text) as { signature: string; header: Record<string, unknown> };
  const x5c = (env.header['x5c'] as string[]).map((c) => new Uint8Array(Buffer.from(c, 'base64')));
  const ts = env.header[TS_HEADER];
  return {
    signature: new Uint8Array(Buffer.from(env.signature, 'base64url')),
    x5c,
    timestampToken: typeof ts === 'string' ? new Uint8Array(Buffer.from(ts, 'base64')) : null,
  };
}

type Cbor = number | bigint | string | Uint8Array | boolean | null | Cbor[] | Map<Cbor, Cbor> | { tag: number; value: Cbor };

function decodeCbor(buf: Uint8Array): Cbor {
  let pos = 0;
  const arg = (info: number): number => {
    if (info < 24) return info;
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : -1;
    if (n < 0 || pos + n > buf.length) throw new Error('bad CBOR argument');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + buf[pos++]!;
    return v;
  };
  const item = (depth: number): Cbor => {
    if (depth > 32 || pos >= buf.length) throw new Error('bad CBOR');
    const ib = buf[pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    const n = major === 7 ? info : arg(info);
    switch (major) {
      case 0: return n;
      case 1: return -1 - n;
      case 2: pos += n; return buf.subarray(pos - n, pos);
      case 3: pos += n; return Buffer.from(buf.subarray(pos - n, pos)).toString('utf8');
      case 4: return Array.from({ length: n }, () => item(depth + 1));
      case 5: {
        const m = new Map<Cbor, Cbor>();
        for (let i = 0; i < n; i++) m.set(item(depth + 1), item(depth + 1));
        return m;
      }
      case 6: return { tag: n, value: item(depth + 1) };
      default: return n === 20 ? false : n === 21 ? true : null;
    }
  };
  return item(0);
}

export function extractCose(bytes: Uint8Array): EnvelopeParts {
  const top = decodeCbor(bytes) as { tag: number; value: Cbor[] };
  if (top.tag !== 18) throw new Error('not COSE_Sign1');
  const [, unprotected, , signature] = top.value as [Uint8Array, Map<Cbor, Cbor>, Uint8Array, Uint8Array];
  const chain = unprotected.get(33);
  const x5c = chain instanceof Uint8Array ? [chain] : (chain as Uint8Array[]);
  const ts = unprotected.get(TS_HEADER);
  return { signature, x5c, timestampToken: ts instanceof Uint8Array ? ts : null };
}

export function extractEnvelope(bytes: Uint8Array): EnvelopeParts {
  return bytes[0] === 0x7b ? extractJws(Buffer.from(bytes).toString('utf8')) : extractCose(bytes);
}
