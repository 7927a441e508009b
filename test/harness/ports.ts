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
