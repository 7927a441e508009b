// A loopback HTTP relay in front of a real peer (the registry) that can hold chosen requests back until the
// test releases them. It answers nothing itself: every request is forwarded as it came, and every answer is the
// peer's. What it adds is order: "these upstream requests may not be answered before the test has seen X" —
// e.g. 50 concurrent pulls all inside the gate before the first verification may finish, which timing alone
// never guarantees.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RelayedRequest {
  readonly method: string;
  readonly path: string;
  readonly held: boolean;
}

export interface HoldingRelay {
  /** "127.0.0.1:PORT" */
  readonly host: string;
  readonly url: string;
  /** Every request received so far, oldest first. */
  readonly requests: readonly RelayedRequest[];
  /** Requests currently waiting to be forwarded. */
  heldCount(): number;
  /** Forwards everything held and stops holding from now on. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a relay to `targetUrl` (http only) that holds requests for which `hold(method, path)` is true. */
export async function startHoldingRelay(targetUrl: string, hold: (method: string, path: string) => boolean): Promise<HoldingRelay> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:') throw new Error(`startHoldingRelay: ${targetUrl}: only http targets are relayed`);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const requests: RelayedRequest[] = [];
  let waiting: (() => void)[] = [];
  let holding = true;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: target.host },
      agent,
    }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // Fail closed: a broken upstream exchange breaks the downstream one, never turns into an answer.
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const held = holding && hold(method, path);
    requests.push({ method, path, held });
    if (held) waiting.push(() => forward(req, res));
    else forward(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    requests,
    heldCount: () => waiting.length,
    release() {
      holding = false;
      const now = waiting;
      waiting = [];
      for (const go of now) go();
    },
    async close() {
      holding = false;
      waiting = [];
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
