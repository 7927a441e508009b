/**
 * README claims (issue 11, item 2), against distribution itself and a real containerd through `pullgate serve`:
 * an upstream registry on HTTPS with a private CA (`caFile`) and Basic auth (distribution's `auth.htpasswd`,
 * credentials from the gate's `credentials` file); and the credentials file hot-reloads — a pull denied with
 * the old credentials succeeds after the file is rewritten, same process.
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRegistry, type RegistryPeer } from '../harness/registry.ts';
import { startContainerd, type ContainerdPeer } from '../harness/containerd.ts';
import { pushTestImage } from '../harness/images.ts';
import { makeStateDir, removeStateDir } from '../harness/processes.ts';
import { makePrivateCa } from './private-ca.ts';
import { startPullgate, type PullgateProcess } from './pullgate-process.ts';

// distribution 2.8 checks htpasswd entries with bcrypt only. A fixed test-only entry for puller:s3cret, made
// once with `perl -e 'print crypt("s3cret", q($2b$05$abcdefghijklmnopqrstuu))'` (glibc's libxcrypt), so the
// test needs neither apache2-utils nor a bcrypt package. Cost 5 keeps the registry's check cheap.
const HTPASSWD = 'puller:$2b$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK\n';

function dockerConfig(host: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

interface World {
  secure: RegistryPeer;
  containerd: ContainerdPeer;
  ref: string;
  digest: string;
}

/** One gate for the secure registry, wired into containerd's hosts.toml. */
async function gateFor(t: Test, w: World, caFile: string, credentialsFile: string, extra: Record<string, unknown> = {}, registryExtra: Record<string, unknown> = {}): Promise<PullgateProcess> {
  const gate = await startPullgate({
    registries: [{ host: w.secure.host, endpoint: w.secure.url, caFile, ...registryExtra }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'open', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] },
    extra: { credentials: credentialsFile, ...extra },
  });
  t.teardown(() => gate.stop());
  const hosts = await gate.cli(['hosts', '--dir', w.containerd.certsDir]);
  t.equal(hosts.code, 0, `pullgate hosts: ${hosts.stderr}`);
  return gate;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('upstream HTTPS with a private CA and Basic auth: distribution itself, through the gate', async (t) => {
  const work = makeStateDir('upstream-auth');
  t.teardown(() => removeStateDir(work));
  const right = await makePrivateCa(work, 'registry');
  const wrong = await makePrivateCa(work, 'unrelated');
  writeFileSync(join(work, 'htpasswd'), HTPASSWD);
  const storageRoot = join(work, 'data');
  // The secure registry takes no anonymous pushes: a plain instance over the same storage takes them.
  const plain = await startRegistry({ storageRoot });
  t.teardown(() => plain.stop());
  const pushed = await pushTestImage(plain.url, 'test/app', 'v1', 'behind a private CA and Basic auth');
  await pushTestImage(plain.url, 'private/app', 'v1', 'a repository the node credentials must not reach for pods');
  await plain.stop();
  const secure = await startRegistry({ storageRoot, tls: { certFile: right.certFile, keyFile: right.keyFile }, htpasswdFile: join(work, 'htpasswd') });
  t.teardown(() => secure.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const w: World = { secure, containerd, ref: `${secure.host}/test/app:v1`, digest: pushed.manifest.digest };

  // The registry really is what the claim says: HTTPS only (a plain HTTP request is refused)...
  const plainHttp = await fetch(`http://${secure.host}/v2/`).then((r) => r.status, () => 'refused');
  t.equal(plainHttp, 400, 'the registry answers plain HTTP with 400 (Go: "client sent an HTTP request to an HTTPS server")');

  const goodCreds = join(work, 'good-auth.json');
  writeFileSync(goodCreds, dockerConfig(secure.host, 'puller', 's3cret'));

  await t.test('caFile trusted, credentials right: ctr and CRI pull', async (t) => {
    const gate = await gateFor(t, w, right.caFile, goodCreds);
    const ctr = await containerd.ctrPull(w.ref, { timeoutMs: 60_000 });
    t.equal(ctr.code, 0, `ctr pull ${w.ref}: ${ctr.stderr}`);
    t.ok((await containerd.listImages()).some((i) => i.name === w.ref && i.digest === w.digest), 'the pushed digest is in the store');
    await containerd.removeImage(w.ref);
    const cri = await containerd.criPull(w.ref, 60_000);
    t.ok(cri.ok, `CRI PullImage ${w.ref}: ${cri.ok ? '' : cri.message}`);
    await containerd.removeImage(w.ref);
    const log = await secure.accessLog();
    t.ok(log.some((e) => e.userAgent === 'pullgate' && e.status === 200 && e.path.includes('/manifests/')), 'pullgate read the manifest over HTTPS with credentials');
    t.ok(log.some((e) => e.userAgent === 'pullgate' && e.status === 401), 'the registry did challenge (auth is really on)');
    t.same(log.filter((e) => e.userAgent.startsWith('containerd/')), [], 'containerd never reached the registry itself');
    await gate.stop();
  });

  await t.test('an unrelated CA in caFile: denied with a TLS reason', async (t) => {
    const gate = await gateFor(t, w, wrong.caFile, goodCreds);
    const ctr = await containerd.ctrPull(w.ref, { timeoutMs: 60_000 });
    t.not(ctr.code, 0, 'ctr pull fails');
    t.match(ctr.stderr, new RegExp(`denied: pullgate: ${escapeRe(w.ref)}: upstream unavailable \\(.*certificate`, 'i'), 'the TLS reason reaches ctr');
    const cri = await containerd.criPull(w.ref, 60_000);
    t.notOk(cri.ok, 'CRI PullImage fails');
    if (!cri.ok) t.match(cri.message, /pullgate: .*test\/app:v1: upstream unavailable \(.*certificate/i, 'and CRI');
    t.ok((await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'upstream_unavailable' })) >= 2, 'counted');
    t.same((await containerd.listImages()).filter((i) => i.name === w.ref), [], 'nothing pulled');
    await gate.stop();
  });

  await t.test('wrong credentials: denied with an auth reason; the credentials file hot-reloads', async (t) => {
    const creds = join(work, 'auth.json');
    writeFileSync(creds, dockerConfig(secure.host, 'puller', 'not-the-password'));
    const gate = await gateFor(t, w, right.caFile, creds, { reloadIntervalMs: 100 });
    const denied = await containerd.ctrPull(w.ref, { timeoutMs: 60_000 });
    t.not(denied.code, 0, 'ctr pull fails with the old credentials');
    t.match(denied.stderr, new RegExp(`denied: pullgate: ${escapeRe(w.ref)}: upstream refused access \\(HTTP 401\\)`), 'the auth reason reaches ctr');
    const cri = await containerd.criPull(w.ref, 60_000);
    t.notOk(cri.ok, 'CRI PullImage fails too');
    if (!cri.ok) t.match(cri.message, /pullgate: .*test\/app:v1: upstream refused access \(HTTP 401\)/, 'the auth reason reaches CRI');
    t.ok((await gate.metric('pullgate_pull_decisions_total', { decision: 'deny', reason: 'upstream_denied' })) >= 2, 'counted as upstream_denied');

    const reloadsBefore = await gate.metric('pullgate_config_reloads_total', { kind: 'config', result: 'ok' });
    writeFileSync(creds, dockerConfig(secure.host, 'puller', 's3cret'));
    await until('the credentials reload', async () => (await gate.metric('pullgate_config_reloads_total', { kind: 'config', result: 'ok' })) > reloadsBefore);
    const ok = await containerd.ctrPull(w.ref, { timeoutMs: 60_000 });
    t.equal(ok.code, 0, `ctr pull succeeds after the rewrite: ${ok.stderr}`);
    await containerd.removeImage(w.ref);
    const criOk = await containerd.criPull(w.ref, 60_000);
    t.ok(criOk.ok, `and CRI: ${criOk.ok ? '' : criOk.message}`);
    await containerd.removeImage(w.ref);
    const exited = await Promise.race([gate.exited, sleep(0).then(() => 'running')]);
    t.equal(exited, 'running', 'the same gate process, never restarted');
  });

  await t.test('credentialedRepositories: the credentials go only with requests for the listed repositories', async (t) => {
    const gate = await gateFor(t, w, right.caFile, goodCreds, {}, { credentialedRepositories: ['test/*'] });
    const ok = await containerd.ctrPull(w.ref, { timeoutMs: 60_000 });
    t.equal(ok.code, 0, `a listed repository pulls with the credentials: ${ok.stderr}`);
    await containerd.removeImage(w.ref);
    const other = `${secure.host}/private/app:v1`;
    const denied = await containerd.ctrPull(other, { timeoutMs: 60_000 });
    t.not(denied.code, 0, 'an unlisted repository is fetched anonymously, and this registry refuses anonymous pulls');
    t.match(denied.stderr, new RegExp(`denied: pullgate: ${escapeRe(other)}: upstream refused access \\(HTTP 401\\)`), 'the reason reaches ctr');
    t.same((await containerd.listImages()).filter((i) => i.name === other), [], 'nothing pulled');
    const log = await secure.accessLog();
    t.ok(log.some((e) => e.userAgent === 'pullgate' && e.status === 200 && e.path.includes('/test/app/manifests/')), 'the listed repository was read with credentials');
    t.notOk(log.some((e) => e.userAgent === 'pullgate' && e.status === 200 && e.path.includes('/private/app/')), 'the unlisted one was never read');
    await gate.stop();
  });
});
