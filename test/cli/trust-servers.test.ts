/**
 * cli/trust-servers.ts: the image policy's `trustServers` entries become trust-server clients with the credential
 * the entry names (from the config's `credentials` file), one client per definition; a credential entry the file
 * lacks fails closed with the reason; a changed password (credentials reload) gets a new client; a client that cannot
 * be built (its CA file) fails closed and is rebuilt on the next lookup.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { TrustServer } from '../../policy/image-policy/types.ts';
import type { CredentialStore } from '../../registry/credentials.ts';
import { TrustServerClients } from '../../cli/trust-servers.ts';

t.test('credentials by entry name, to the trust server only', async (t) => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization === undefined) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="notary"' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"signed":{}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  let store: CredentialStore = new Map([['notary.internal', { username: 'reader', password: 'one' }]]);
  const clients = new TrustServerClients(() => store);
  t.teardown(() => clients.closeAll());
  const def: TrustServer = { name: 'internal', url, caFile: undefined, credentials: 'notary.internal' };

  const got = await clients.sourceFor(def).fetchRole('127.0.0.1:5000/app', 'root');
  t.ok('bytes' in got, 'fetched after the Basic challenge');
  t.equal(seen.at(-1), `Basic ${Buffer.from('reader:one').toString('base64')}`, 'with the named entry\'s credential');

  store = new Map([['notary.internal', { username: 'reader', password: 'two' }]]);
  await clients.sourceFor(def).fetchRole('127.0.0.1:5000/app', 'root');
  t.equal(seen.at(-1), `Basic ${Buffer.from('reader:two').toString('base64')}`, 'a reloaded password is used (a new client)');

  const anonymous: TrustServer = { ...def, name: 'anon', credentials: undefined };
  const before = seen.length;
  const anon = await clients.sourceFor(anonymous).fetchRole('127.0.0.1:5000/app', 'root').catch((err: Error) => err);
  t.ok(anon instanceof Error, 'no credential configured: the 401 is the answer');
  t.same(seen.slice(before), [undefined], 'and nothing was sent');

  const missing: TrustServer = { ...def, name: 'missing', credentials: 'no.such.entry' };
  await t.rejects(clients.sourceFor(missing).fetchRole('127.0.0.1:5000/app', 'root'), /trust server "missing": no entry "no.such.entry" in the credentials file/);
  t.equal(seen.length, before + 1, 'a missing entry sends no request at all');
});

t.test('a trust server whose CA file cannot be read fails its lookups closed, and is retried on the next one', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-trust-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clients = new TrustServerClients(() => new Map());
  t.teardown(() => clients.closeAll());
  const def: TrustServer = { name: 'ca', url: new URL('https://127.0.0.1:9'), caFile: path.join(dir, 'ca.pem'), credentials: undefined };

  // Built but never asked: the failed client must not surface as an unhandled rejection (tap fails the file if it does).
  clients.sourceFor(def);
  await t.rejects(clients.sourceFor(def).fetchRole('127.0.0.1:5000/app', 'root'), /ca\.pem/, 'the missing CA file is the reason');
  writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate');
  await t.rejects(clients.sourceFor(def).fetchRole('127.0.0.1:5000/app', 'root'), /no PEM certificate/, 'the file is read again on the next lookup');
});
