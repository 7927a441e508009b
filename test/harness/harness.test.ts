// Proves the real-peer harness end to end: a real registry and a real containerd (ctr and CRI pulls,
// single- and multi-arch), the registry's access log, and replaying a Notation OCI layout.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startContainerd } from './containerd.ts';
import { MEDIA, getManifest, pushOciLayout, pushTestImage, pushTestIndex, sha256Digest } from './images.ts';
import { startRegistry } from './registry.ts';

const LAYOUT = join(import.meta.dirname, '../vectors/notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature');

const registry = await startRegistry();
t.teardown(() => registry.stop());
const containerd = await startContainerd();
t.teardown(() => containerd.stop());

t.test('single-arch image: ctr and CRI pull it straight from the registry', async (t) => {
  const image = await pushTestImage(registry.url, 'test/app', 'v1');
  t.equal(image.ref, `${registry.host}/test/app:v1`);

  const pulled = await containerd.ctrPull(image.ref);
  t.equal(pulled.code, 0, pulled.code === 0 ? `ctr pull ${pulled.code}` : `ctr pull: ${pulled.stderr}`);
  const listed = await containerd.listImages('default');
  t.same(listed.find((i) => i.name === image.ref)?.digest, image.manifest.digest, 'ctr stored the manifest digest');

  const cri = await containerd.criPull(image.ref);
  t.same(cri, { ok: true, imageRef: image.config.digest }, 'CRI returns the image id (config digest)');

  const log = await registry.accessLog();
  const fromContainerd = log.filter((e) => e.userAgent.startsWith('containerd/'));
  t.ok(fromContainerd.some((e) => e.method === 'HEAD' && e.path === '/v2/test/app/manifests/v1'), 'HEAD by tag reached the registry');
  t.ok(fromContainerd.some((e) => e.method === 'GET' && e.path === `/v2/test/app/blobs/${image.layer.digest}` && e.status === 200), 'layer GET');

  // removeImage must leave nothing behind in either namespace, so the next pull GETs everything again
  // (otherwise containerd re-pulls cached content with a single HEAD).
  await containerd.removeImage(image.ref);
  t.notOk((await containerd.listImages('default')).some((i) => i.digest === image.manifest.digest));
  t.notOk((await containerd.listImages('k8s.io')).some((i) => i.digest === image.manifest.digest));
  const before = (await registry.accessLog()).length;
  t.equal((await containerd.ctrPull(image.ref)).code, 0);
  const again = (await registry.accessLog()).slice(before);
  t.ok(again.some((e) => e.method === 'GET' && e.path === `/v2/test/app/manifests/${image.manifest.digest}`), 'manifest GET after removal');
  t.ok(again.some((e) => e.method === 'GET' && e.path === `/v2/test/app/blobs/${image.layer.digest}`), 'layer GET after removal');
});

t.test('multi-arch index: ctr and CRI pull the host platform', async (t) => {
  const pushed = await pushTestIndex(registry.url, 'test/multi', 'v1');
  t.equal(pushed.images.length, 2);
  t.not(pushed.images[0]!.manifest.digest, pushed.images[1]!.manifest.digest);

  const byTag = await getManifest(registry.url, 'test/multi', 'v1');
  t.equal(byTag.status, 200);
  t.equal(byTag.digest, pushed.index.digest);
  t.equal(byTag.contentType, MEDIA.index);

  const pulled = await containerd.ctrPull(pushed.ref);
  t.equal(pulled.code, 0, pulled.code === 0 ? `ctr pull ${pulled.code}` : `ctr pull: ${pulled.stderr}`);
  const cri = await containerd.criPull(pushed.digestRef);
  t.ok(cri.ok, `CRI pull by digest: ${JSON.stringify(cri)}`);

  const log = await registry.accessLog();
  t.ok(log.some((e) => e.userAgent.startsWith('containerd/') && e.method === 'GET'
    && e.path === `/v2/test/multi/manifests/${pushed.index.digest}`), 'containerd fetched the index by digest');
});

t.test('a failed CRI pull reports the gRPC status and containerd message', async (t) => {
  const res = await containerd.criPull(`${registry.host}/test/absent:v1`);
  t.equal(res.ok, false);
  if (!res.ok) {
    // containerd maps a missing tag to NOT_FOUND (5); other pull failures (e.g. a mirror's 403) are UNKNOWN (2).
    t.equal(res.grpcStatus, 5, res.message);
    t.match(res.message, /failed to pull and unpack image .*not found/);
  }
});

t.test('OCI layout replay: notation e2e-valid-signature', async (t) => {
  const pushed = await pushOciLayout(registry.url, 'e2e/valid', LAYOUT);
  const index = JSON.parse(readFileSync(join(LAYOUT, 'index.json'), 'utf8')) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const tagged = index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== undefined);
  t.equal(tagged.length, 2);
  t.equal(pushed.manifests.length, index.manifests.length, 'every entry pushed, including the untagged signature');

  const v1 = await getManifest(registry.url, 'e2e/valid', 'v1');
  t.equal(v1.status, 200);
  t.equal(v1.digest, pushed.tags.v1);
  t.equal(v1.dockerContentDigest, pushed.tags.v1);
  const referrersTag = `sha256-${v1.digest.slice('sha256:'.length)}`;
  const referrers = await getManifest(registry.url, 'e2e/valid', referrersTag, MEDIA.index);
  t.equal(referrers.status, 200);
  t.equal(referrers.digest, pushed.tags[referrersTag]);
  t.equal(referrers.contentType, MEDIA.index);
  const file = readFileSync(join(LAYOUT, 'blobs/sha256', referrers.digest.slice(7)));
  t.equal(sha256Digest(file), referrers.digest, 'bytes identical to the layout');

  // distribution 2.8 hides OCI manifests from clients that do not ask for them (REAL-PEERS §2).
  const noOci = await getManifest(registry.url, 'e2e/valid', 'v1', 'application/vnd.docker.distribution.manifest.v2+json');
  t.equal(noOci.status, 404);
});

t.test('OCI layout replay can rebuild referrers tag indexes (for registries without a referrers API)', async (t) => {
  const layout = join(LAYOUT, '../e2e-valid-multiple-signatures');
  const pushed = await pushOciLayout(registry.url, 'e2e/multi', layout, { rebuildReferrersTags: true });
  const subject = pushed.tags.v1!;
  const got = await getManifest(registry.url, 'e2e/multi', subject.replace(':', '-'), MEDIA.index);
  t.equal(got.status, 200);
  const index = JSON.parse(got.bytes.toString()) as { manifests: Array<{ digest: string; artifactType?: string }> };
  // The layout's own tag index lists only the first signature; the rebuilt one lists both.
  t.same(index.manifests.map((m) => m.digest).sort(), [
    'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f',
    'sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf',
  ]);
  t.ok(index.manifests.every((m) => m.artifactType === 'application/vnd.cncf.notary.signature'));
});
