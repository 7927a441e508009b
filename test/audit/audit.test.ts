/**
 * Issue 15 acceptance with real containerd and the real registry: `pullgate audit` decides what containerd already
 * holds — images pulled directly before the gate existed, one imported from an OCI archive, one whose signer was
 * removed from the trust store, one whose manifest was garbage-collected, one from a registry pullgate does not
 * mirror, signed ones with a layer collected or the manifest damaged on disk — and `--remove` removes the failing
 * ones except one a running container (`ctr run -d`) uses; a later CRI pull goes through the gate and is denied.
 * Then bad input: a missing socket (exit 2), a registry that is down (deny, exit 1).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { waitFor } from '../harness/wait.ts';
import { runCommand } from '../harness/processes.ts';
import { fileURLToPath } from 'node:url';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage, MEDIA } from '../harness/images.ts';
import { startPullgate, VECTORS } from '../e2e/pullgate-process.ts';
import { e2eSigner, signInRegistry } from '../e2e/sign-and-push.ts';
import { pushSleeperImage } from './sleeper-image.ts';
import { ctrRun } from './cri-pod.ts';

/**
 * A non-root uid (nobody) that may still read and traverse any directory (CAP_DAC_READ_SEARCH, ambient), so it can
 * load pullgate from a checkout under a root-only temp dir, as CI's is; connecting to containerd's socket needs write
 * permission on it, which that capability does not give: the denial tested is the socket's.
 */
const UNPRIVILEGED = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'];


const BIN = fileURLToPath(new URL('../../bin/pullgate.ts', import.meta.url));
const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');

interface Row { references: string[]; digest: string; verdict: string; reason: string; message: string; namespaces: string[]; containers: string[]; running: boolean; action?: string }

