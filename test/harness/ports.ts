// A free TCP port on loopback. The kernel picks it (listen on port 0), we release it and hand the
// number to a peer that binds it a few milliseconds later. There is a small window in which another
// process could take it; peers fail fast on EADDRINUSE and the error names the port, which is good
// enough for tests and far simpler than passing listening sockets to Go or C daemons.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A loopback port that is closed: one the kernel just gave us, released again and not handed to any peer. A
 * connection to it is refused, which "well-known" ports (9, 1) do not promise: a discard service or anything
 * else may listen there. Use it where a test needs an upstream that is down.
 */
export const closedPort = freePort;

/** `http://127.0.0.1:<closedPort>`: an endpoint that refuses connections. */
export async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}
