/**
 * `pullgate doctor` on containerd configs of each shape: the config containerd 1.6 itself generates
 * (`containerd config default`, version 2), containerd ≤ 1.4's version-1 keys, containerd 2.x's version 3
 * (with its default path list, which the 2.1+ transfer service misreads), imports, and broken files. The
 * node's filesystem is a temp dir used as --host-root, so the configs keep their real absolute paths.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runDoctor, type DoctorReport } from '../../cli/doctor.ts';
import { hostsToml } from '../../proxy/hosts-toml.ts';
import { startFakeMirror } from './fake-mirror.ts';

const mirror = await startFakeMirror();
t.teardown(() => mirror.close());

/** A node: `files` under a fresh host root, plus pullgate's config pointing at the fake mirror. */
function node(files: Record<string, string>): { root: string; config: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'pg-doctor-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  const config = path.join(root, 'pullgate.json');
  writeFileSync(config, JSON.stringify({ listen: mirror.listen, registries: [{ host: 'docker.io', endpoint: 'https://registry-1.docker.io' }] }));
  return { root, config };
}

/** `files` plus the hosts.toml `pullgate hosts` writes for docker.io. */
const withHosts = (files: Record<string, string>) => ({ ...files, '/etc/containerd/certs.d/docker.io/hosts.toml': hostsToml(mirror.url) });

async function doctor(files: Record<string, string>, file = '/etc/containerd/config.toml'): Promise<DoctorReport> {
  const { root, config } = node(files);
  return runDoctor({ configFile: config, containerdConfig: file, certsDir: undefined, hostRoot: root, timeoutMs: 2000 });
}
// These cases are about containerd's config shape; the _default and trust-policy warnings (tested in
// doctor-hosts.test.ts and e2e/scope-lint.test.ts) depend on files these fixtures do not write.
const UNRELATED = new Set(['default_missing', 'policy_unreadable']);
const codes = (r: DoctorReport, level: string) => r.findings.filter((f) => f.level === level && !UNRELATED.has(f.code)).map((f) => f.code);

t.test('version 2 as containerd 1.6 generates it: config_path "" means hosts.toml is never read', async (t) => {
  const generated = execFileSync('containerd', ['config', 'default'], { encoding: 'utf8' });
  t.match(generated, /^version = 2$/m);
  const unset = await doctor(withHosts({ '/etc/containerd/config.toml': generated }));
  t.equal(unset.ok, false);
  t.same(codes(unset, 'problem'), ['config_path_unset']);
  t.equal(unset.containerd.shape, 'v2');

  const wired = await doctor(withHosts({ '/etc/containerd/config.toml': generated.replace('config_path = ""', 'config_path = "/etc/containerd/certs.d"') }));
  t.equal(wired.ok, true, JSON.stringify(wired.findings));
  t.same(codes(wired, 'ok'), ['containerd_config', 'config_path', 'hosts_ok', 'mirror_live']);
  t.same(codes(wired, 'warn'), []);
});

t.test('version 1 keys ([plugins.cri.registry]) and a key in the wrong shape', async (t) => {
  const v1 = '[plugins]\n  [plugins.cri]\n    sandbox_image = "registry.k8s.io/pause:3.9"\n    [plugins.cri.registry]\n      config_path = "/etc/containerd/certs.d"\n';
  const ok = await doctor(withHosts({ '/etc/containerd/config.toml': v1 }));
  t.equal(ok.ok, true);
  t.equal(ok.containerd.shape, 'v1');
  // A 2.x key in a version 2 file: containerd 1.x never looks there.
  const misplaced = await doctor(withHosts({ '/etc/containerd/config.toml': "version = 2\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d'\n" }));
  t.same(codes(misplaced, 'problem'), ['config_path_misplaced', 'config_path_unset']);
});

const V3 = (registry: string, images = '') => `version = 3
root = '/var/lib/containerd'
state = '/run/containerd'

[grpc]
  address = '/run/containerd/containerd.sock'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    discard_unpacked_layers = false
    image_pull_progress_timeout = '5m0s'
${images}
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'registry.k8s.io/pause:3.10'
${registry}
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
`;
const REGISTRY = (p: string) => `    [plugins.'io.containerd.cri.v1.images'.registry]\n      config_path = '${p}'\n`;

t.test('version 3 (containerd 2.x): the default path list is a bypass under the transfer service', async (t) => {
  const list = await doctor(withHosts({ '/etc/containerd/config.toml': V3(REGISTRY('/etc/containerd/certs.d:/etc/docker/certs.d')) }));
  t.equal(list.containerd.shape, 'v3');
  t.same(codes(list, 'problem'), ['transfer_path_list']);
  t.match(list.findings.find((f) => f.code === 'transfer_path_list')?.message, /containerd#12415/);
  t.equal(list.containerd.hostsDirs.length, 2, 'both roots are searched');

  const unwritten = await doctor(withHosts({ '/etc/containerd/config.toml': V3('') }));
  t.equal(unwritten.containerd.configPath, '/etc/containerd/certs.d:/etc/docker/certs.d', 'unset means 2.x\'s default list');
  t.same(codes(unwritten, 'problem'), ['transfer_path_list']);

  const local = await doctor(withHosts({ '/etc/containerd/config.toml': V3(REGISTRY('/etc/containerd/certs.d:/etc/docker/certs.d'), '    use_local_image_pull = true') }));
  t.equal(local.ok, true, 'local pulls read the list correctly');

  const single = await doctor(withHosts({ '/etc/containerd/config.toml': V3(REGISTRY('/etc/containerd/certs.d')) }));
  t.equal(single.ok, true);
  t.same(codes(single, 'warn'), ['ctr_transfer_hosts'], 'ctr through the transfer service is a known gap, not a node problem');
});

t.test('imports are merged over the main file', async (t) => {
  const report = await doctor(withHosts({
    '/etc/containerd/config.toml': "version = 3\nimports = ['/etc/containerd/conf.d/*.toml']\n",
    '/etc/containerd/conf.d/10-pullgate.toml': `version = 3\n${REGISTRY('/etc/containerd/certs.d')}`,
    '/etc/containerd/conf.d/README': 'not a toml file, not matched by the glob',
  }));
  t.equal(report.ok, true, JSON.stringify(report.findings));
  t.equal(report.containerd.configPath, '/etc/containerd/certs.d');
});

t.test('mirrors next to config_path, broken and missing files', async (t) => {
  const mirrors = await doctor(withHosts({ '/etc/containerd/config.toml': 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n    endpoint = ["https://mirror.gcr.io"]\n' }));
  t.same(codes(mirrors, 'problem'), ['mirrors_with_config_path']);
  t.same(codes(await doctor({ '/etc/containerd/config.toml': 'version = 2\n[plugins\n' }), 'problem'), ['containerd_config_invalid']);
  t.same(codes(await doctor({}), 'problem'), ['containerd_config_missing']);
  t.same(codes(await doctor({ '/etc/containerd/config.toml': 'version = 4\n' }), 'problem'), ['containerd_config_invalid']);
});
