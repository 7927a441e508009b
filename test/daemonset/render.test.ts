/**
 * The kustomize rendering the other tests rely on: the project's renderer equals `kubectl kustomize` for
 * every shipped target, and handles each feature of its subset the way kustomize does, checked on small
 * fixtures against kubectl too. Without a usable kubectl (kubectlStatus) each of those comparisons is a
 * counted skip with the reason, so the tap summary shows how many were not made.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kubectlKustomize, kubectlStatus, objectKey, renderKustomization, type K8sObject } from './kustomize.ts';
import { ROOT, TARGETS } from './rendered.ts';

const byKey = (objects: K8sObject[]) => Object.fromEntries(objects.map((o) => [objectKey(o), o]));
const kubectl = kubectlStatus();
t.comment(kubectl.usable ? `comparing with kubectl kustomize (${kubectl.file}, ${kubectl.version})` : `NOT comparing with kubectl kustomize: ${kubectl.reason}`);

/** Hold `mine` equal to `kubectl kustomize dir`, or record a skip saying why that comparison was not made. */
function sameAsKubectl(t: Test, mine: K8sObject[], dir: string, what: string): void {
  const real = kubectlKustomize(dir);
  if (real === undefined) t.pass(`${what}: identical to kubectl kustomize`, { skip: kubectl.usable ? 'kubectl vanished' : kubectl.reason });
  else t.same(byKey(mine), byKey(real), `${what}: identical to kubectl kustomize`);
}

t.test('every target renders, and equals kubectl kustomize', async (t) => {
  for (const target of TARGETS) {
    const dir = path.join(ROOT, target);
    const mine = renderKustomization(dir);
    t.ok(mine.length > 0, `${target} renders`);
    sameAsKubectl(t, mine, dir, target);
  }
});

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pg-kustomize-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: ns }
spec:
  selector: { matchLabels: { a: b } }
  template:
    metadata: { labels: { a: b } }
    spec:
      initContainers: [{ name: i, image: "example.com/tool:1" }]
      containers:
        - { name: c, image: "example.com/app:1" }
        - { name: d, image: "other.io/app@sha256:${'a'.repeat(64)}" }
`;

t.test('subset: generators with behaviors, image overrides, JSON6902 patches', async (t) => {
  const dir = fixture({
    'base/kustomization.yaml': `resources: [deploy.yaml]
generatorOptions: { disableNameSuffixHash: true, labels: { team: x } }
configMapGenerator:
  - { name: cfg, namespace: ns, files: [config.yaml, renamed.txt=other.txt], literals: [k=v] }
secretGenerator:
  - { name: sec, namespace: ns, files: [token=other.txt] }
  - { name: empty, namespace: ns, type: Opaque }
`,
    'base/deploy.yaml': DEPLOYMENT,
    'base/config.yaml': 'a: 1\n',
    'base/other.txt': 'other\n',
    'overlay/kustomization.yaml': `resources: [../base]
generatorOptions: { disableNameSuffixHash: true }
configMapGenerator:
  - { name: cfg, namespace: ns, behavior: merge, literals: [k=w, extra=1], options: { labels: { extra: "yes" } } }
secretGenerator:
  - { name: sec, namespace: ns, behavior: replace, literals: [token=new] }
images:
  - { name: example.com/app, newTag: "2" }
  - { name: example.com/tool, newName: mirror.io/tool, digest: "sha256:${'b'.repeat(64)}" }
  - { name: other.io/app, newName: moved.io/app }
patches:
  - target: { group: apps, version: v1, kind: Deployment, name: app }
    patch: |-
      - { op: add, path: /spec/replicas, value: 3 }
      - { op: replace, path: /spec/template/spec/containers/1/name, value: e }
      - { op: add, path: /spec/template/spec/containers/-, value: { name: f, image: busybox } }
      - { op: remove, path: /spec/template/spec/initContainers/0/name }
`,
  });
  const objects = byKey(renderKustomization(path.join(dir, 'overlay')));
  const cfg = objects['ConfigMap/ns/cfg']!;
  t.same(cfg.data, { 'config.yaml': 'a: 1\n', 'renamed.txt': 'other\n', k: 'w', extra: '1' }, 'merge keeps, overrides and adds keys');
  t.same(cfg.metadata.labels, { team: 'x', extra: 'yes' });
  t.same(objects['Secret/ns/sec']!.data, { token: Buffer.from('new').toString('base64') }, 'replace drops the old keys');
  t.same(objects['Secret/ns/empty']!.data, {}, 'an empty generator renders data: {}');
  const spec = objects['Deployment/ns/app']!.spec;
  t.equal(spec.replicas, 3);
  t.same(spec.template.spec.containers.map((c: { image: string }) => c.image), ['example.com/app:2', `moved.io/app@sha256:${'a'.repeat(64)}`, 'busybox']);
  t.equal(spec.template.spec.initContainers[0].image, `mirror.io/tool@sha256:${'b'.repeat(64)}`);
  t.notOk('name' in spec.template.spec.initContainers[0]);
  sameAsKubectl(t, Object.values(objects), path.join(dir, 'overlay'), 'the fixture');
});

t.test('anything outside the subset is refused, not half-rendered', async (t) => {
  const cases: Record<string, RegExp> = {
    'namePrefix: x-\nresources: [d.yaml]\n': /namePrefix.*outside/,
    'resources: [d.yaml]\nconfigMapGenerator: [{ name: c, literals: [a=b] }]\n': /suffix hashes/,
    'resources: [d.yaml]\npatches: [{ path: p.yaml }]\n': /inline JSON6902/,
    'resources: [d.yaml]\npatches: [{ target: { kind: Service }, patch: "[]" }]\n': /matches nothing/,
    'resources: [d.yaml, d.yaml]\n': /defined twice/,
  };
  for (const [kustomization, error] of Object.entries(cases)) {
    const dir = fixture({ 'kustomization.yaml': kustomization, 'd.yaml': DEPLOYMENT });
    t.throws(() => renderKustomization(dir), error, kustomization.split('\n')[0] ?? '');
  }
});
