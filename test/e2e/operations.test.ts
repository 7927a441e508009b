/**
 * Day-two operations with real peers (issue 7): the trust policy, the trust store and the config file are
 * hot-reloaded without a restart — a broken file keeps the last good one — and SIGTERM lets an in-flight blob
 * finish before the process exits 0, with `/readyz` answering 503 while it drains (README § Shutdown).
 */
import t from 'tap';
import { copyFileSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage, pushOciLayout, pushLargeBlob } from '../harness/images.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const LAYOUT = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature');
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** 64 MiB, or twice the largest TCP receive + send buffers this kernel allows if that is more (a multiple of 1 MiB). */
function blobLargerThanSocketBuffers(): number {
  const max = (file: string) => {
    try {
      return Number(readFileSync(file, 'utf8').trim().split(/\s+/).at(-1)) || 0;
    } catch {
      return 0;
    }
  };
  const buffers = max('/proc/sys/net/ipv4/tcp_rmem') + max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/core/rmem_max');
  const MiB = 1024 * 1024;
  return Math.max(64 * MiB, Math.ceil((2 * buffers) / MiB) * MiB);
}

t.test('hot reload: policy, trust store and config change under a running gate', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const app = await pushTestImage(registry.url, 'test/app', 'v1', 'reload me');
  await pushOciLayout(registry.url, 'e2e/signed', LAYOUT, { rebuildReferrersTags: true });
  const skipApp = { name: 'app', registryScopes: [`${registry.host}/test/app`], signatureVerification: { level: 'skip' } };
  const signed = { name: 'signed', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] };
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [skipApp, signed] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: { reloadIntervalMs: 200 },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  t.equal((await gate.cli(['hosts', '--dir', containerd.certsDir])).code, 0);
  const policyFile = join(gate.dir, 'notation/trustpolicy.oci.json');
  const storeFile = join(gate.dir, 'notation/truststore/x509/ca/e2e/e2e.crt');
  const reloads = (kind: string, result: string) => gate.metric('pullgate_config_reloads_total', { kind, result });
  const head = (repo: string) => fetch(`${gate.url}/v2/${repo}/manifests/v1?ns=${registry.host}`, { method: 'HEAD', headers: { accept: ACCEPT } });
  const signedDigest = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

  t.equal((await containerd.ctrPull(app.ref)).code, 0, 'skip scope pulls');
  t.equal((await head('e2e/signed')).headers.get('docker-content-digest'), signedDigest, 'the signed image is allowed with ca:e2e');
  // The notation test artifact cannot be unpacked, so containerd fetches it (same requests as a pull, no unpack).
  const signedRef = `${registry.host}/e2e/signed:v1`;
  const fetchSigned = () => containerd.ctr(['content', 'fetch', '--hosts-dir', containerd.certsDir, signedRef]);
  const fetched = await fetchSigned();
  t.equal(fetched.code, 0, `containerd fetches the signed image: ${fetched.stderr}`);
  await containerd.removeImage(signedRef);

  // 1. Trust store swapped (the Secret changes): the signed image is now denied, same process.
  copyFileSync(join(KEYS, 'new_e2e.crt'), join(gate.dir, 'notation/truststore/x509/ca/e2e/new.crt'));
  rmSync(storeFile);
  await until('policy reload', async () => (await reloads('policy', 'ok')) >= 1);
  const afterSwap = await fetchSigned();
  t.not(afterSwap.code, 0, 'trust store swapped: containerd can no longer get the previously allowed image');
  t.match(afterSwap.stderr, /denied: pullgate: .*e2e\/signed:v1: certificate chain not trusted/, 'denied by the new trust store');
  t.ok((await fetch(`${gate.adminUrl}/healthz`)).ok, 'same process, no restart');

  // 2. A broken policy file keeps the last good policy, loudly.
  writeFileSync(policyFile, '{"version": "1.0", "trustPolicies": [');
  await until('failed reload', async () => (await reloads('policy', 'failed')) >= 1);
  t.equal(await gate.metric('pullgate_config_last_reload_success', { kind: 'policy' }), 0);
  t.ok(gate.logLines().some((l) => String(l.msg).includes('trust policy reload FAILED')), 'logged');
  await containerd.removeImage(app.ref);
  t.equal((await containerd.ctrPull(app.ref)).code, 0, 'the last good policy still serves');

  // 3. A good policy that no longer skips test/app: denied now.
  // Count from now: the trust store swap above may have been seen as one reload or two (copy, then remove).
  const okBefore = await reloads('policy', 'ok');
  writeFileSync(policyFile, JSON.stringify({ version: '1.0', trustPolicies: [signed] }));
  await until('policy reload', async () => (await reloads('policy', 'ok')) > okBefore);
  t.equal(await gate.metric('pullgate_config_last_reload_success', { kind: 'policy' }), 1);
  await containerd.removeImage(app.ref);
  const denied = await containerd.ctrPull(app.ref);
  t.not(denied.code, 0, 'policy tightened without a restart: denied');

  // 4. The config file: audit mode serves what enforce denied; a broken config keeps the last good one.
  const config = JSON.parse(readFileSync(gate.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(gate.configFile, JSON.stringify({ ...config, mode: 'audit' }));
  await until('config reload', async () => (await reloads('config', 'ok')) >= 1);
  t.equal((await head('test/app')).headers.get('docker-content-digest'), app.manifest.digest, 'audit mode now serves it');
  writeFileSync(gate.configFile, JSON.stringify({ ...config, mode: 'sometimes' }));
  await until('failed config reload', async () => (await reloads('config', 'failed')) >= 1);
  t.equal((await head('test/app')).headers.get('docker-content-digest'), app.manifest.digest, 'broken config: still the last good (audit)');
  t.ok((await fetch(`${gate.adminUrl}/healthz`)).ok, 'never restarted');
});

