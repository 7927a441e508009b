/**
 * A loopback HTTP relay in front of the real registry whose behaviour the test switches: `forward` passes every
 * request through untouched; `hold` parks the requests a predicate picks until `release()` (so a decision is
 * provably in flight, with no timing guess); `unavailable` answers 503 itself, a registry outage as the gate sees
 * it. Every answer that is not a 503 of `unavailable` mode is the registry's own.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SwitchableRelay {
  /** "127.0.0.1:PORT" */
  readonly host: string;
  readonly url: string;
  /** Requests parked right now. */
  heldCount(): number;
  /** Parks, from now on, every request for which `pick(method, path)` is true. */
  hold(pick: (method: string, path: string) => boolean): void;
  /** Forwards everything parked and stops parking. */
  release(): void;
  /** Answers 503 to everything from now on (parked requests included), or forwards again. */
  setUnavailable(down: boolean): void;
  close(): Promise<void>;
}

export async function startSwitchableRelay(targetUrl: string): Promise<SwitchableRelay> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:') throw new Error(`startSwitchableRelay: ${targetUrl}: only http targets are relayed`);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let pick: ((method: string, path: string) => boolean) | undefined;
  let down = false;
  let parked: { req: IncomingMessage; res: ServerResponse }[] = [];

  const unavailable = (res: ServerResponse): void => {
    const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'relay: registry down (test)' }] });
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  };
  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (down) return unavailable(res);
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // A broken exchange upstream breaks the one downstream; it never becomes an answer.
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    if (pick?.(req.method ?? 'GET', req.url ?? '/')) parked.push({ req, res });
    else forward(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const releaseAll = (): void => {
    pick = undefined;
    const now = parked;
    parked = [];
    for (const p of now) forward(p.req, p.res);
  };
  return {
    host,
    url: `http://${host}`,
    heldCount: () => parked.length,
    hold: (p) => void (pick = p),
    release: releaseAll,
    setUnavailable(value) {
      down = value;
      if (down) releaseAll();
    },
    async close() {
      pick = undefined;
      parked = [];
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
