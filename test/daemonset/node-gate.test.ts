/**
 * The node gate DaemonSet as rendered: loopback mirror, host network, probes on the admin port, hardened
 * containers, every node — and its init container really writing the fail-closed hosts.toml (and _default,
 * except in the audit overlay), run here with the rendered args and config against a stand-in for the host's
 * certs.d, then undone by the uninstall DaemonSet's command.
 */
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildConfig } from '../../config/load.ts';
import { mirrorUrl } from '../../cli/hosts.ts';
import { parseTrustPolicyDocument } from '../../verifiers/notation/trust/trust-policy.ts';
import { inspectHostsToml } from '../../cli/doctor/hosts-check.ts';
import { BACKUP_SUFFIX } from '../../proxy/hosts-toml.ts';
import { runCommand } from '../harness/processes.ts';
import { ROOT, find, rendered } from './rendered.ts';
import type { K8sObject } from './kustomize.ts';

const BIN = path.join(ROOT, 'bin/pullgate.ts');
const base = rendered('daemonset');
const ds = find(base, 'DaemonSet', 'pullgate');
const pod = ds.spec.template.spec;
const gate = pod.containers.find((c: { name: string }) => c.name === 'pullgate');
const init = pod.initContainers.find((c: { name: string }) => c.name === 'hosts');
const configText = find(base, 'ConfigMap', 'pullgate-config').data['config.yaml'] as string;
const config = buildConfig(parseYaml(configText), '/etc/pullgate/config/config.yaml');

/** Where a container sees `file`: the volume mounted over it, and the key/path inside that volume. */
function volumeFor(container: { volumeMounts: { name: string; mountPath: string }[] }, file: string) {
  const mount = container.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
  if (mount === undefined) return undefined;
  return { volume: pod.volumes.find((v: { name: string }) => v.name === mount.name), rest: file.slice(mount.mountPath.length + 1), mount };
}

t.test('the rendered config loads with pullgate\'s own loader and keeps the mirror on loopback', async (t) => {
  t.equal(config.listen.host, '127.0.0.1', 'mirror listens on loopback only');
  t.equal(mirrorUrl(config), 'http://127.0.0.1:5050');
  t.equal(config.mode, 'enforce');
  const policy = find(base, 'ConfigMap', 'pullgate-trust-policy').data['trustpolicy.oci.json'] as string;
  t.doesNotThrow(() => parseTrustPolicyDocument(JSON.parse(policy), 'trustpolicy.oci.json'), 'the trust policy is valid notation');
});

