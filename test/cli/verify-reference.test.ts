// `pullgate verify REF`: references parsed and normalised as the docker CLI and containerd do.
import t from 'tap';
import { parseReference } from '../../cli/verify.ts';

const D = `sha256:${'ab'.repeat(32)}`;
const cases: [string, string, string, string][] = [
  ['nginx', 'docker.io', 'library/nginx', 'tag:latest'],
  ['nginx:1.27', 'docker.io', 'library/nginx', 'tag:1.27'],
  ['bitnami/redis:7', 'docker.io', 'bitnami/redis', 'tag:7'],
  ['index.docker.io/library/nginx', 'docker.io', 'library/nginx', 'tag:latest'],
  ['registry-1.docker.io/nginx:1', 'docker.io', 'library/nginx', 'tag:1'],
  ['127.0.0.1:5000/e2e/valid:v1', '127.0.0.1:5000', 'e2e/valid', 'tag:v1'],
  ['localhost/app', 'localhost', 'app', 'tag:latest'],
  [`ghcr.io/acme/app@${D}`, 'ghcr.io', 'acme/app', `digest:${D}`],
  [`ghcr.io/acme/app:v1@${D}`, 'ghcr.io', 'acme/app', `digest:${D}`],
  ['registry.example:8443/a/b/c:v1.2_3-x', 'registry.example:8443', 'a/b/c', 'tag:v1.2_3-x'],
];
for (const [text, registry, repository, ref] of cases) {
  const p = parseReference(text);
  const got = p.reference.kind === 'tag' ? `tag:${p.reference.tag}` : `digest:${p.reference.digest.text}`;
  t.same([p.registry, p.repository, got], [registry, repository, ref], text);
}
for (const bad of ['', 'UPPER/case', 'app:', 'app@sha256:xyz', 'app@md5:0123', `a:${'x'.repeat(200)}`, 'a//b', '-a/b']) {
  t.throws(() => parseReference(bad), { name: 'VerifyUsageError' }, JSON.stringify(bad));
}
