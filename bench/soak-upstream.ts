/**
 * A faulty upstream for bench/soak.ts: an HTTP front for the real registry that, per request and by a seeded
 * draw, answers normally or fails the way registries and networks do — a connection reset before any answer,
 * a stall (no answer until the client gives up), a 503, or a reset halfway through a blob body. Counts what it
 * did, so the soak can tell the gate's refusals under faults from wrong answers.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { random } from './budget-stats.ts';

export type Fault = 'none' | 'reset' | 'stall' | '503' | 'cut-body';

export interface FaultyUpstream {
  readonly host: string;
  readonly url: string;
  readonly counts: Record<Fault, number>;
  close(): Promise<void>;
}

/** Fraction of requests per fault; the rest are relayed untouched. */
export interface FaultRates {
  readonly reset: number;
  readonly stall: number;
  readonly status503: number;
  readonly cutBody: number;
}

export async function startFaultyUpstream(registryHostPort: string, rates: FaultRates, seed = 16): Promise<FaultyUpstream> {
  const [host, port] = [registryHostPort.slice(0, registryHostPort.lastIndexOf(':')), Number(registryHostPort.slice(registryHostPort.lastIndexOf(':') + 1))];
  const draw = random(seed); // seeded: a soak run's fault sequence can be repeated
  const counts: Record<Fault, number> = { none: 0, reset: 0, stall: 0, '503': 0, 'cut-body': 0 };
  const stalled = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const x = draw();
    const isBlob = req.url?.includes('/blobs/') === true;
    let fault: Fault = 'none';
    if (x < rates.reset) fault = 'reset';
    else if (x < rates.reset + rates.stall) fault = 'stall';
    else if (x < rates.reset + rates.stall + rates.status503) fault = '503';
    else if (isBlob && x < rates.reset + rates.stall + rates.status503 + rates.cutBody) fault = 'cut-body';
    counts[fault]++;
    if (fault === 'reset') return void req.socket.destroy();
    if (fault === 'stall') {
      // Held until the client hangs up (its timeout) or the soak ends; never answered.
      stalled.add(req.socket);
      req.socket.once('close', () => stalled.delete(req.socket));
      return;
    }
    if (fault === '503') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"soak fault"}]}');
    const up = request({ host, port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault !== 'cut-body') return void upRes.pipe(res);
      let sent = 0;
      upRes.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        res.write(chunk);
        if (sent >= 1024) {
          upRes.destroy();
          req.socket.destroy();
        }
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const bound = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host: bound,
    url: `http://${bound}`,
    counts,
    async close() {
      for (const s of stalled) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
