/**
 * Hostile and broken upstreams get clear denials and never crash or hang the gate. The upstream here is a
 * hand-written loopback server, because the real registry cannot be made to misbehave on demand.
 */
import t from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { startTestGate, metricValue } from './gate.ts';

const MANIFEST = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] });
const DIGEST = 'sha256:' + createHash('sha256').update(MANIFEST).digest('hex');
const OCI = 'application/vnd.oci.image.manifest.v1+json';

t.test('broken upstreams', async (t) => {
  const upstream = createHttpServer((req, res) => {
    const repo = req.url!.split('/')[2];
    switch (repo) {
      case 'reset': req.socket.destroy(); return;
      case 'hang': return; // never answers
      case 'garbage': res.writeHead(200, { 'content-type': OCI }).end('\x00\x01not json'); return;
      case 'array': res.writeHead(200, { 'content-type': OCI }).end('[1,2]'); return;
      case 'big': res.writeHead(200, { 'content-type': OCI, 'content-length': 5 * 1024 * 1024 }).end(); return;
      case 'bigchunked': {
        res.writeHead(200, { 'content-type': OCI });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        for (let i = 0; i < 6; i++) res.write(chunk);
        res.end();
        return;
      }
      case 'mismatch': res.writeHead(200, { 'content-type': OCI }).end(MANIFEST + ' '); return;
      case 'claims': res.writeHead(200, { 'content-type': OCI, 'docker-content-digest': 'sha256:' + 'b'.repeat(64) }).end(MANIFEST); return;
      case 'typelie': res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(MANIFEST); return;
      case 'ratelimit': res.writeHead(429).end(); return;
      case 'e500': res.writeHead(500).end(); return;
      case 'forbidden': res.writeHead(403).end(); return;
      case 'blobcut': res.writeHead(200, { 'content-length': 1000 }).end('short'); return;
      default: res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const junk = createTcpServer((s) => s.end('SSH-2.0-OpenSSH\r\n\r\n\x00garbage'));
  await new Promise<void>((r) => junk.listen(0, '127.0.0.1', r));
  const up = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const junkHost = `127.0.0.1:${(junk.address() as AddressInfo).port}`;
  const gate = await startTestGate({
    registries: [{ host: up, endpoint: `http://${up}` }, { host: junkHost, endpoint: `http://${junkHost}` }],
    upstream: { headersTimeoutMs: 500, bodyTimeoutMs: 500, connectTimeoutMs: 500 },
    notation: { configDir: '/nonexistent' },
  });
  t.teardown(async () => { await gate.close(); upstream.close(); upstream.closeAllConnections(); junk.close(); });

  const pull = async (repo: string, ref = 'v1', registry = up, method = 'GET') => {
    const res = await fetch(`${gate.url}/v2/${repo}/manifests/${ref}?ns=${encodeURIComponent(registry)}`, { method, headers: { accept: OCI } });
    return { status: res.status, body: method === 'HEAD' ? '' : await res.text(), digest: res.headers.get('docker-content-digest') };
  };
  const cases: [string, string, number, RegExp, string][] = [
    ['reset', 'v1', 403, /upstream unavailable/, 'upstream_unavailable'],
    ['hang', 'v1', 403, /upstream unavailable \(Headers Timeout/, 'upstream_unavailable'],
    ['garbage', 'v1', 403, /not JSON/, 'manifest_invalid'],
    ['array', 'v1', 403, /not a JSON object/, 'manifest_invalid'],
    ['big', 'v1', 403, /5242880 bytes, larger than the 4194304-byte limit/, 'manifest_too_large'],
    ['bigchunked', 'v1', 403, /larger than the 4194304-byte limit/, 'manifest_too_large'],
    ['mismatch', DIGEST, 403, /hash to sha256:[0-9a-f]{64}, not the requested digest/, 'digest_mismatch'],
    // The tag resolves (HEAD) to a digest whose bytes the upstream cannot produce.
    ['claims', 'v1', 403, /hash to sha256:[0-9a-f]{64}, not the requested digest/, 'digest_mismatch'],
    ['typelie', 'v1', 403, /differs from Content-Type/, 'manifest_invalid'],
    ['ratelimit', 'v1', 403, /upstream rate limited/, 'upstream_rate_limited'],
    ['e500', 'v1', 403, /upstream unavailable \(HTTP 500\)/, 'upstream_unavailable'],
    ['forbidden', 'v1', 403, /upstream refused access \(HTTP 403\)/, 'upstream_denied'],
    ['missing', 'v1', 404, /manifest unknown upstream/, 'manifest_unknown'],
  ];
  for (const [repo, ref, status, message, reason] of cases) {
    const before = await metricValue(gate.adminUrl, 'pullgate_pull_decisions_total', { reason });
    const res = await pull(repo, ref);
    t.equal(res.status, status, `${repo}: status`);
    t.match(JSON.parse(res.body), { errors: [{ code: status === 404 ? 'MANIFEST_UNKNOWN' : 'DENIED', message }] }, `${repo}: message`);
    t.match(res.body, new RegExp(`pullgate: ${up.replace(/\./g, '\\.')}/${repo}[:@]`), `${repo}: names the ref`);
    t.equal(await metricValue(gate.adminUrl, 'pullgate_pull_decisions_total', { reason }), before + 1, `${repo}: counted as ${reason}`);
    const head = await pull(repo, ref, up, 'HEAD');
    if (status === 404 || ref !== 'v1') {
      t.equal(head.status, status, `${repo}: HEAD gated like GET`);
    } else {
      // HEAD by tag: a denial note, whose GET carries the reason (proxy/denial-notes.ts).
      t.equal(head.status, 200, `${repo}: HEAD by tag answers with a denial note`);
      t.match(head.digest, /^sha256:[0-9a-f]{64}$/);
      const follow = await pull(repo, head.digest!, up, 'GET');
      t.equal(follow.status, 403, `${repo}: the note's GET is denied`);
      t.match(JSON.parse(follow.body), { errors: [{ code: 'DENIED', message }] }, `${repo}: with the reason`);
      t.equal((await pull(repo, head.digest!, up, 'HEAD')).status, 403, `${repo}: the note's HEAD is denied too`);
    }
  }
  const junkRes = await pull('x', 'v1', junkHost);
  t.equal(junkRes.status, 403);
  t.match(junkRes.body, /upstream unavailable/);

  const blob = await fetch(`${gate.url}/v2/blobcut/blobs/${DIGEST}?ns=${up}`);
  await t.rejects(blob.text(), 'a blob cut short upstream is cut short downstream, not padded');

  const unconfigured = await pull('x', 'v1', 'evil.example');
  t.equal(unconfigured.status, 403);
  t.match(unconfigured.body, /registry evil\.example is not configured/);
  const noNs = await fetch(`${gate.url}/v2/x/manifests/v1`);
  t.equal(noNs.status, 403);
  t.match(await noNs.text(), /no \?ns=<registry>/);

  const ping = await fetch(`${gate.url}/v2/`);
  t.equal(ping.status, 200, 'still serving after all of that');
  t.equal((await fetch(`${gate.adminUrl}/healthz`)).status, 200);
  const ready = await fetch(`${gate.adminUrl}/readyz`);
  t.equal(ready.status, 503, 'no trust policy: not ready');
});
