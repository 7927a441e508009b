/**
 * Kubelet's namespace through CRI, with real containerd and the real registry: images pulled by CRI (as kubelet
 * does, before the gate existed) are listed with CRI's image id, and CRI containers running in a real pod
 * sandbox are named as their users — by the id CRI gives (ListContainers image_ref → ListImages/ImageStatus),
 * which still holds when the image's manifest has been garbage-collected, so `--remove` keeps an image a
 * running pod uses even then.
 */
import t from 'tap';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { grpcUnary } from '../harness/cri.ts';
import { MEDIA } from '../harness/images.ts';
import { bytesField, stringField } from '../../node/containerd/protobuf.ts';
import { startPullgate, VECTORS } from '../e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../e2e/sign-and-push.ts';
import { pushSleeperImage } from './sleeper-image.ts';
import { DEFAULT_SANDBOX_IMAGE, runCriPod } from './cri-pod.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');

interface Row { references: string[]; digest: string; verdict: string; reason: string; namespaces: string[]; containers: string[]; running: boolean; criImageId?: string; action?: string }

t.test('audit reads kubelet\'s images and containers through CRI', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const signer = e2eSigner();
  const signed = await pushSleeperImage(registry.url, 'pod/signed', 'v1');
  await signInRegistry(registry.url, 'pod/signed', { mediaType: MEDIA.manifest, digest: signed.manifest.digest, size: signed.manifest.size }, signer);
  const unsigned = await pushSleeperImage(registry.url, 'pod/unsigned', 'v1');
  const idle = await pushSleeperImage(registry.url, 'pod/idle', 'v1');
  const pause = await pushSleeperImage(registry.url, 'pod/pause', 'v1');
  const orphan = await pushSleeperImage(registry.url, 'pod/orphan', 'v1');
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd({ restrictOomScoreAdj: true });
  const cleanups: Array<() => Promise<void>> = [];
  t.teardown(async () => {
    for (const clean of cleanups.reverse()) await clean().catch((err: unknown) => t.comment(`cleanup: ${String(err)}`));
    await containerd.stop();
  });

  // Kubelet's pulls before the gate existed (certs.d is empty: straight to the registry).
  for (const img of [signed, unsigned, idle, pause, orphan]) {
    const pulled = await containerd.criPull(img.ref);
    t.ok(pulled.ok, `CRI pull ${img.ref}`);
  }
  const pod = await runCriPod(containerd, 'audit-pod', pause.ref);
  cleanups.push(() => pod.remove());
  await pod.start('uses-signed', signed.ref);
  await pod.start('uses-unsigned', unsigned.ref);
  // The running container's manifest is collected from under it: content tells nothing about its users now.
  const rm = await containerd.ctr(['-n', 'k8s.io', 'content', 'rm', unsigned.manifest.digest]);
  t.equal(rm.code, 0, `manifest removed: ${rm.stderr}`);
  // Every name of an image removed but CRI's id alias: still on the node, still runnable by id.
  const untag = await containerd.ctr(['-n', 'k8s.io', 'images', 'rm', orphan.ref, orphan.digestRef]);
  t.equal(untag.code, 0, `names removed: ${untag.stderr}`);

  const audit = async (...args: string[]) => {
    const r = await gate.cli(['audit', '--containerd-socket', containerd.socket, '--json', ...args]);
    const rows = r.stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Row);
    return { ...r, rows, by: (name: string) => rows.find((row) => row.references.some((n) => n.includes(name))) };
  };

  const first = await audit();
  t.equal(first.code, 1, first.stderr);
  const s = first.by('pod/signed');
  t.equal(s?.verdict, 'allow', 'signed image allowed');
  t.equal(s?.criImageId, signed.config.digest, 'CRI image id = config digest');
  t.match(s?.containers ?? [], [/^k8s\.io\/uses-signed$/], 'CRI container named');
  const u = first.by('pod/unsigned');
  t.equal(u?.verdict, 'deny');
  t.equal(u?.reason, 'content_missing', 'manifest gone: denied with its reason');
  t.equal(u?.criImageId, unsigned.config.digest);
  t.match(u?.containers ?? [], [/^k8s\.io\/uses-unsigned$/], 'CRI still says which container runs it');
  t.equal(u?.running, true);
  t.same(first.by('pod/idle')?.containers, [], 'no container uses the idle image');
  const o = first.rows.find((row) => row.references.includes(orphan.config.digest));
  t.equal(o?.verdict, 'deny', 'an image known only by its id is reported, denied');
  t.equal(o?.reason, 'unnamed_image');
  // containerd 1.6 records no image on a sandbox's container: the pause image is audited like any other.
  t.equal(first.by(DEFAULT_SANDBOX_IMAGE)?.reason, 'registry_not_configured', 'the sandbox image is audited too');

  const removed = await audit('--remove');
  t.equal(removed.by('pod/unsigned')?.action, 'in_use', 'running pod keeps its image');
  t.equal(removed.by('pod/idle')?.action, 'removed');
  const names = (await containerd.listImages('k8s.io')).map((i) => i.name);
  t.ok(names.includes(unsigned.ref), 'image in use still in containerd');
  t.notOk(names.includes(idle.ref), 'idle image removed');
  // And CRI agrees: kubelet would pull it again (through the gate).
  const status = await grpcUnary(containerd.socket, '/runtime.v1.ImageService/ImageStatus', bytesField(1, stringField(1, idle.ref)), 5_000);
  t.equal(status.body.length, 0, 'CRI ImageStatus: no such image');
});
