/**
 * webhook.clientCaFile (issue 12.5): only a client presenting a certificate that chains to the configured CA —
 * the API server, given one through its AdmissionConfiguration — reaches /validate and /mutate. Probes and
 * Prometheus, which present none, still reach /healthz, /readyz and /metrics.
 */
import t from 'tap';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../config/load.ts';
import { ConfigError } from '../../config/fields.ts';
import { closedUrl } from '../harness/ports.ts';
import { servingCert, type ServingCert } from './tls-certs.ts';
import { startTestWebhook, workloadReview } from './helpers.ts';

function call(port: number, ca: string, path: string, client?: ServingCert, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', ca, agent: false,
      ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
      headers: { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('reviews need a client certificate from webhook.clientCaFile; probes do not', async (t) => {
  const [server, apiserver, stranger] = await Promise.all([servingCert('webhook'), servingCert('kube-apiserver', 'client'), servingCert('someone-else', 'client')]);
  const dir = mkdtempSync(join(tmpdir(), 'pg-client-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tls.crt'), server.certPem);
  writeFileSync(join(dir, 'tls.key'), server.keyPem);
  writeFileSync(join(dir, 'client-ca.crt'), apiserver.certPem);
  const w = await startTestWebhook({
    registries: [{ host: 'docker.io', endpoint: await closedUrl() }],
    webhook: { tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key'), clientCaFile: join(dir, 'client-ca.crt') },
  });
  t.teardown(() => w.close());
  const port = Number(new URL(w.url).port);
  const review = JSON.stringify(workloadReview({ containers: [{ name: 'a', image: 'nginx', imagePullPolicy: 'Always' }] }));

  const trusted = await call(port, server.certPem, '/validate', apiserver, review);
  t.equal(trusted.status, 200, 'the API server\'s certificate is accepted');
  t.equal(JSON.parse(trusted.text).response.allowed, true);

  const anonymous = await call(port, server.certPem, '/validate', undefined, review);
  t.equal(anonymous.status, 403, 'no client certificate: refused');
  t.match(anonymous.text, /client certificate issued by webhook\.clientCaFile is required/);
  const other = await call(port, server.certPem, '/mutate', stranger, review);
  t.equal(other.status, 403, 'a certificate from another CA: refused');
  t.ok(w.logs.some((l) => l.msg === 'review refused: client certificate required (webhook.clientCaFile)'), 'logged');
  t.equal(await w.metric('pullgate_admission_decisions_total', {}), 1, 'refused calls never reached the rules');

  for (const path of ['/healthz', '/readyz', '/metrics']) {
    t.equal((await call(port, server.certPem, path)).status, 200, `${path} needs no client certificate (kubelet probes, Prometheus)`);
  }
});

t.test('clientCaFile needs HTTPS, and a usable bundle', async (t) => {
  t.throws(() => buildConfig({ webhook: { clientCaFile: 'ca.crt' } }, '/etc/pullgate/config.yaml'), ConfigError);
  t.throws(() => buildConfig({ webhook: { clientCaFile: 'ca.crt' } }, '/etc/pullgate/config.yaml'), /webhook\.clientCaFile: client certificates need HTTPS/);
  const server = await servingCert('webhook');
  const dir = mkdtempSync(join(tmpdir(), 'pg-client-auth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tls.crt'), server.certPem);
  writeFileSync(join(dir, 'tls.key'), server.keyPem);
  writeFileSync(join(dir, 'empty.crt'), '');
  await t.rejects(startTestWebhook({
    registries: [{ host: 'docker.io', endpoint: await closedUrl() }],
    webhook: { tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key'), clientCaFile: join(dir, 'empty.crt') },
  }), /no PEM certificate in webhook\.clientCaFile/, 'an empty bundle is refused at start');
});
