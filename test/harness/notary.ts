/**
 * Docker Content Trust's real servers on loopback (Debian's notary 0.7.0, REAL-PEERS §7): notary-signer (gRPC,
 * holds the timestamp and server-managed snapshot keys) and notary-server (the TUF metadata HTTP API), both with
 * memory storage and mutual TLS between them, each with a fresh state directory removed on stop. Plus the real
 * `notary` client (notary-client.ts) and a raw GET of the served metadata bytes, which is what a verifier reads.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { notaryClient, type NotaryClient } from './notary-client.ts';
import { makeNotaryTls } from './notary-pki.ts';
import { freePort } from './ports.ts';
import { makeStateDir, removeStateDir, startReadyPeer, tcpProbe, type ReadyPeer } from './processes.ts';

export { NOTARY_PASSPHRASES, NotaryCommandError, notaryClient } from './notary-client.ts';
export type { ListedTarget, NotaryClient, NotaryRunResult } from './notary-client.ts';
export { makeDelegationKey } from './notary-pki.ts';
export type { DelegationKey, DelegationKeyAlgorithm, DelegationKeyOptions } from './notary-pki.ts';

export interface TrustFile {
  status: number;
  headers: IncomingHttpHeaders;
  /** The exact bytes served (the server escapes <, > and & in JSON strings; signatures cover canonical JSON). */
  body: Buffer;
}

export interface NotaryPeers {
  /** https://127.0.0.1:PORT, notary-server's API. */
  readonly url: string;
  /** PEM CA that issued the server's certificate (and the signer's). */
  readonly caFile: string;
  readonly caPem: string;
  /** notary-server's TLS certificate (SAN IP:127.0.0.1, issued by caFile) and key: a test relay can serve as the server. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** notary-signer's gRPC port on 127.0.0.1 (mutual TLS: it requires a client certificate from the CA). */
  readonly signerGrpcPort: number;
  readonly serverPid: number;
  readonly signerPid: number;
  readonly serverLogFile: string;
  readonly signerLogFile: string;
  /** A `notary` client with a fresh trust directory of its own (a second call for one GUN is another signer). */
  client(gun: string): NotaryClient;
  /** GET /v2/<gun>/_trust/tuf/<name>.json, e.g. name `root`, `targets/releases`, `2.root`, `snapshot.<hex>`. */
  trustFile(gun: string, name: string): Promise<TrustFile>;
  /** Stops the server, then the signer, and removes every directory this start made. */
  stop(): Promise<void>;
}

