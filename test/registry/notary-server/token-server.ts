/**
 * A loopback token endpoint for notary-server's token auth (the registry token flow, docker/distribution
 * docs/spec/auth/token.md and jwt.md): it answers `GET /token?service=…&scope=…` with a JWT (ES256, the signing
 * certificate in `x5c`, which notary-server checks against its `rootcertbundle`) granting the asked actions: `pull`
 * to anyone, everything to the one Basic user. It records what it was asked.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequest { readonly scopes: string[]; readonly service: string | null; readonly authorization: string | undefined }

export interface TokenServer {
  readonly realm: string;
  readonly requests: TokenRequest[];
  close(): Promise<void>;
}

export interface TokenServerOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly issuer: string;
  readonly service: string;
  readonly user: { username: string; password: string };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const cert = new X509Certificate(readFileSync(o.certFile));
  const key = createPrivateKey(readFileSync(o.keyFile));
  const basic = `Basic ${Buffer.from(`${o.user.username}:${o.user.password}`).toString('base64')}`;
  const requests: TokenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    requests.push({ scopes, service: url.searchParams.get('service'), authorization: req.headers.authorization });
    if (url.pathname !== '/token') return void res.writeHead(404).end();
    const user = req.headers.authorization === undefined ? undefined : req.headers.authorization === basic ? o.user.username : null;
    if (user === null) return void res.writeHead(401).end();
    const access = scopes.flatMap((s) => s.split(' ')).map((s) => s.match(/^repository:(.+):([a-z,*]+)$/)).filter((m) => m !== null)
      .map((m) => ({ type: 'repository', name: m[1]!, actions: m[2]!.split(',').filter((a) => user !== undefined || a === 'pull') }));
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [cert.raw.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: o.issuer, sub: user ?? '', aud: o.service, exp: now + 300, nbf: now - 60, iat: now, jti: randomUUID(), access }));
    // JWS ES256 is the raw r‖s pair (RFC 7518 § 3.4), not DER.
    const sig = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${header}.${claims}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
