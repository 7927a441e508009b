/**
 * The README's error claims as HTTP responses of a running `pullgate serve` in front of the real registry:
 * everything that is not a pull (`PUT`, `DELETE`, uploads, tag lists, referrers, the catalog) is `405
 * UNSUPPORTED`, and malformed names, digests and tags are `NAME_INVALID`, `DIGEST_INVALID` and
 * `MANIFEST_INVALID` — status, `Content-Type: application/json` and the distribution-spec error body
 * (`{"errors":[{"code","message"}]}`, distribution-spec § Error Codes). The mapping lives in
 * proxy/distribution-request.ts; none of these requests may reach the registry.
 */
import t from 'tap';
import { startRegistry } from '../harness/registry.ts';
import { pushTestImage } from '../harness/images.ts';
import { startPullgate } from './pullgate-process.ts';

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

type Code = 'UNSUPPORTED' | 'NAME_INVALID' | 'DIGEST_INVALID' | 'MANIFEST_INVALID';
const STATUS: Record<Code, number> = { UNSUPPORTED: 405, NAME_INVALID: 400, DIGEST_INVALID: 400, MANIFEST_INVALID: 400 };

t.test('a running gate answers non-pull and malformed requests with OCI errors', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const app = await pushTestImage(registry.url, 'test/app', 'v1', 'errors');
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
  });
  t.teardown(() => gate.stop());
  const ns = `ns=${registry.host}`;
  const digest = app.manifest.digest;
  const layer = app.layer.digest;

  // Control: the same gate serves a well-formed pull, so the errors below are about the requests.
  const ok = await fetch(`${gate.url}/v2/test/app/manifests/v1?${ns}`, { headers: { accept: ACCEPT } });
  t.equal(ok.status, 200, 'a well-formed manifest GET is served');
  t.equal(ok.headers.get('docker-content-digest'), digest);
  const upstreamBefore = (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate').length;

  const cases: [Code, string, string, (Buffer | string)?][] = [
    // Writes and everything else that is not a pull (README: "PUT, DELETE, uploads, tag lists, referrers").
    ['UNSUPPORTED', 'PUT', `/v2/test/app/manifests/v1?${ns}`, JSON.stringify({ schemaVersion: 2 })],
    ['UNSUPPORTED', 'DELETE', `/v2/test/app/manifests/${digest}?${ns}`],
    ['UNSUPPORTED', 'DELETE', `/v2/test/app/blobs/${layer}?${ns}`],
    ['UNSUPPORTED', 'POST', `/v2/test/app/blobs/uploads/?${ns}`, Buffer.alloc(1024 * 1024, 7)],
    ['UNSUPPORTED', 'PATCH', `/v2/test/app/blobs/uploads/5f2e6a1c-0000-4000-8000-000000000000?${ns}`, 'chunk'],
    ['UNSUPPORTED', 'PUT', `/v2/test/app/blobs/uploads/5f2e6a1c-0000-4000-8000-000000000000?digest=${layer}&${ns}`, 'x'],
    ['UNSUPPORTED', 'GET', `/v2/test/app/tags/list?${ns}`],
    ['UNSUPPORTED', 'GET', `/v2/test/app/referrers/${digest}?${ns}`],
    ['UNSUPPORTED', 'GET', `/v2/test/app/referrers/${digest}?artifactType=application%2Fvnd.cncf.notary.signature&${ns}`],
    ['UNSUPPORTED', 'GET', '/v2/_catalog'],
    ['UNSUPPORTED', 'POST', '/v2/'],
    // Names (distribution-spec: lowercase path components separated by / . _ __ -).
    ['NAME_INVALID', 'GET', `/v2/Test/App/manifests/v1?${ns}`],
    ['NAME_INVALID', 'GET', `/v2/test/-app/blobs/${layer}?${ns}`],
    ['NAME_INVALID', 'GET', `/v2/test%2F..%2Fapp/manifests/v1?${ns}`],
    ['NAME_INVALID', 'GET', `/v2/te%ZZst/manifests/v1?${ns}`],
    ['NAME_INVALID', 'GET', `/v2/test/app/manifests/v1?${ns}&ns=docker.io`],
    // Digests, on blobs and on manifests.
    ['DIGEST_INVALID', 'GET', `/v2/test/app/blobs/sha256:abc?${ns}`],
    ['DIGEST_INVALID', 'GET', `/v2/test/app/blobs/${layer.toUpperCase().replace('SHA256', 'sha256')}?${ns}`],
    ['DIGEST_INVALID', 'GET', `/v2/test/app/blobs/md5:d41d8cd98f00b204e9800998ecf8427e?${ns}`],
    ['DIGEST_INVALID', 'GET', `/v2/test/app/blobs/v1?${ns}`],
    ['DIGEST_INVALID', 'GET', `/v2/test/app/manifests/sha256:${'z'.repeat(64)}?${ns}`],
    ['DIGEST_INVALID', 'GET', `/v2/test/app/manifests/sha256:${digest.slice(7, 40)}?${ns}`],
    // Tags (distribution-spec: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}).
    ['MANIFEST_INVALID', 'GET', `/v2/test/app/manifests/-v1?${ns}`],
    ['MANIFEST_INVALID', 'GET', `/v2/test/app/manifests/.v1?${ns}`],
    ['MANIFEST_INVALID', 'GET', `/v2/test/app/manifests/${'v'.repeat(129)}?${ns}`],
    ['MANIFEST_INVALID', 'GET', `/v2/test/app/manifests/v%201?${ns}`],
  ];
  for (const [code, method, path, body] of cases) {
    const res = await fetch(`${gate.url}${path}`, { method, headers: { accept: ACCEPT }, ...(body === undefined ? {} : { body }) });
    const what = `${method} ${path.length > 90 ? `${path.slice(0, 90)}…` : path}`;
    t.equal(res.status, STATUS[code], `${what}: HTTP ${STATUS[code]}`);
    t.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `${what}: JSON`);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    t.match(parsed, { errors: [{ code, message: /^pullgate: / }] }, `${what}: ${code}`);
    t.equal((parsed as { errors?: unknown[] }).errors?.length, 1, `${what}: one error`);
    if (code === 'UNSUPPORTED') t.equal(res.headers.get('allow'), 'GET, HEAD', `${what}: Allow names the pull methods`);
  }

  // HEAD gets the same status and headers, without a body (RFC 9110 § 9.3.2).
  for (const [code, path] of [['DIGEST_INVALID', `/v2/test/app/manifests/sha256:abc?${ns}`], ['MANIFEST_INVALID', `/v2/test/app/manifests/-v1?${ns}`], ['NAME_INVALID', `/v2/Test/manifests/v1?${ns}`]] as const) {
    const res = await fetch(`${gate.url}${path}`, { method: 'HEAD' });
    t.equal(res.status, STATUS[code], `HEAD ${path}: HTTP ${STATUS[code]}`);
    t.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `HEAD ${path}: JSON`);
    t.equal(await res.text(), '', `HEAD ${path}: no body`);
  }

  const upstream = (await registry.accessLog()).filter((e) => e.userAgent === 'pullgate').slice(upstreamBefore);
  t.same(upstream.map((e) => `${e.method} ${e.path}`), [], 'none of them reached the registry');
  t.equal((await fetch(`${gate.url}/v2/test/app/manifests/v1?${ns}`, { headers: { accept: ACCEPT } })).status, 200, 'the gate still serves pulls after all of them');
});
