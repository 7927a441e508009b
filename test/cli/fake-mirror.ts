/**
 * Stands in for a live pullgate where only its `GET /v2/` answer matters (doctor's liveness check), so the
 * config-shape tests need no registry. test/e2e/doctor.test.ts uses the real `pullgate serve`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMirror {
  readonly url: string;
  /** `127.0.0.1:<port>`, for pullgate's `listen`. */
  readonly listen: string;
  close(): Promise<void>;
}

export async function startFakeMirror(answer: { status: number; apiHeader: boolean } = { status: 200, apiHeader: true }): Promise<FakeMirror> {
  const server = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (answer.apiHeader) headers['docker-distribution-api-version'] = 'registry/2.0';
    res.writeHead(req.url === '/v2/' ? answer.status : 404, headers).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    listen: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