t.test('pullgate audit against real containerd and the real registry', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const signer = e2eSigner();
  const sign = async (repo: string, img: { manifest: { digest: string; size: number } }) => signInRegistry(registry.url, repo, { mediaType: MEDIA.manifest, digest: img.manifest.digest, size: img.manifest.size }, signer);
  const signed = await pushTestImage(registry.url, 'own/signed', 'v1', 'audit: signed');
  await sign('own/signed', signed);
  const revoked = await pushTestImage(registry.url, 'own/revoked', 'v1', 'audit: signer later removed');
  await sign('own/revoked', revoked);
  await pushSleeperImage(registry.url, 'own/unsigned', 'v1'); // runs: a container will use it
  const layerGone = await pushTestImage(registry.url, 'own/layer-gone', 'v1', 'audit: a layer collected');
  await sign('own/layer-gone', layerGone);
  const damaged = await pushTestImage(registry.url, 'own/damaged', 'v1', 'audit: manifest damaged on disk');
  await sign('own/damaged', damaged);
  await pushTestImage(registry.url, 'own/imported', 'v1', 'audit: imported from an archive');
  await pushTestImage(registry.url, 'own/gone', 'v1', 'audit: manifest collected');
  const strict = (name: string, scopes: string[], store: string) => ({ name, registryScopes: scopes, signatureVerification: { level: 'strict' }, trustStores: [store], trustedIdentities: ['*'] });
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [strict('revoked', [`${registry.host}/own/revoked`], 'ca:revoked'), strict('e2e', ['*'], 'ca:e2e')] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')], 'ca/revoked': [join(KEYS, 'e2e.crt')] },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  const cleanups: Array<() => Promise<void>> = [];
  t.teardown(async () => {
    for (const clean of cleanups.reverse()) await clean().catch((err: unknown) => t.comment(`cleanup: ${String(err)}`));
    await containerd.stop();
  });
  const scratch = mkdtempSync(join(tmpdir(), 'pullgate-audit-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

  // Before the gate: direct pulls (certs.d is still empty), an archive import, a manifest removed by hand.
  const ref = (repo: string) => `${registry.host}/${repo}:v1`;
  for (const repo of ['own/signed', 'own/revoked', 'own/unsigned', 'own/imported', 'own/gone', 'own/layer-gone', 'own/damaged']) {
    const pulled = await containerd.ctrPull(ref(repo));
    t.equal(pulled.code, 0, `direct pull ${repo}: ${pulled.stderr}`);
  }
  const archive = join(scratch, 'imported.tar');
  t.equal((await containerd.ctr(['-n', 'default', 'images', 'export', archive, ref('own/imported')])).code, 0, 'export');
  t.equal((await containerd.ctr(['-n', 'default', 'images', 'rm', ref('own/imported')])).code, 0, 'rm before import');
  const imported = await containerd.ctr(['-n', 'imported', 'images', 'import', archive]);
  t.equal(imported.code, 0, `import: ${imported.stderr}`);
  t.equal((await containerd.ctr(['-n', 'default', 'images', 'tag', ref('own/unsigned'), 'elsewhere.example/app:v1'])).code, 0, 'tag into an unmirrored registry');
  const gone = (await containerd.listImages('default')).find((i) => i.name === ref('own/gone'))!;
  t.equal((await containerd.ctr(['-n', 'default', 'content', 'rm', gone.digest])).code, 0, 'manifest removed from the content store');
  // Partly collected: a layer of a signed image leaves the content store. Damaged: a signed manifest's blob on
  // disk is overwritten with as many other bytes (containerd serves it; only its hash tells).
  t.equal((await containerd.ctr(['-n', 'default', 'content', 'rm', layerGone.layer.digest])).code, 0, 'layer removed from the content store');
  const blob = join(dirname(containerd.socket), 'root/io.containerd.content.v1.content/blobs/sha256', damaged.manifest.digest.slice('sha256:'.length));
  writeFileSync(blob, Buffer.alloc(readFileSync(blob).length, 0x20));
  // A running container (runc task) using the unsigned image.
  cleanups.push(await ctrRun(containerd, 'default', ref('own/unsigned'), 'audit-user'));

  const audit = async (...args: string[]) => {
    const r = await gate.cli(['audit', '--containerd-socket', containerd.socket, '--json', ...args]);
    const rows = r.stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Row);
    const by = (repoOrName: string) => rows.find((row) => row.references.some((n) => n.includes(repoOrName)));
    return { ...r, rows, by };
  };

  await t.test('verdicts: signed allowed, every other kind denied with its reason', async (t) => {
    const first = await audit();
    t.equal(first.code, 1, `exit 1 when an image fails: ${first.stderr}`);
    t.equal(first.by('own/signed')?.verdict, 'allow', 'signed, trusted signer');
    t.equal(first.by('own/revoked')?.verdict, 'allow', 'signer still trusted');
    t.equal(first.by('own/unsigned')?.verdict, 'deny');
    t.match(first.by('own/unsigned')?.containers ?? [], [/audit-user/], 'the container using it is named');
    t.equal(first.by('own/imported')?.verdict, 'deny', 'imported image, no signature');
    t.same(first.by('own/imported')?.namespaces, ['imported']);
    t.equal(first.by('elsewhere.example/app')?.reason, 'registry_not_configured');
    t.equal(first.by('elsewhere.example/app')?.verdict, 'deny');
    t.equal(first.by('own/gone')?.reason, 'content_missing');
    t.equal(first.by('own/gone')?.verdict, 'deny');
    t.equal(first.by('own/layer-gone')?.verdict, 'deny', 'signed, but a layer containerd keeps is gone: never allow');
    t.equal(first.by('own/layer-gone')?.reason, 'content_incomplete');
    t.match(first.by('own/layer-gone')?.message ?? '', layerGone.layer.digest, 'the missing blob is named');
    t.equal(first.by('own/damaged')?.verdict, 'deny', 'signed, but the bytes on disk are not the manifest');
    t.equal(first.by('own/damaged')?.reason, 'content_corrupt');
    t.equal(first.by('own/unsigned')?.running, true, 'its container runs');
    // Revoke: the signer leaves the trust store; the next audit denies the image.
    unlinkSync(join(gate.dir, 'notation/truststore/x509/ca/revoked/e2e.crt'));
    const second = await audit();
    t.equal(second.by('own/revoked')?.verdict, 'deny', 'signer removed from the trust store');
    t.notOk(second.by('own/revoked')?.reason === 'registry_not_configured');
    t.equal(second.by('own/signed')?.verdict, 'allow');
    const text = await gate.cli(['audit', '--containerd-socket', containerd.socket]);
    t.match(text.stdout, /^deny\t.*own\/revoked/m, 'text report line');
  });

  await t.test('--remove removes failing images, keeps the one in use, and the next pull meets the gate', async (t) => {
    const removed = await audit('--remove');
    t.equal(removed.code, 1);
    t.equal(removed.by('own/revoked')?.action, 'removed');
    t.equal(removed.by('own/imported')?.action, 'removed');
    t.equal(removed.by('own/unsigned')?.action, 'in_use', 'the running container keeps its image');
    t.match(removed.by('own/unsigned')?.containers ?? [], [/^default\/audit-user$/]);
    t.equal(removed.by('own/layer-gone')?.action, 'removed');
    t.equal(removed.by('own/damaged')?.action, 'removed');
    t.equal(removed.by('own/signed')?.action, 'kept');
    const names = [...(await containerd.listImages('default')), ...(await containerd.listImages('imported'))].map((i) => i.name);
    t.notOk(names.includes(ref('own/revoked')), 'revoked image gone');
    t.notOk(names.includes(ref('own/imported')), 'imported image gone');
    t.ok(names.includes(ref('own/unsigned')), 'image in use kept');
    t.ok(names.includes(ref('own/signed')), 'allowed image kept');
    t.equal((await gate.cli(['hosts', '--dir', containerd.certsDir])).code, 0);
    const cri = await containerd.criPull(ref('own/revoked'));
    t.notOk(cri.ok, 'a CRI pull now goes through the gate and is denied');
  });

  await t.test('periodic audit in serve: metrics and a log line per denied image', async (t) => {
    const periodic = await startPullgate({
      registries: [{ host: registry.host, endpoint: registry.url }],
      trustPolicy: { version: '1.0', trustPolicies: [strict('e2e', ['*'], 'ca:e2e')] },
      trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
      extra: { audit: { intervalMs: 500, containerdSocket: containerd.socket } },
    });
    t.teardown(() => periodic.stop());
    const metric = (name: string, labels: Record<string, string>) => periodic.metric(name, labels).catch(() => 0);
    // metricValue reads labelled series only; this gauge has no labels.
    const lastSuccess = async () => Number(/^pullgate_audit_last_success_timestamp_seconds (\S+)$/m.exec(await (await fetch(`${periodic.adminUrl}/metrics`)).text())?.[1] ?? 0);
    t.ok(await waitFor(async () => (await lastSuccess()) > 0, 20_000), 'an audit pass completed');
    t.equal(await metric('pullgate_node_images', { verdict: 'allow' }), 1, 'the signed image');
    t.equal(await metric('pullgate_node_images', { verdict: 'deny' }), 1, 'the unsigned image kept for its container');
    t.ok(periodic.logLines().some((l) => String(l.msg).includes('node image denied') && JSON.stringify(l.references).includes('own/unsigned')), 'log line for the denied image');
  });

  await t.test('bad input: missing socket exits 2; a registry that is down denies', async (t) => {
    const missing = await gate.cli(['audit', '--containerd-socket', join(scratch, 'no.sock')]);
    t.equal(missing.code, 2);
    t.match(missing.stderr, /does not exist/);
    // Not root: containerd's state dir (0700) is not traversable, as a root-owned socket is not for pullgate's uid.
    const denied = await runCommand('setpriv', [...UNPRIVILEGED, process.execPath, BIN, 'audit', '--containerd-socket', containerd.socket], 30_000);
    t.equal(denied.code, 2, `permission denied exits 2: ${denied.stderr}`);
    t.match(denied.stderr, /permission denied opening containerd socket/);
    await registry.stop();
    const down = await audit();
    t.equal(down.code, 1);
    t.equal(down.by('own/signed')?.verdict, 'deny', 'no signatures reachable: never allow');
    t.ok(down.rows.every((r) => r.verdict === 'deny'));
  });
});
