/**
 * README claim (issue 11, item 2): `pullgate hosts --default` also writes `_default/hosts.toml`, so containerd
 * sends a registry pullgate does not list to the gate, which denies it — rather than pulling it direct.
 *
 * Real peers: two distribution registries (one listed in the gate's config, one not), a real containerd (ctr
 * and CRI PullImage), `pullgate serve`. The unlisted registry's access log must show no request from
 * containerd; the last subtest is the control that makes that assertion mean something: without `_default`
 * the same pull goes straight to the unlisted registry and succeeds.
 */
import t from 'tap';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage } from '../harness/images.ts';
import { startPullgate } from './pullgate-process.ts';

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('hosts --default: an unlisted registry goes to the gate and is denied there', async (t) => {
  const listed = await startRegistry();
  t.teardown(() => listed.stop());
  const unlisted = await startRegistry();
  t.teardown(() => unlisted.stop());
  const app = await pushTestImage(listed.url, 'test/app', 'v1', 'listed');
  const other = await pushTestImage(unlisted.url, 'test/other', 'v1', 'not listed');

  const gate = await startPullgate({
    registries: [{ host: listed.host, endpoint: listed.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
  });
  t.teardown(() => gate.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());

  const hosts = await gate.cli(['hosts', '--dir', containerd.certsDir, '--default']);
  t.equal(hosts.code, 0, `pullgate hosts --default: ${hosts.stderr}`);
  const defaultFile = join(containerd.certsDir, '_default', 'hosts.toml');
  t.ok(existsSync(defaultFile), '_default/hosts.toml written');
  t.match(existsSync(defaultFile) ? readFileSync(defaultFile, 'utf8') : '', `server = "${gate.url}"`, 'pointing at the gate');
  const unlistedDirs = [unlisted.host, unlisted.host.replace(':', '_') + '_'].filter((d) => existsSync(join(containerd.certsDir, d)));
  t.same(unlistedDirs, [], 'nothing written for the unlisted registry itself: only _default can route it');

  await t.test('the listed registry still pulls through the gate', async (t) => {
    const ctr = await containerd.ctrPull(app.ref, { timeoutMs: 60_000 });
    t.equal(ctr.code, 0, `ctr pull ${app.ref}: ${ctr.stderr}`);
    await containerd.removeImage(app.ref);
  });

  await t.test('the unlisted registry: denied by the gate with the reason, for ctr and CRI', async (t) => {
    const before = await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'registry_not_configured' });
    const reason = new RegExp(`pullgate: registry ${escapeRe(unlisted.host)} is not configured in pullgate`);
    const ctr = await containerd.ctrPull(other.ref, { timeoutMs: 60_000 });
    t.not(ctr.code, 0, 'ctr pull fails');
    t.match(ctr.stderr, /403 Forbidden/, 'refused by the mirror');
    t.match(ctr.stderr, reason, 'the reason reaches ctr');
    const cri = await containerd.criPull(other.ref, 60_000);
    t.notOk(cri.ok, 'CRI PullImage fails');
    if (!cri.ok) t.match(cri.message, reason, 'the reason reaches CRI (kubelet events)');
    const byDigest = await containerd.ctrPull(other.digestRef, { timeoutMs: 60_000 });
    t.not(byDigest.code, 0, 'by digest too');
    t.ok((await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'registry_not_configured' })) >= before + 3, 'counted');
    t.same((await containerd.listImages()).filter((i) => i.name.startsWith(unlisted.host)), [], 'nothing of it in the store');
    const log = await unlisted.accessLog();
    t.same(log.filter((e) => e.userAgent.startsWith('containerd/')).map((e) => `${e.method} ${e.path}`), [], 'the unlisted registry saw no request from containerd');
    t.same(log.filter((e) => e.userAgent === 'pullgate'), [], 'nor from pullgate');
  });

  await t.test('control: without _default the same pull goes straight to the unlisted registry', async (t) => {
    rmSync(join(containerd.certsDir, '_default'), { recursive: true, force: true });
    const ctr = await containerd.ctrPull(other.ref, { timeoutMs: 60_000 });
    t.equal(ctr.code, 0, `ctr pull ${other.ref} direct: ${ctr.stderr}`);
    const log = await unlisted.accessLog();
    t.ok(log.some((e) => e.userAgent.startsWith('containerd/') && e.path.includes('test/other')), 'the unlisted registry served containerd');
    await containerd.removeImage(other.ref);
  });
});
