/**
 * A loopback HTTPS relay in front of the real notary-server that rewrites chosen answers: a man in the middle of the
 * trust-server connection, for "tampered metadata is denied" (NOTARYV1.md, order of checks: every file's bytes must
 * hash to what the timestamp/snapshot lists). It serves notary-server's own certificate (SAN IP:127.0.0.1, same CA),
 * so a client configured for the server trusts the relay too, and only the bytes decide. Every answer it does not
 * rewrite is the server's own, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { NotaryPeers } from './notary.ts';

/** Gets the request path without its query (`/v2/<gun>/_trust/tuf/<role>.json`) and the server's body; returns new bytes or undefined. */
export type Tamper = (path: string, body: Buffer) => Buffer | undefined;

export interface TamperRelay {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** Paths of the answers rewritten so far, oldest first. */
  readonly tampered: readonly string[];
  /** Every request path relayed so far. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/** Trust files are a few KB; anything far larger is refused rather than buffered. */
const MAX_BODY = 4 * 1024 * 1024;

/**
 * Flips one byte of a signature's base64 (`"sig":"…"`): still valid JSON with the same shape, but no longer the bytes
 * the snapshot hashed, nor a valid signature. Throws when the body has no signature (nothing to tamper with).
 */
export function flipSignatureByte(body: Buffer): Buffer {
  const at = body.indexOf('"sig":"');
  if (at < 0) throw new Error('flipSignatureByte: no "sig" in the body');
  const i = at + '"sig":"'.length;
  const out = Buffer.from(body);
  out[i] = out[i] === 0x41 ? 0x42 : 0x41; // 'A' <-> 'B' (both base64)
  return out;
}

export async function startTamperRelay(notary: NotaryPeers, tamper: Tamper): Promise<TamperRelay> {
  const target = new URL(notary.url);
  const agent = new Agent({ keepAlive: true, ca: notary.caPem, maxSockets: 32 });
  const tampered: string[] = [];
  const requests: string[] = [];
  const server = createServer({ cert: readFileSync(notary.serverCertFile), key: readFileSync(notary.serverKeyFile) }, (req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host }, agent }, (answer) => {
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on('data', (b: Buffer) => {
        size += b.length;
        if (size > MAX_BODY) { answer.destroy(); res.destroy(); } else chunks.push(b);
      });
      answer.on('end', () => {
        const body = Buffer.concat(chunks);
        const changed = answer.statusCode === 200 ? tamper(path.split('?')[0]!, body) : undefined;
        if (changed !== undefined) tampered.push(path);
        const out = changed ?? body;
        const headers = { ...answer.headers, 'content-length': String(out.length) };
        delete headers['transfer-encoding'];
        res.writeHead(answer.statusCode ?? 502, headers).end(out);
      });
      answer.on('error', () => res.destroy());
    });
    // A broken exchange upstream breaks the one downstream; it never becomes an answer.
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    tampered,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
