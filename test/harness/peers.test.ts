// The harness's other peers and safety nets: pull-through cache, nginx, quiet registry, the large
// benchmark image, and that peers die with the test process even when nobody calls stop().
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNginx } from '../../bench/peers.ts';
import { MEDIA, getManifest, pushLargeImage, pushTestImage } from './images.ts';
import { pidAlive } from './processes.ts';
import { startRegistry } from './registry.ts';

const alive = pidAlive;

async function waitDead(pid: number, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (!alive(pid)) return true;
  return !alive(pid);
}

const upstream = await startRegistry();
t.teardown(() => upstream.stop());
const image = await pushTestImage(upstream.url, 'test/app', 'v1');

t.test('pull-through cache serves the upstream image and logs its own access', async (t) => {
  const cache = await startRegistry({ proxyRemoteUrl: upstream.url });
  t.teardown(() => cache.stop());
  const got = await getManifest(cache.url, 'test/app', 'v1');
  t.equal(got.status, 200);
  t.equal(got.digest, image.manifest.digest);
  t.ok((await cache.accessLog()).some((e) => e.path === '/v2/test/app/manifests/v1' && e.status === 200));
  t.ok((await upstream.accessLog()).some((e) => e.path === '/v2/test/app/manifests/v1' && e.userAgent.startsWith('Go-http-client/')),
    'the cache fetched from the upstream');
});

t.test('nginx proxies /v2/ to the registry', async (t) => {
  const nginx = await startNginx(upstream.host);
  t.teardown(() => nginx.stop());
  const got = await getManifest(nginx.url, 'test/app', 'v1');
  t.equal(got.status, 200);
  t.equal(got.digest, image.manifest.digest);
  await nginx.stop();
  t.ok(await waitDead(nginx.pid), 'nginx master gone after stop');
});

t.test('quiet registry has no access log; large image is streamed and pullable by digest', async (t) => {
  const quiet = await startRegistry({ quiet: true });
  t.teardown(() => quiet.stop());
  await t.rejects(quiet.accessLog(), /access log is disabled/);
  const large = await pushLargeImage(quiet.url, 'bench/large', 'v1', 4 << 20);
  t.equal(large.layer.size, 4 << 20);
  t.equal(large.layer.mediaType, MEDIA.layerTar);
  const again = await pushLargeImage(quiet.url, 'bench/large', 'v2', 4 << 20);
  t.equal(again.layer.digest, large.layer.digest, 'seeded content is deterministic');
  const res = await fetch(`${quiet.url}/v2/bench/large/blobs/${large.layer.digest}`);
  t.equal(res.status, 200);
  t.equal((await res.arrayBuffer()).byteLength, 4 << 20);
});

t.test('stop() kills the peer by PID', async (t) => {
  const reg = await startRegistry();
  t.ok(alive(reg.pid));
  await reg.stop();
  t.ok(await waitDead(reg.pid));
});

for (const mode of ['exit', 'wait'] as const) {
  t.test(`a peer dies with its test process (${mode === 'exit' ? 'exit without stop()' : 'SIGTERM'})`, { timeout: 20000 }, async (t) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/orphan-registry.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    const [pid, dir] = await new Promise<[number, string]>((resolve, reject) => {
      child.stdout.once('data', (b: Buffer) => {
        const [p = '', d = ''] = b.toString().trim().split(' ');
        resolve([Number(p), d]);
      });
      child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
    });
    t.ok(pid > 0);
    if (mode === 'wait') child.kill('SIGTERM');
    t.ok(await waitDead(pid), `registry ${pid} killed`);
    // Don't leak it even when the assertion failed; it may die between the check and the kill (ESRCH).
    if (alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
    t.notOk(existsSync(dir), `its state dir ${dir} is removed too`);
  });
}
