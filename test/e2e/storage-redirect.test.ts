/**
 * README claim (issue 11, item 2): a registry that redirects blob GETs to its storage — as Docker Hub, GHCR, ECR
 * and Artifact Registry do — is pulled through the gate, and no credential reaches the storage host.
 *
 * Real peers only: distribution 2.8 with Basic auth (auth.htpasswd) and its `redirect` storage middleware, so
 * every blob GET answers 307 to nginx serving the registry's own storage root (test/harness/storage-host.ts);
 * nginx logs the Authorization header of every request. The gate holds the registry's credentials in its
 * `credentials` file. With `blobRedirects: relay` (the default) containerd follows the relayed 307 itself; with
 * `follow` pullgate fetches from storage. Either way storage must see no Authorization.
 */
import t, { type Test } from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type RegistryPeer } from '../harness/registry.ts';
import { startContainerd, type ContainerdPeer } from '../harness/containerd.ts';
import { pushTestImage, type PushedImage } from '../harness/images.ts';
import { makeStateDir, removeStateDir } from '../harness/processes.ts';
import { startStorageHost, type StorageHostPeer } from '../harness/storage-host.ts';
import { startPullgate } from './pullgate-process.ts';

// Test-only bcrypt entry for puller:s3cret (see upstream-auth.test.ts for how it was made).
const HTPASSWD = 'puller:$2b$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK\n';
const OPEN_POLICY = { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] };

interface World {
  registry: RegistryPeer;
  storage: StorageHostPeer;
  containerd: ContainerdPeer;
  image: PushedImage;
  credentials: string;
}

/** Pull through a gate with this blobRedirects mode; returns what the storage host saw during the pull. */
async function pullVia(t: Test, w: World, blobRedirects: 'relay' | 'follow' | undefined): Promise<Awaited<ReturnType<StorageHostPeer['accessLog']>>> {
  const gate = await startPullgate({
    registries: [{ host: w.registry.host, endpoint: w.registry.url, ...(blobRedirects === undefined ? {} : { blobRedirects }) }],
    trustPolicy: OPEN_POLICY,
    extra: { credentials: w.credentials },
  });
  t.teardown(() => gate.stop());
  const hosts = await gate.cli(['hosts', '--dir', w.containerd.certsDir]);
  t.equal(hosts.code, 0, `pullgate hosts: ${hosts.stderr}`);
  const storageBefore = (await w.storage.accessLog()).length;
  const registryBefore = (await w.registry.accessLog()).length;
  const pull = await w.containerd.ctrPull(w.image.ref, { timeoutMs: 60_000 });
  t.equal(pull.code, 0, `ctr pull ${w.image.ref}: ${pull.stderr}`);
  t.ok((await w.containerd.listImages()).some((i) => i.name === w.image.ref && i.digest === w.image.manifest.digest), 'the image is in the store');
  await w.containerd.removeImage(w.image.ref);
  const registrySaw = (await w.registry.accessLog()).slice(registryBefore);
  for (const blob of [w.image.config.digest, w.image.layer.digest]) {
    t.ok(registrySaw.some((e) => e.method === 'GET' && e.path === `/v2/test/app/blobs/${blob}` && e.status === 307), `the registry redirected the blob GET for ${blob.slice(0, 19)}…`);
  }
  t.same(registrySaw.filter((e) => e.userAgent.startsWith('containerd/')), [], 'containerd never reached the registry itself');
  await gate.stop();
  return (await w.storage.accessLog()).slice(storageBefore);
}

t.test('blob storage redirects: the pull completes and no credential reaches the storage host', async (t) => {
  // nginx workers run as nobody: the storage root they serve must be world-readable (the registry writes 0755/0644).
  const work = makeStateDir('storage-redirect');
  chmodSync(work, 0o755);
  t.teardown(() => removeStateDir(work));
  const storageRoot = join(work, 'data');
  const storage = await startStorageHost(storageRoot);
  t.teardown(() => storage.stop());
  // The secured registry takes no anonymous pushes: a plain instance over the same storage takes them.
  const plain = await startRegistry({ storageRoot });
  t.teardown(() => plain.stop());
  const pushed = await pushTestImage(plain.url, 'test/app', 'v1', 'served from storage');
  await plain.stop();
  writeFileSync(join(work, 'htpasswd'), HTPASSWD);
  const registry = await startRegistry({ storageRoot, htpasswdFile: join(work, 'htpasswd'), redirectBaseUrl: storage.url });
  t.teardown(() => registry.stop());
  const image: PushedImage = { ...pushed, ref: `${registry.host}/test/app:v1`, digestRef: `${registry.host}/test/app@${pushed.manifest.digest}` };
  const credentials = join(work, 'auth.json');
  writeFileSync(credentials, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('puller:s3cret').toString('base64') } } }));
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const w: World = { registry, storage, containerd, image, credentials };

  // The peers really behave as the claim needs: credentials required, blob GETs redirected to storage.
  const basic = `Basic ${Buffer.from('puller:s3cret').toString('base64')}`;
  const blobUrl = `${registry.url}/v2/test/app/blobs/${image.layer.digest}`;
  t.equal((await fetch(blobUrl, { redirect: 'manual' })).status, 401, 'the registry requires credentials');
  const redirected = await fetch(blobUrl, { redirect: 'manual', headers: { authorization: basic } });
  t.equal(redirected.status, 307, 'and redirects an authorised blob GET');
  t.equal(new URL(redirected.headers.get('location') ?? '').host, storage.host, 'to the storage host');
  const probe = (await storage.accessLog()).length;

  await t.test('relay (the default): containerd follows the relayed 307 to storage', async (t) => {
    const saw = await pullVia(t, w, undefined);
    for (const blob of [image.config.digest, image.layer.digest]) {
      t.ok(saw.some((e) => e.method === 'GET' && e.uri.endsWith(`/${blob.slice(7)}/data`) && e.status === 200 && e.userAgent.startsWith('containerd/')),
        `containerd fetched ${blob.slice(0, 19)}… from storage`);
    }
    t.same(saw.filter((e) => e.userAgent === 'pullgate'), [], 'pullgate itself never touched storage');
    t.same(saw.filter((e) => e.authorization !== ''), [], 'no Authorization reached the storage host');
  });

  await t.test('follow: pullgate fetches from storage, without the registry credentials', async (t) => {
    const saw = await pullVia(t, w, 'follow');
    for (const blob of [image.config.digest, image.layer.digest]) {
      t.ok(saw.some((e) => e.method === 'GET' && e.uri.endsWith(`/${blob.slice(7)}/data`) && e.status === 200 && e.userAgent === 'pullgate'),
        `pullgate fetched ${blob.slice(0, 19)}… from storage`);
    }
    t.same(saw.filter((e) => e.userAgent.startsWith('containerd/')), [], 'containerd did not go to storage');
    t.same(saw.filter((e) => e.authorization !== ''), [], 'no Authorization reached the storage host');
  });

  const all = (await storage.accessLog()).slice(probe);
  t.ok(all.length >= 4, `storage served both pulls (${all.length} requests)`);
  t.same(all.filter((e) => e.authorization !== ''), [], 'across both modes, storage never saw a credential');
});
