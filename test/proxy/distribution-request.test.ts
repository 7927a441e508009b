import t from 'tap';
import { parseDistributionRequest } from '../../proxy/distribution-request.ts';
import { OciError } from '../../proxy/oci-errors.ts';

const D = 'sha256:' + 'a'.repeat(64);

function code(method: string, url: string): string {
  try {
    parseDistributionRequest(method, url);
    return 'ok';
  } catch (err) {
    if (err instanceof OciError) return `${err.status} ${err.code}`;
    throw err;
  }
}

t.test('ping', async (t) => {
  t.same(parseDistributionRequest('GET', '/v2/'), { kind: 'ping' });
  t.same(parseDistributionRequest('HEAD', '/v2'), { kind: 'ping' });
});

t.test('manifest by tag and by digest, with ns', async (t) => {
  t.same(parseDistributionRequest('HEAD', '/v2/test/app/manifests/v1?ns=127.0.0.1%3A5000'), {
    kind: 'manifest', method: 'HEAD', registry: '127.0.0.1:5000', repository: 'test/app', reference: { kind: 'tag', tag: 'v1' },
  });
  const r = parseDistributionRequest('GET', `/v2/a/b/c/manifests/${D}?ns=ghcr.io`);
  t.equal(r.kind, 'manifest');
  if (r.kind === 'manifest') {
    t.equal(r.reference.kind, 'digest');
    t.equal(r.repository, 'a/b/c');
    t.equal(r.registry, 'ghcr.io');
  }
});

t.test('docker.io normalisation', async (t) => {
  const r = parseDistributionRequest('GET', '/v2/nginx/manifests/latest?ns=docker.io');
  t.match(r, { registry: 'docker.io', repository: 'library/nginx' });
  t.match(parseDistributionRequest('GET', '/v2/nginx/manifests/latest?ns=index.docker.io'), { registry: 'docker.io', repository: 'library/nginx' });
  t.match(parseDistributionRequest('GET', '/v2/bitnami/redis/manifests/7?ns=docker.io'), { repository: 'bitnami/redis' });
  // Other registries keep one-component names as they are.
  t.match(parseDistributionRequest('GET', '/v2/nginx/manifests/latest?ns=ghcr.io'), { repository: 'nginx' });
});

t.test('blobs', async (t) => {
  t.match(parseDistributionRequest('GET', `/v2/x/blobs/${D}?ns=r.io`), { kind: 'blob', repository: 'x', digest: { text: D } });
  t.equal(code('GET', '/v2/x/blobs/latest?ns=r.io'), '400 DIGEST_INVALID');
});

t.test('malformed input gets the spec error codes', async (t) => {
  t.equal(code('GET', '/v2/Upper/manifests/v1?ns=r.io'), '400 NAME_INVALID');
  t.equal(code('GET', '/v2/a..b/manifests/v1?ns=r.io'), '400 NAME_INVALID');
  t.equal(code('GET', '/v2/a%2F..%2Fb/manifests/v1?ns=r.io'), '400 NAME_INVALID');
  t.equal(code('GET', '/v2/a/manifests/-bad?ns=r.io'), '400 MANIFEST_INVALID');
  t.equal(code('GET', `/v2/a/manifests/${'t'.repeat(129)}?ns=r.io`), '400 MANIFEST_INVALID');
  t.equal(code('GET', '/v2/a/manifests/sha256:xyz?ns=r.io'), '400 DIGEST_INVALID');
  t.equal(code('GET', `/v2/a/manifests/md5:${'a'.repeat(32)}?ns=r.io`), '400 DIGEST_INVALID');
  t.equal(code('GET', `/v2/a/manifests/sha256:${'A'.repeat(64)}?ns=r.io`), '400 DIGEST_INVALID');
  t.equal(code('GET', '/v2/a/manifests/v1?ns=r.io&ns=s.io'), '400 NAME_INVALID');
  t.equal(code('GET', '/v2/%zz/manifests/v1?ns=r.io'), '400 NAME_INVALID');
  t.equal(code('GET', '/v2/' + 'a/'.repeat(1100) + 'manifests/v1'), '400 NAME_INVALID');
  t.equal(code('GET', '/etc/passwd'), '404 NAME_UNKNOWN');
});

t.test('everything but pulls is 405 UNSUPPORTED', async (t) => {
  t.equal(code('PUT', '/v2/a/manifests/v1?ns=r.io'), '405 UNSUPPORTED');
  t.equal(code('DELETE', `/v2/a/blobs/${D}?ns=r.io`), '405 UNSUPPORTED');
  t.equal(code('POST', '/v2/a/blobs/uploads/?ns=r.io'), '405 UNSUPPORTED');
  t.equal(code('GET', '/v2/a/tags/list?ns=r.io'), '405 UNSUPPORTED');
  t.equal(code('GET', `/v2/a/referrers/${D}?ns=r.io`), '405 UNSUPPORTED');
  t.equal(code('POST', '/v2/'), '405 UNSUPPORTED');
});