export interface NotaryOptions {
  /** Server log level (notary's logrus levels); default `info`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Per-command bound for client(); default 30 s. */
  clientTimeoutMs?: number;
  /**
   * Token auth on notary-server (its `auth: {type: "token"}`, the registry's Bearer flow): every /v2/ request then
   * needs a JWT from `realm`, signed by a key whose certificate is in `rootCertBundle`. Without it, no auth.
   */
  serverAuth?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Basic credentials the `notary` clients send to the token realm (notary's NOTARY_AUTH variable). */
  clientAuth?: { username: string; password: string };
}

/** Served files are a few KB; anything far larger is not notary-server and must not be buffered. */
const MAX_TRUST_FILE = 4 * 1024 * 1024;

function httpsGet(url: string, ca: string, timeoutMs: number): Promise<TrustFile> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > MAX_TRUST_FILE) req.destroy(new Error(`GET ${url}: body over ${MAX_TRUST_FILE} bytes`));
        else chunks.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// GUNs and role names go into the path as they are: notary-server routes on the raw path (`/v2/{gun:.+}/_trust/…`).
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export async function startNotary(opts: NotaryOptions = {}): Promise<NotaryPeers> {
  const logLevel = opts.logLevel ?? 'info';
  const pkiDir = makeStateDir('notary-pki');
  const started: ReadyPeer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const peer of [...started].reverse()) await peer.stop();
    removeStateDir(pkiDir);
  };
  try {
    const tls = await makeNotaryTls(pkiDir);
    const caPem = readFileSync(tls.caFile, 'utf8');

    const signerDir = makeStateDir('notary-signer');
    const grpcPort = await freePort();
    const signerConfig = join(signerDir, 'signer.json');
    writeFileSync(signerConfig, JSON.stringify({
      server: { grpc_addr: `127.0.0.1:${grpcPort}`, tls_cert_file: tls.signerCertFile, tls_key_file: tls.signerKeyFile, client_ca_file: tls.caFile },
      logging: { level: logLevel },
      // Memory storage needs no database and no NOTARY_SIGNER_<alias> key-encryption passphrase.
      storage: { backend: 'memory' },
    }) + '\n');
    const signerLogFile = join(signerDir, 'signer.log');
    // gRPC over TLS: an accepted TCP connection is readiness (a refused config ends the process, with its log).
    started.push(await startReadyPeer(
      { name: `notary-signer 127.0.0.1:${grpcPort}`, command: 'notary-signer', args: ['-config', signerConfig], logFile: signerLogFile },
      signerDir, [[`gRPC listener on 127.0.0.1:${grpcPort}`, tcpProbe(grpcPort)]]));

    const serverDir = makeStateDir('notary-server');
    const httpPort = await freePort();
    const url = `https://127.0.0.1:${httpPort}`;
    const serverConfig = join(serverDir, 'server.json');
    writeFileSync(serverConfig, JSON.stringify({
      server: { http_addr: `127.0.0.1:${httpPort}`, tls_cert_file: tls.serverCertFile, tls_key_file: tls.serverKeyFile },
      // The server's leaf is its client certificate towards the signer; `rsa` is refused by the signer (REAL-PEERS §7).
      trust_service: {
        type: 'remote', hostname: '127.0.0.1', port: String(grpcPort), key_algorithm: 'ecdsa',
        tls_ca_file: tls.caFile, tls_client_cert: tls.serverCertFile, tls_client_key: tls.serverKeyFile,
      },
      logging: { level: logLevel },
      storage: { backend: 'memory' },
      ...(opts.serverAuth ? { auth: { type: 'token', options: {
        realm: opts.serverAuth.realm, service: opts.serverAuth.service, issuer: opts.serverAuth.issuer, rootcertbundle: opts.serverAuth.rootCertBundle,
      } } } : {}),
    }) + '\n');
    const serverLogFile = join(serverDir, 'server.log');
    const health = `${url}/_notary_server/health`;
    started.push(await startReadyPeer(
      { name: `notary-server ${url}`, command: 'notary-server', args: ['-config', serverConfig], logFile: serverLogFile },
      serverDir, [[`GET ${health} = 200`, async () => (await httpsGet(health, caPem, 1000)).status === 200]]));

    let clients = 0;
    return {
      url,
      caFile: tls.caFile,
      caPem,
      serverCertFile: tls.serverCertFile,
      serverKeyFile: tls.serverKeyFile,
      signerGrpcPort: grpcPort,
      signerPid: started[0]!.proc.pid,
      serverPid: started[1]!.proc.pid,
      signerLogFile,
      serverLogFile,
      client(gun) {
        const dir = join(pkiDir, `client-${++clients}`);
        mkdirSync(dir);
        return notaryClient(gun, { serverUrl: url, caFile: tls.caFile, dir, timeoutMs: opts.clientTimeoutMs, ...(opts.clientAuth ? { auth: opts.clientAuth } : {}) });
      },
      trustFile(gun, name) {
        if (!SAFE_SEGMENT.test(gun) || !SAFE_SEGMENT.test(name) || gun.includes('..') || name.includes('..')) {
          return Promise.reject(new Error(`trustFile: unsafe GUN or name ${JSON.stringify(gun)} ${JSON.stringify(name)}`));
        }
        return httpsGet(`${url}/v2/${gun}/_trust/tuf/${name}.json`, caPem, 10_000);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
