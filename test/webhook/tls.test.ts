/**
 * HTTPS and certificate rotation: a certificate rotated on disk is served by the next TLS handshake, without a
 * restart; a half-rotated pair (new certificate, old key) keeps the old pair serving; a Kubernetes Secret
 * volume's `..data` symlink swap is picked up; plain HTTP is refused off loopback.
 */
import t from 'tap';
import { connect, createServer as createTlsServer } from 'node:tls';
import { request } from 'node:https';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../config/load.ts';
import { startWebhook } from '../../cli/webhook.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { servingCert } from './tls-certs.ts';
import { startTestWebhook, workloadReview } from './helpers.ts';
import { closedUrl } from '../harness/ports.ts';
import { waitFor } from '../harness/wait.ts';
import { CertificateReloader, fileStamp, readKeyPair, type ReloadResult, type TlsFiles } from '../../webhook/tls-reloader.ts';

// No registry is contacted here; the endpoint refuses connections (a port we just released, not a guessed one).
const CLOSED = await closedUrl();

function handshake(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

async function servedWithin(port: number, fingerprint: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await handshake(port)) === fingerprint) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function postHttps(port: number, ca: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('rotation on disk is served by the next handshake', async (t) => {
  const [a, b] = await Promise.all([servingCert('webhook-a'), servingCert('webhook-b')]);
  const dir = mkdtempSync(join(tmpdir(), 'pg-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tls.crt'), a.certPem);
  writeFileSync(join(dir, 'tls.key'), a.keyPem);
  const w = await startTestWebhook(
    { registries: [{ host: 'docker.io', endpoint: CLOSED }], webhook: { tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key') } },
    { tlsPollMs: 50 },
  );
  t.teardown(() => w.close());
  t.match(w.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(new URL(w.url).port);
  t.equal(await handshake(port), a.fingerprint256, 'serves certificate A');
  const review = JSON.stringify(workloadReview({ containers: [{ name: 'a', image: 'nginx' }] }));
  const first = await postHttps(port, a.certPem, review);
  t.equal(first.status, 200, 'AdmissionReview over HTTPS, verified against A');
  t.equal(JSON.parse(first.text).response.allowed, true);

  // cert-manager writes the files one after the other: new certificate, old key → not installed.
  writeFileSync(join(dir, 'tls.crt'), b.certPem);
  const failed = () => w.metric('pullgate_webhook_tls_reloads_total', { result: 'failed' });
  t.ok(await waitFor(async () => (await failed()) >= 1, 3000), 'the reloader saw the mismatched pair and refused it');
  t.equal(await handshake(port), a.fingerprint256, 'a mismatched pair is not installed; A still served');
  t.equal(await failed(), 1, 'the failed attempt is counted once');
  writeFileSync(join(dir, 'tls.key'), b.keyPem);
  t.ok(await servedWithin(port, b.fingerprint256, 3000), 'the next handshake presents B');
  t.equal(await w.metric('pullgate_webhook_tls_reloads_total', { result: 'ok' }), 1);
  t.equal(await failed(), 1, 'still that one failed attempt once B is installed');
  const second = await postHttps(port, b.certPem, review);
  t.equal(second.status, 200, 'clients trusting B are served');
  t.ok(w.logs.some((l) => l.msg === 'webhook TLS certificate reloaded'));
});

t.test('a file rewritten while the reloader reads it is decided once it holds still: one rotation, one reload', async (t) => {
  const [a, b] = await Promise.all([servingCert('race-a'), servingCert('race-b')]);
  const dir = mkdtempSync(join(tmpdir(), 'pg-tls-race-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  writeFileSync(files.certFile, a.certPem);
  writeFileSync(files.keyFile, a.keyPem);
  const server = createTlsServer({ cert: a.certPem, key: a.keyPem });
  const results: ReloadResult[] = [];
  // The race CI met: the poll stats the half-written key (truncated), the writer finishes, then the read sees
  // the whole new pair. Here the read itself finishes the rotation, so the stamp changes under it every time.
  let writeDuringRead: (() => void) | undefined;
  const reader = async (f: TlsFiles) => {
    writeDuringRead?.();
    writeDuringRead = undefined;
    return readKeyPair(f);
  };
  const reloader = new CertificateReloader(server, files, createLogger('silent'), (r) => results.push(r), reader);
  reloader.start(3_600_000, await fileStamp(files));
  t.teardown(() => reloader.stop());

  writeFileSync(files.certFile, b.certPem);
  writeFileSync(files.keyFile, '');
  writeDuringRead = () => writeFileSync(files.keyFile, b.keyPem);
  t.equal(await reloader.check(), 'unchanged', 'the key changed under the read: nothing decided, nothing installed');
  t.equal(await reloader.check(), 'reloaded', 'the next tick reads the finished pair');
  t.equal(await reloader.check(), 'unchanged', 'and that rotation is not reloaded a second time');
  t.same(results, ['reloaded'], 'one rotation, one reload, no failure counted for the half-written key');

  // A broken file that holds still is still refused, once.
  writeFileSync(files.keyFile, 'not a key');
  t.equal(await reloader.check(), 'failed');
  t.equal(await reloader.check(), 'failed');
  t.same(results, ['reloaded', 'failed'], 'a settled broken pair is reported once');
});

t.test('a Kubernetes Secret volume (..data symlink swap) rotates too', async (t) => {
  const [a, c] = await Promise.all([servingCert('secret-a'), servingCert('secret-c')]);
  const vol = mkdtempSync(join(tmpdir(), 'pg-secret-'));
  t.teardown(() => rmSync(vol, { recursive: true, force: true }));
  const writeVersion = (name: string, cert: { certPem: string; keyPem: string }) => {
    mkdirSync(join(vol, name));
    writeFileSync(join(vol, name, 'tls.crt'), cert.certPem);
    writeFileSync(join(vol, name, 'tls.key'), cert.keyPem);
  };
  // AtomicWriter layout: tls.crt → ..data/tls.crt, ..data → ..2024_01_01_00_00_00.1
  writeVersion('..v1', a);
  symlinkSync('..v1', join(vol, '..data'));
  symlinkSync('..data/tls.crt', join(vol, 'tls.crt'));
  symlinkSync('..data/tls.key', join(vol, 'tls.key'));
  const w = await startTestWebhook(
    { registries: [{ host: 'docker.io', endpoint: CLOSED }], webhook: { tlsCert: join(vol, 'tls.crt'), tlsKey: join(vol, 'tls.key') } },
    { tlsPollMs: 50 },
  );
  t.teardown(() => w.close());
  const port = Number(new URL(w.url).port);
  t.equal(await handshake(port), a.fingerprint256);
  writeVersion('..v2', c);
  symlinkSync('..v2', join(vol, '..data_tmp'));
  renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
  t.ok(await servedWithin(port, c.fingerprint256, 3000), 'new certificate after the atomic swap');
});

t.test('start-up refuses what cannot be served safely', async (t) => {
  const [a, b] = await Promise.all([servingCert('a'), servingCert('b')]);
  const dir = mkdtempSync(join(tmpdir(), 'pg-tls-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.crt'), a.certPem);
  writeFileSync(join(dir, 'b.key'), b.keyPem);
  const logger = createLogger('silent');
  const mismatched = buildConfig({ registries: [{ host: 'docker.io', endpoint: CLOSED }], webhook: { listen: '127.0.0.1:0', tlsCert: 'a.crt', tlsKey: 'b.key' } }, join(dir, 'config.yaml'));
  await t.rejects(startWebhook(mismatched, { logger }), { name: 'TlsFilesError', code: 'TLS_FILES_INVALID', message: /a\.crt \+ .*b\.key: not a usable certificate and key/ });
  const missing = buildConfig({ webhook: { listen: '127.0.0.1:0', tlsCert: 'nope.crt', tlsKey: 'nope.key' } }, join(dir, 'config.yaml'));
  await t.rejects(startWebhook(missing, { logger }), { name: 'TlsFilesError', message: /cannot read the webhook TLS files/ });
  t.throws(() => buildConfig({ webhook: { listen: '0.0.0.0:8443' } }, '/etc/pullgate.yaml'), {
    name: 'ConfigError',
    key: 'webhook.listen',
    message: '/etc/pullgate.yaml: webhook.listen: plain HTTP on 0.0.0.0 is not loopback (fix: set webhook.tlsCert and webhook.tlsKey, or listen on 127.0.0.1)',
  });
  t.doesNotThrow(() => buildConfig({ webhook: { listen: '0.0.0.0:8443', tlsCert: 'a.crt', tlsKey: 'b.key' } }, '/etc/pullgate.yaml'), 'any address with TLS');
  t.doesNotThrow(() => buildConfig({ webhook: { listen: '[::1]:8443' } }, '/etc/pullgate.yaml'), 'IPv6 loopback without TLS');
});