t.test('DaemonSet: host network, every node, node-critical, DNS without cluster DNS', async (t) => {
  t.equal(pod.hostNetwork, true);
  t.equal(pod.dnsPolicy, 'Default');
  t.equal(pod.priorityClassName, 'system-node-critical');
  t.same(pod.tolerations, [{ operator: 'Exists' }], 'tolerates every taint');
  t.equal(pod.automountServiceAccountToken, false);
  t.equal(ds.spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
});

t.test('probes hit /healthz and /readyz on the admin port the config listens on', async (t) => {
  const admin = gate.ports.find((p: { name: string }) => p.name === 'admin');
  t.equal(admin.containerPort, config.admin.port);
  t.equal(gate.ports.find((p: { name: string }) => p.name === 'mirror').containerPort, config.listen.port);
  t.same(gate.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
  t.same(gate.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
  t.not(config.admin.host, '127.0.0.1', 'admin reachable by kubelet probes and Prometheus on the node address');
});

t.test('hardened containers: read-only root, no privilege escalation, no capabilities, limits', async (t) => {
  for (const c of [...pod.initContainers, ...pod.containers]) {
    const sc = c.securityContext;
    t.equal(sc.readOnlyRootFilesystem, true, `${c.name}: read-only root fs`);
    t.equal(sc.allowPrivilegeEscalation, false, `${c.name}: no privilege escalation`);
    t.same(sc.capabilities.drop, ['ALL'], `${c.name}: drops all capabilities`);
    t.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${c.name}: requests and limits`);
  }
  t.equal(gate.securityContext.runAsNonRoot, true, 'the gate runs as non-root');
  t.not(gate.securityContext.runAsUser, 0);
  t.equal(init.securityContext.runAsUser, 0, 'only the hosts.toml writer is root (certs.d belongs to root)');
});

t.test('mounts line up with the paths in the config', async (t) => {
  t.equal(volumeFor(gate, config.notation.configDir + '/x')?.volume.projected.sources[0].configMap.name, 'pullgate-trust-policy');
  const creds = volumeFor(gate, config.credentials!)!;
  t.equal(creds.volume.secret.secretName, 'pullgate-credentials');
  t.ok(find(base, 'Secret', 'pullgate-credentials').data[creds.rest], 'the credentials key exists');
  for (const c of [gate, init]) {
    const file = c.args[c.args.indexOf('--config') + 1];
    const cfg = volumeFor(c, file)!;
    t.equal(cfg.volume.configMap.name, 'pullgate-config', `${c.name}: --config is in the config ConfigMap`);
    t.equal(cfg.rest, 'config.yaml');
  }
  const dir = init.args[init.args.indexOf('--dir') + 1];
  const certs = pod.volumes.find((v: { name: string }) => v.name === init.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dir).name);
  t.same(certs.hostPath, { path: '/etc/containerd/certs.d', type: 'DirectoryOrCreate' }, 'init writes into the host\'s certs.d');
  const images = new Set([...pod.initContainers, ...pod.containers].map((c: { image: string }) => c.image));
  t.equal(images.size, 1, 'one image for init and gate');
});

/** Runs a container's args with every absolute path moved under `root` (the stand-in for its filesystem). */
async function runContainer(c: { args: string[] }, root: string, files: Record<string, string> = {}) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return runCommand(process.execPath, [BIN, ...c.args.map((a) => (a.startsWith('/') ? path.join(root, a) : a))], 30_000);
}

t.test('the init container writes _default too (--default); the audit overlay, which blocks nothing, does not', async (t) => {
  t.equal(init.args.at(-1), '--default', 'enforce: aliases and unlisted registries go to the gate');
  const auditDs = find(rendered('daemonset/overlays/audit'), 'DaemonSet', 'pullgate');
  const auditInit = auditDs.spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'hosts');
  t.same(auditInit.args, init.args.filter((a: string) => a !== '--default'), 'audit: the same command without --default');
  const pinningInit = find(rendered('daemonset/overlays/pinning'), 'DaemonSet', 'pullgate').spec.template.spec.initContainers.find((c: { name: string }) => c.name === 'hosts');
  t.same(pinningInit.args, init.args, 'pinning enforces: keeps --default');
});

t.test('the init container writes the fail-closed hosts.toml; the uninstall DaemonSet restores', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'pg-node-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const certs = path.join(root, 'host/etc/containerd/certs.d');
  mkdirSync(path.join(certs, 'docker.io'), { recursive: true });
  const original = 'server = "https://registry-1.docker.io"\n';
  writeFileSync(path.join(certs, 'docker.io/hosts.toml'), original);

  const written = await runContainer(init, root, { '/etc/pullgate/config/config.yaml': configText });
  t.equal(written.code, 0, `init container: ${written.stderr}`);
  t.match(written.stdout, 'docker.io: replaced');
  const hosts = readFileSync(path.join(certs, 'docker.io/hosts.toml'), 'utf8');
  t.match(inspectHostsToml(hosts, mirrorUrl(config)), [{ level: 'ok', code: 'hosts_ok' }], 'doctor calls it fail-closed');
  // --default: aliases (registry-1.docker.io, Registry.Host:5000) and unlisted registries reach the gate.
  t.match(written.stdout, '_default: written');
  t.match(inspectHostsToml(readFileSync(path.join(certs, '_default/hosts.toml'), 'utf8'), mirrorUrl(config)), [{ level: 'ok', code: 'hosts_ok' }], '_default goes to the gate');
  t.equal(readFileSync(path.join(certs, `docker.io/hosts.toml${BACKUP_SUFFIX}`), 'utf8'), original, 'original kept');

  const uninstall = find(rendered('daemonset/uninstall'), 'DaemonSet', 'pullgate-uninstall') as K8sObject;
  const restore = uninstall.spec.template.spec.initContainers[0];
  t.same(uninstall.spec.template.spec.volumes[0].hostPath, pod.volumes.find((v: { name: string }) => v.name === 'certs-d').hostPath, 'same host directory');
  t.same(uninstall.spec.template.spec.tolerations, pod.tolerations, 'reaches every node the gate ran on');
  const restored = await runContainer(restore, root);
  t.equal(restored.code, 0, `restore: ${restored.stderr}`);
  t.match(restored.stdout, 'docker.io: restored');
  t.equal(readFileSync(path.join(certs, 'docker.io/hosts.toml'), 'utf8'), original, 'the node pulls as before install');
  t.notOk(existsSync(path.join(certs, '_default')), '_default, which pullgate created, is gone');
});