t.test('SIGTERM: an in-flight blob finishes, /readyz says 503 meanwhile, new connections are refused, exit 0', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  // More than every buffer between the gate and a reader that stopped reading can hold (the kernel's largest
  // receive and send buffers, e.g. 32 MiB + 4 MiB here, plus stream buffers of a few hundred KiB), so the gate
  // cannot finish the body while the reader below is paused. The download is in flight by construction.
  const blob = await pushLargeBlob(registry.url, 'test/big', blobLargerThanSocketBuffers());
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
    extra: { shutdownGraceMs: 60_000 },
  });
  t.teardown(() => gate.stop());
  const readyz = async () => {
    const r = await fetch(`${gate.adminUrl}/readyz`);
    return { status: r.status, body: await r.text() };
  };
  // Both blob paths (splice and undici) count a body's bytes once it is fully written: 0 means not finished.
  const gateBlobBytes = () => gate.metric('pullgate_blob_bytes_total', { registry: registry.host });
  t.equal((await readyz()).status, 200, 'ready before SIGTERM');

  const hash = createHash('sha256');
  let received = 0;
  let ended = false;
  let resumed = false;
  let response: IncomingMessage | undefined;
  const download = new Promise<void>((resolve, reject) => {
    const req = request(`${gate.url}/v2/test/big/blobs/${blob.digest}?ns=${registry.host}`, { agent: false }, (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        // Stop reading after the first chunk (backpressure up to the gate) until the drain has been observed.
        if (!resumed) res.pause();
      });
      res.on('end', () => {
        ended = true;
        resolve();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  await until('first bytes of the blob', async () => received > 0);
  t.equal(response?.statusCode, 200, 'the blob is being served');
  t.equal(await gateBlobBytes(), 0, 'the gate has not finished the body');

  process.kill(gate.pid, 'SIGTERM');
  await until('/readyz 503', async () => (await readyz()).status === 503);
  const during = await readyz();
  t.equal(during.status, 503, '/readyz answers 503 during the drain');
  t.match(during.body, /shutting down/, 'and says why');
  // Still in flight after SIGTERM, hence when it was sent: the reader has part of the blob, no end, and the
  // gate has not finished writing it.
  t.ok(received < blob.size, `the reader has ${received} of ${blob.size} bytes`);
  t.notOk(ended, 'the response has not ended');
  t.equal(await gateBlobBytes(), 0, 'the gate is still sending the body');
  await until('new connections refused', () => fetch(`${gate.url}/v2/`).then(() => false, () => true));
  t.pass('new connections are refused while draining');
  t.equal(await Promise.race([gate.exited, Promise.resolve('running')]), 'running', 'the process waits for the in-flight blob');

  resumed = true;
  response!.resume();
  await download;
  t.equal(received, blob.size, 'the in-flight blob finished');
  t.equal(`sha256:${hash.digest('hex')}`, blob.digest, 'intact');
  // The child is unref'd (harness/processes.ts), so a pending timer must keep this process alive until it exits.
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([gate.exited, new Promise<string>((resolve) => { timer = setTimeout(() => resolve('still running 30 s after the drain'), 30_000); })]);
  clearTimeout(timer);
  t.equal(exit, 0, 'exit 0');
});
