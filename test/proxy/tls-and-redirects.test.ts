/**
 * An HTTPS upstream with a private CA (`caFile`), Basic credentials from a docker config.json, and blob storage
 * redirects relayed to containerd or followed without the registry's credentials. The upstream is hand-written
 * (the harness registry runs plain HTTP without auth); the certificate is made by openssl in the test.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { writeNotationDir } from '../e2e/pullgate-process.ts';
import { startTestGate } from './gate.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { waitFor } from '../harness/wait.ts';

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const BLOB = Buffer.from('layer bytes');
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

t.test('https upstream with a private CA, Basic credentials, storage redirects', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const storageSaw: (string | undefined)[] = [];
  const storage = createHttpServer((req, res) => { storageSaw.push(req.headers.authorization); res.writeHead(200, { 'content-length': BLOB.length }).end(BLOB); });
  await new Promise<void>((r) => storage.listen(0, '127.0.0.1', r));
  const storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
  const basic = `Basic ${Buffer.from('puller:s3cret').toString('base64')}`;
  const registry = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.headers.authorization !== basic) { res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end(); return; }
    if (req.url!.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': DIGEST, 'content-length': MANIFEST.length });
      res.end(req.method === 'HEAD' ? undefined : MANIFEST);
      return;
    }
    res.writeHead(307, { location: `${storageUrl}/bucket/${BLOB_DIGEST}?X-Signature=abc` }).end();
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  t.teardown(() => { registry.close(); storage.close(); });
  const host = `127.0.0.1:${(registry.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'auth.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('puller:s3cret').toString('base64') } } }));
  const notation = writeNotationDir(dir, { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] });

  for (const [caFile, blobRedirects] of [[undefined, 'relay'], [join(dir, 'cert.pem'), 'relay'], [join(dir, 'cert.pem'), 'follow']] as const) {
    const gate = await startTestGate({
      registries: [{ host, endpoint: `https://${host}`, blobRedirects, ...(caFile ? { caFile } : {}) }],
      notation: { configDir: notation },
      credentials: join(dir, 'auth.json'),
    });
    const manifest = await fetch(`${gate.url}/v2/app/manifests/v1?ns=${host}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const blob = await fetch(`${gate.url}/v2/app/blobs/${BLOB_DIGEST}?ns=${host}`, { redirect: 'manual' });
    if (caFile === undefined) {
      t.equal(manifest.status, 403, 'an untrusted upstream certificate is a deny');
      t.match(await manifest.text(), /upstream unavailable .*certificate/i);
    } else if (blobRedirects === 'relay') {
      t.equal(manifest.status, 200, 'private CA trusted through caFile, Basic credentials used');
      t.same(Buffer.from(await manifest.arrayBuffer()), MANIFEST);
      t.equal(blob.status, 307, 'storage redirect relayed to the client');
      t.equal(blob.headers.get('location'), `${storageUrl}/bucket/${BLOB_DIGEST}?X-Signature=abc`);
      t.same(storageSaw, [], 'relay: pullgate never touched storage');
    } else {
      t.equal(blob.status, 200, 'follow: pullgate fetched from storage');
      t.same(Buffer.from(await blob.arrayBuffer()), BLOB);
      t.same(storageSaw, [undefined], 'and sent storage no Authorization');
    }
    await gate.close();
  }
});

t.test('authorization is redacted from logs', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } });
  const logger = createLogger('info', sink);
  logger.info({ authorization: 'Bearer secret-token', headers: { authorization: 'Basic c2VjcmV0' }, upstream: { authorization: 'x' } }, 'request');
  t.ok(await waitFor(() => lines.length > 0, 2000), 'the line was written');
  const text = lines.join('');
  t.notMatch(text, /secret-token|c2VjcmV0/);
  t.match(text, /\[redacted\]/);
});
