/**
 * Image reference parsing and normalisation against distribution/reference's own cases (normalize_test.go,
 * reference_test.go) and containerd's ParseDockerRef view, plus the kubelet's default pull policy.
 */
import t from 'tap';
import fc from 'fast-check';
import { defaultPullPolicy, ImageReferenceError, parseImageReference } from '../../webhook/image-reference.ts';

const D = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

t.test('normalises as distribution/reference and containerd do', async (t) => {
  // [input, domain, path, tag, digest, what containerd pulls]
  const cases: [string, string, string, string | undefined, string | undefined, string][] = [
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest'],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined, 'docker.io/library/nginx:1.25'],
    ['library/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined, 'docker.io/library/nginx:latest'],
    ['index.docker.io/nginx:1', 'docker.io', 'library/nginx', '1', undefined, 'docker.io/library/nginx:1'],
    ['index.docker.io/docker/docker', 'docker.io', 'docker/docker', undefined, undefined, 'docker.io/docker/docker:latest'],
    // registry-1.docker.io is not an alias for the reference parser (nor for containerd's certs.d lookup).
    ['registry-1.docker.io/nginx', 'registry-1.docker.io', 'nginx', undefined, undefined, 'registry-1.docker.io/nginx:latest'],
    ['dmcgowan/myapp', 'docker.io', 'dmcgowan/myapp', undefined, undefined, 'docker.io/dmcgowan/myapp:latest'],
    ['library/foo/bar', 'docker.io', 'library/foo/bar', undefined, undefined, 'docker.io/library/foo/bar:latest'],
    ['test_com/foo', 'docker.io', 'test_com/foo', undefined, undefined, 'docker.io/test_com/foo:latest'],
    ['test.com/foo', 'test.com', 'foo', undefined, undefined, 'test.com/foo:latest'],
    ['test.com:8080/foo', 'test.com:8080', 'foo', undefined, undefined, 'test.com:8080/foo:latest'],
    ['test-com:8080/foo', 'test-com:8080', 'foo', undefined, undefined, 'test-com:8080/foo:latest'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo', undefined, undefined, 'xn--n3h.com:18080/foo:latest'],
    ['localhost/app', 'localhost', 'app', undefined, undefined, 'localhost/app:latest'],
    ['localhost:5000/app:v1', 'localhost:5000', 'app', 'v1', undefined, 'localhost:5000/app:v1'],
    ['127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian', undefined, undefined, '127.0.0.1:5000/library/debian:latest'],
    ['[fc00::1]:5000/docker/docker', '[fc00::1]:5000', 'docker/docker', undefined, undefined, '[fc00::1]:5000/docker/docker:latest'],
    ['Docker/docker', 'Docker', 'docker', undefined, undefined, 'Docker/docker:latest'],
    ['192.168.0.1', 'docker.io', 'library/192.168.0.1', undefined, undefined, 'docker.io/library/192.168.0.1:latest'],
    ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80', undefined, 'docker.io/library/192.168.0.1:80'],
    ['docker---rules/docker', 'docker.io', 'docker---rules/docker', undefined, undefined, 'docker.io/docker---rules/docker:latest'],
    ['dock__er/docker', 'docker.io', 'dock__er/docker', undefined, undefined, 'docker.io/dock__er/docker:latest'],
    [`redis@${D}`, 'docker.io', 'library/redis', undefined, D, `docker.io/library/redis@${D}`],
    // Tag and digest: containerd pulls by digest only (ParseDockerRef).
    [`busybox:latest@${D}`, 'docker.io', 'library/busybox', 'latest', D, `docker.io/library/busybox@${D}`],
    [`ghcr.io/a/b:v1@${D}`, 'ghcr.io', 'a/b', 'v1', D, `ghcr.io/a/b@${D}`],
    ['docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'docker.io', 'library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', undefined, undefined, 'docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest'],
    ['foo:Tag_1.x-y', 'docker.io', 'library/foo', 'Tag_1.x-y', undefined, 'docker.io/library/foo:Tag_1.x-y'],
  ];
  for (const [input, domain, path, tag, digest, pullRef] of cases) {
    const r = parseImageReference(input);
    t.same({ domain: r.domain, path: r.path, tag: r.tag, digest: r.digest?.text, pullRef: r.pullRef, name: r.name, original: r.original },
      { domain, path, tag, digest, pullRef, name: `${domain}/${path}`, original: input }, input);
  }
});

t.test('invalid references fail with the upstream messages', async (t) => {
  const cases: [string, string, string][] = [
    ['', 'EMPTY', 'repository name must have at least one component'],
    ['https://github.com/docker/docker', 'INVALID_FORMAT', 'invalid reference format'],
    ['docker/Docker', 'UPPERCASE', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['Nginx', 'UPPERCASE', 'invalid reference format: repository name (library/Nginx) must be lowercase'],
    ['-docker', 'INVALID_FORMAT', 'invalid reference format'],
    ['docker///docker', 'INVALID_FORMAT', 'invalid reference format'],
    ['docker-/docker', 'INVALID_FORMAT', 'invalid reference format'],
    ['____/____', 'INVALID_FORMAT', 'invalid reference format'],
    ['dock..er/docker', 'INVALID_FORMAT', 'invalid reference format'],
    ['docker/', 'INVALID_FORMAT', 'invalid reference format'],
    ['[fc00::1]:5000', 'INVALID_FORMAT', 'invalid reference format'],
    ['fc00::1:5000/debian', 'INVALID_FORMAT', 'invalid reference format'],
    ['[fe80::1%eth0]:5000/debian', 'INVALID_FORMAT', 'invalid reference format'],
    [' nginx', 'INVALID_FORMAT', 'invalid reference format'],
    ['nginx ', 'INVALID_FORMAT', 'invalid reference format'],
    ['nginx:-x', 'INVALID_FORMAT', 'invalid reference format'],
    [`nginx:${'a'.repeat(129)}`, 'INVALID_FORMAT', 'invalid reference format'],
    ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'IDENTIFIER', 'invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), cannot specify 64-byte hexadecimal strings'],
    [`${'a/'.repeat(128)}b`, 'NAME_TOO_LONG', 'repository name must not be more than 255 characters'],
    ['nginx@sha256:abc', 'INVALID_FORMAT', 'invalid reference format'], // fewer than 32 hex digits
    [`nginx@sha256:${'a'.repeat(63)}`, 'INVALID_DIGEST', 'invalid checksum digest length'],
    [`nginx@sha256:${'A'.repeat(64)}`, 'INVALID_DIGEST', 'invalid checksum digest format'],
    [`nginx@md5:${'a'.repeat(32)}`, 'UNSUPPORTED_DIGEST', 'unsupported digest algorithm'],
    // Upstream quirk kept: the lowercase check reads up to the first ':', which here is inside the digest.
    [`nginx@SHA256:${'a'.repeat(64)}`, 'UPPERCASE', 'invalid reference format: repository name (library/nginx@SHA256) must be lowercase'],
    [`ghcr.io/x:v1@SHA256:${'a'.repeat(64)}`, 'INVALID_DIGEST', 'invalid checksum digest format'],
    [`ghcr.io/x${'/y'.repeat(1200)}`, 'TOO_LONG', 'reference is longer than 2048 characters'],
  ];
  for (const [input, code, message] of cases) {
    t.throws(() => parseImageReference(input), { name: 'ImageReferenceError', code, message }, JSON.stringify(input).slice(0, 60));
  }
  t.ok(parseImageReference(`nginx@sha384:${'a'.repeat(96)}`).digest, 'sha384 parses (containerd links it; the rules refuse it)');
  t.ok(parseImageReference(`nginx@sha512:${'a'.repeat(128)}`).digest);
});

t.test('the kubelet default pull policy: Always only for latest', async (t) => {
  const cases: [string, string][] = [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    [`nginx@${D}`, 'IfNotPresent'], // no tag at all
    [`nginx:latest@${D}`, 'Always'],
    [`nginx:v1@${D}`, 'IfNotPresent'],
    ['nginx:Latest', 'IfNotPresent'],
  ];
  for (const [image, policy] of cases) t.equal(defaultPullPolicy(parseImageReference(image)), policy, image);
  t.equal(defaultPullPolicy(undefined), 'IfNotPresent', 'unparsable: no tag');
});

t.test('never hangs, never throws anything but ImageReferenceError', async (t) => {
  // A backtracking blow-up on these would not return at all (the test's timeout fails it); how fast the parser is
  // belongs to a benchmark, not here.
  // Pathological shapes for backtracking regular expressions, at the length cap.
  for (const s of ['a'.repeat(2048), `${'a.'.repeat(1000)}!`, `${'a-'.repeat(1000)}/!`, `${'a'.repeat(2000)}:`, `x/${'a__'.repeat(600)}_`, `${'0'.repeat(2047)}@`]) {
    try {
      parseImageReference(s);
    } catch (err) {
      t.ok(err instanceof ImageReferenceError);
    }
  }
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
    try {
      const r = parseImageReference(s);
      return r.name === `${r.domain}/${r.path}` && r.path.length <= 255;
    } catch (err) {
      return err instanceof ImageReferenceError;
    }
  }), { numRuns: 2000 });
});
