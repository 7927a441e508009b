/**
 * A loopback TCP relay that puts a network distance between its clients and a registry (bench/wan.ts): every
 * chunk is held for the one-way delay (RTT/2) in each direction, as netem's `delay` would, without needing a
 * network namespace. A new connection also pays one RTT before its first byte reaches the registry — the TCP
 * handshake a real distance costs (no TLS here: a real registry adds one more RTT per new connection with TLS
 * 1.3). Bandwidth is not limited: on a WAN the round trips, not the bytes, are what a pull of small layers waits
 * for. The relay also notes every HTTP request line it forwards, with its time and connection, so the bench can
 * say which requests a pull made and how they overlapped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RelayedRequest {
  /** ms since the relay started (performance.now() based). */
  readonly at: number;
  readonly connection: number;
  readonly method: string;
  readonly path: string;
}

export interface DelayRelay {
  readonly host: string;
  readonly url: string;
  /** Round-trip time added, in ms; changeable between runs (applies to chunks forwarded after the change). */
  rttMs: number;
  /** Requests and new connections since the last `take()`, then forgets them. */
  take(): { requests: RelayedRequest[]; connections: number };
  close(): Promise<void>;
}

/** Above this many bytes waiting in the delay line of one direction, the sender is paused (bounded memory). */
const MAX_QUEUED = 16 * 1024 * 1024;
const REQUEST_LINE = /(GET|HEAD|POST|PUT|PATCH|DELETE) (\/\S*) HTTP\/1\.[01]\r\n/g;

export async function startDelayRelay(targetHostPort: string, rttMs: number): Promise<DelayRelay> {
  const [targetHost, targetPort] = [targetHostPort.slice(0, targetHostPort.lastIndexOf(':')), Number(targetHostPort.slice(targetHostPort.lastIndexOf(':') + 1))];
  const t0 = performance.now();
  let requests: RelayedRequest[] = [];
  let connections = 0;
  let nextId = 0;
  const open = new Set<Socket>();

  /**
   * Forwards `from` → `to` with the one-way delay, not before `notBefore()` (the handshake). One FIFO per
   * direction drained by one timer: a timer per chunk can fire out of order (Node schedules against the loop's
   * cached clock, so two chunks read in one loop turn may swap), and reordered bytes corrupt the stream.
   */
  const pipeDelayed = (from: Socket, to: Socket, relay: DelayRelay, notBefore: () => number, onData?: (chunk: Buffer) => void) => {
    const line: { due: number; chunk: Buffer }[] = [];
    let queued = 0;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      while (line.length > 0 && line[0]!.due <= now) {
        const { chunk } = line.shift()!;
        queued -= chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
      if (queued <= MAX_QUEUED && from.isPaused()) from.resume();
      if (line.length > 0) timer = setTimeout(pump, Math.max(1, line[0]!.due - now));
      else if (ended && !to.destroyed) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      onData?.(chunk);
      queued += chunk.length;
      if (queued > MAX_QUEUED) from.pause();
      // Dues never decrease along the line, so the FIFO is also in due order.
      const due = Math.max(performance.now() + relay.rttMs / 2, notBefore(), line.at(-1)?.due ?? 0);
      line.push({ due, chunk });
      timer ??= setTimeout(pump, Math.max(0, due - performance.now()));
    });
    from.on('end', () => {
      ended = true;
      timer ??= setTimeout(pump, relay.rttMs / 2);
    });
  };

  const server: Server = createServer((client) => {
    const id = nextId++;
    connections++;
    open.add(client);
    const accepted = performance.now();
    const handshakeDone = () => accepted + relay.rttMs;
    const upstream = connect({ host: targetHost, port: targetPort });
    open.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', () => setTimeout(closeBoth, relay.rttMs * 2 + 10));
    upstream.on('close', () => setTimeout(closeBoth, relay.rttMs * 2 + 10));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    pipeDelayed(client, upstream, relay, () => handshakeDone() + relay.rttMs / 2, (chunk) => {
      const now = performance.now() - t0;
      for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) requests.push({ at: now, connection: id, method: m[1]!, path: m[2]! });
    });
    pipeDelayed(upstream, client, relay, () => 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const relay: DelayRelay = {
    host,
    url: `http://${host}`,
    rttMs,
    take() {
      const out = { requests, connections };
      requests = [];
      connections = 0;
      return out;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}
