/**
 * The periodic audit in a real `pullgate serve` follows config reloads, against real containerd and the real
 * registry: started with no audit, a reload turns it on (interval) against a socket that does not exist (a
 * failed pass naming it), the next reload points it at containerd (a pass that succeeds), the next sets
 * remove (the denied image leaves containerd), and intervalMs 0 turns it off.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../harness/registry.ts';
import { startContainerd } from '../harness/containerd.ts';
import { pushTestImage } from '../harness/images.ts';
import { waitFor } from '../harness/wait.ts';
import { startPullgate, VECTORS } from '../e2e/pullgate-process.ts';

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');

t.test('periodic audit picks up interval, socket and remove from a config reload', async (t) => {
  const registry = await startRegistry();
  t.teardown(() => registry.stop());
  const containerd = await startContainerd();
  t.teardown(() => containerd.stop());
  const unsigned = await pushTestImage(registry.url, 'reload/unsigned', 'v1', 'audit reload: never signed');
  t.equal((await containerd.ctrPull(unsigned.ref)).code, 0, 'direct pull before the gate');
  const gate = await startPullgate({
    registries: [{ host: registry.host, endpoint: registry.url }],
    trustPolicy: { version: '1.0', trustPolicies: [{ name: 'e2e', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
    trustStores: { 'ca/e2e': [join(KEYS, 'e2e.crt')] },
    extra: { reloadIntervalMs: 100 },
  });
  t.teardown(() => gate.stop());
  const logs = (msg: string) => gate.logLines().filter((l) => l.msg === msg);
  const reloaded = () => logs('config reloaded').length;
  const reconfigure = async (audit: Record<string, unknown>) => {
    const before = reloaded();
    const config = JSON.parse(readFileSync(gate.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(gate.configFile, JSON.stringify({ ...config, audit }, null, 2));
    t.ok(await waitFor(() => reloaded() > before, 10_000), `config reloaded with audit ${JSON.stringify(audit)}`);
  };
  const metrics = async () => (await fetch(`${gate.adminUrl}/metrics`)).text();
  t.notMatch(await metrics(), /pullgate_audit_last_success_timestamp_seconds/, 'audit off: no audit metrics');

  const missing = join(gate.dir, 'no-containerd.sock');
  await reconfigure({ intervalMs: 200, containerdSocket: missing });
  t.ok(await waitFor(() => logs('node image audit failed').some((l) => l.socket === missing && String(l.err).includes('does not exist')), 15_000), 'a pass ran against the new socket and failed, naming it');

  await reconfigure({ intervalMs: 200, containerdSocket: containerd.socket });
  t.ok(await waitFor(() => logs('node image audit done').some((l) => l.socket === containerd.socket && l.denied === 1 && l.remove === false), 15_000), 'a pass ran against containerd');
  t.match(await metrics(), /^pullgate_node_images\{verdict="deny"\} 1$/m);
  t.ok((await containerd.listImages('default')).some((i) => i.name === unsigned.ref), 'remove is off: the denied image stays');

  await reconfigure({ intervalMs: 200, containerdSocket: containerd.socket, remove: true });
  t.ok(await waitFor(async () => !(await containerd.listImages('default')).some((i) => i.name === unsigned.ref), 15_000), 'remove picked up: the denied image is gone');

  await reconfigure({ intervalMs: 0, containerdSocket: containerd.socket });
  t.ok(await waitFor(() => logs('node image audit off').length === 1, 10_000), 'the audit says it is off');
  // From then on no pass starts (one already under way may finish). A bounded look for one: ten old intervals.
  const passes = () => logs('node image audit done').length + logs('node image audit failed').length;
  const settled = passes();
  t.notOk(await waitFor(() => passes() > settled + 1, 2_000), 'no pass runs with intervalMs 0');
});
