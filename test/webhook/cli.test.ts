/**
 * `pullgate webhook [--config FILE]` as the installed bin runs it: serves over HTTPS with the configured
 * certificate, stops on SIGTERM, and refuses bad config with exit 2 and a message naming the key.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort } from '../harness/ports.ts';
import { makeStateDir, removeStateDir, runCommand, startProcess, waitUntilReady } from '../harness/processes.ts';
import { servingCert } from './tls-certs.ts';
import { ROOT, workloadReview } from './helpers.ts';

const BIN = join(ROOT, 'bin/pullgate.ts');

function httpsPost(port: number, ca: string, path: string, body: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', ca, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('pullgate webhook serves AdmissionReviews over HTTPS', async (t) => {
  const dir = makeStateDir('pullgate-webhook-cli');
  const cert = await servingCert('pullgate-webhook-cli');
  writeFileSync(join(dir, 'tls.crt'), cert.certPem);
  writeFileSync(join(dir, 'tls.key'), cert.keyPem);
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `registries:\n  - host: docker.io\n    endpoint: https://registry-1.docker.io\nwebhook:\n  listen: 127.0.0.1:${port}\n  tlsCert: ./tls.crt\n  tlsKey: ./tls.key\n`);
  const proc = await startProcess({ name: 'pullgate-webhook', command: process.execPath, args: [BIN, 'webhook', '--config', config], logFile: join(dir, 'webhook.log') });
  t.teardown(async () => {
    await proc.stop();
    removeStateDir(dir);
  });
  await waitUntilReady(proc, 'webhook /healthz', () => httpsPost(port, cert.certPem, '/healthz', undefined).then((r) => r.status === 200));
  const review = workloadReview({ containers: [{ name: 'app', image: 'nginx:1.25', imagePullPolicy: 'IfNotPresent' }] });
  const r = await httpsPost(port, cert.certPem, '/validate', JSON.stringify(review));
  t.equal(r.status, 200);
  t.same(JSON.parse(r.text).response.allowed, false);
  t.same((await httpsPost(port, cert.certPem, '/readyz', undefined)).status, 200);
  await proc.stop();
  t.equal(await proc.exited, 0, 'SIGTERM: clean exit');
});

t.test('bad config: exit 2 with the key named', async (t) => {
  const dir = makeStateDir('pullgate-webhook-cli-bad');
  t.teardown(() => removeStateDir(dir));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, 'webhook:\n  exemptImages: ["Not/A:Ref:"]\n');
  const bad = await runCommand(process.execPath, [BIN, 'webhook', '--config', config]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /webhook\.exemptImages\[0\]: "Not\/A:Ref:" is not an image reference/);
  writeFileSync(config, 'webhook:\n  listen: 0.0.0.0:8443\n');
  const open = await runCommand(process.execPath, [BIN, 'webhook', '--config', config]);
  t.equal(open.code, 2);
  t.match(open.stderr, /webhook\.listen: plain HTTP on 0\.0\.0\.0 is not loopback/);
  writeFileSync(config, `webhook:\n  listen: 127.0.0.1:0\n  tlsCert: ${join(dir, 'missing.crt')}\n  tlsKey: ${join(dir, 'missing.key')}\n`);
  const missing = await runCommand(process.execPath, [BIN, 'webhook', '--config', config]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read the webhook TLS files/);
});
