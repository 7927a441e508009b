/**
 * Issue 3 acceptance, end to end with real peers: Debian's distribution registry, a real containerd (ctr and
 * the CRI PullImage call kubelet makes), `pullgate hosts` writing the fail-closed hosts.toml, and
 * `pullgate serve` as containerd's mirror.
 */
import t from 'tap';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage, pushTestIndex } from '../harness/images.ts';
import { startPullgate, VECTORS } from './pullgate-process.ts';

t.test('pulls through pullgate: skip scopes pass, others fail closed, nothing bypasses', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const app = await pushTestImage(registry.url, 'test/app', 'v1');
  const multi = await pushTestIndex(registry.url, 'test/multi', 'v1');
  const locked = await pushTestImage(registry.url, 'test/locked', 'v1', 'needs a signature');

  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        { name: 'bootstrap', registryScopes: [`${registry.host}/test/app`, `${registry.host}/test/multi`], signatureVerification: { level: 'skip' } },
        {
          name: 'everything-else',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:e2e'],
          trustedIdentities: ['*'],
        },
      ],
    },
    trustStores: { 'ca/e2e': [join(VECTORS, 'notation/test/e2e/testdata/config/localkeys/e2e.crt')] },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());

  const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir]);
  t.equal(hosts.code, 0, `pullgate hosts: ${hosts.stderr}`);
  t.match(hosts.stdout, `${registry.host}: written`);

  await t.test('skip scope: single-arch and multi-arch pull with ctr and with CRI', async (t) => {
    for (const image of [app, multi]) {
      const ctr = await containerd.ctrPull(image.ref);
      t.equal(ctr.code, 0, `ctr pull ${image.ref}: ${ctr.stderr}`);
      await containerd.removeImage(image.ref);
      const cri = await containerd.criPull(image.ref);
      t.ok(cri.ok, `CRI PullImage ${image.ref}: ${cri.ok ? '' : cri.message}`);
      await containerd.removeImage(image.ref);
    }
    t.ok((await gate.metric('pullgate_pull_decisions_total', { decision: 'allow', reason: 'skip' })) >= 4);
  });

  await t.test('non-skip scope: denied with the reason, counted, for ctr and CRI', async (t) => {
    const before = await gate.metric('pullgate_pull_decisions_total', { decision: 'deny' });
    const ctr = await containerd.ctrPull(locked.ref);
    t.not(ctr.code, 0, 'ctr pull fails');
    t.match(ctr.stderr, /403 Forbidden/);
    t.match(ctr.stderr, new RegExp(`pullgate: ${registry.host.replace(/\./g, '\\.')}/test/locked:v1: `), 'the reason reaches ctr');
    const cri = await containerd.criPull(locked.ref);
    t.notOk(cri.ok, 'CRI PullImage fails');
    if (!cri.ok) t.match(cri.message, /pullgate: .*test\/locked:v1: /);
    const byDigest = await containerd.ctrPull(locked.digestRef);
    t.not(byDigest.code, 0, 'pull by digest fails too');
    t.ok((await gate.metric('pullgate_pull_decisions_total', { decision: 'deny' })) >= before + 3, 'deny counter moved');
  });

  await t.test('HEAD-only re-pull of content already in the store is still gated', async (t) => {
    // Pull the locked image straight from the registry (no mirror), so its content is in containerd's store...
    const direct = await containerd.ctr(['images', 'pull', '--plain-http', locked.ref]);
    t.equal(direct.code, 0, `direct pull to seed the store: ${direct.stderr}`);
    const seeded = (await registry.accessLog()).length;
    // ...then pull through the mirror: containerd sends only the HEAD, and pullgate must still deny.
    const again = await containerd.ctrPull(locked.ref);
    t.not(again.code, 0, 'cached content does not bypass the gate');
    const cri = await containerd.criPull(locked.ref);
    t.notOk(cri.ok, 'nor through CRI');
    const after = (await registry.accessLog()).slice(seeded);
    t.same(after.filter((e) => e.userAgent.startsWith('containerd/')), [], 'no containerd request reached the registry directly');
  });

  await t.test('the registry saw no request from containerd at all except the seeding pull', async (t) => {
    const log = await registry.accessLog();
    const fromContainerd = log.filter((e) => e.userAgent.startsWith('containerd/'));
    // The one direct pull above is the only containerd traffic: HEAD + GET manifest + 2 blobs at most.
    t.ok(fromContainerd.length <= 4, `containerd direct requests: ${fromContainerd.map((e) => `${e.method} ${e.path}`).join(', ')}`);
    t.ok(fromContainerd.every((e) => e.path.includes('test/locked')), 'only the deliberate seeding pull');
    t.ok(log.some((e) => e.userAgent === 'pullgate'), 'pullgate fetched upstream');
  });
});
