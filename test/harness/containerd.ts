// containerd 1.6 as a background process with a fresh root, state and sockets per start
// (REAL-PEERS §3). A fresh root matters: content already in containerd's store is "re-pulled" with a
// single HEAD and no GETs, even across namespaces, which would hide what a mirror sees.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criPullImage, criReady } from './cri.ts';
import type { CriPullResult } from './cri.ts';
import { makeStateDir, runCommand, socketProbe, startReadyPeer } from './processes.ts';
import type { CommandResult } from './processes.ts';

export type { CriPullResult } from './cri.ts';
export type { CommandResult } from './processes.ts';

export interface ContainerdOptions {
  /** hosts.toml tree (certs.d layout) used by CRI and by ctrPull. Default: an empty dir in the state dir. */
  certsDir?: string;
  /**
   * CRI's restrict_oom_score_adj: pod sandboxes ask for oom_score_adj -998, which this machine's kernel refuses
   * to an unprivileged-resource root (runc: "failed to update /proc/self/oom_score_adj: Permission denied");
   * on, CRI keeps containers at containerd's own score or above. Needed to run CRI pods (test/audit).
   */
  restrictOomScoreAdj?: boolean;
}

export interface CtrPullOptions {
  /** containerd namespace for ctr; default "default" (CRI always uses "k8s.io"). */
  namespace?: string;
  /** Add --plain-http. Not needed for 127.0.0.1 (containerd defaults loopback to http) or for hosts.toml entries. */
  plainHttp?: boolean;
  timeoutMs?: number;
}

export interface ContainerdPeer {
  socket: string;
  certsDir: string;
  logFile: string;
  pid: number;
  /** `ctr --address <socket> ...args`, bounded in time. */
  ctr(args: string[], timeoutMs?: number): Promise<CommandResult>;
  /** `ctr -n <ns> images pull --hosts-dir <certsDir> <ref>`: exit 0 on success, 1 on failure. */
  ctrPull(ref: string, opts?: CtrPullOptions): Promise<CommandResult>;
  /** kubelet's path: CRI /runtime.v1.ImageService/PullImage over the socket (lands in namespace k8s.io). */
  criPull(ref: string, timeoutMs?: number): Promise<CriPullResult>;
  /** Image names in a namespace. */
  listImages(namespace?: string): Promise<Array<{ name: string; digest: string }>>;
  /**
   * Forget an image in both "default" and "k8s.io", with every alias CRI created (repo@digest and the
   * image id), and garbage-collect its content (--sync), so the next pull starts from nothing.
   */
  removeImage(ref: string): Promise<void>;
  stop(): Promise<void>;
}

function configToml(dir: string, certsDir: string, restrictOomScoreAdj = false): string {
  const q = (s: string): string => JSON.stringify(s); // TOML basic strings accept JSON string escapes
  return `version = 2
root = ${q(join(dir, 'root'))}
state = ${q(join(dir, 'state'))}
# Not available here; disabling only silences their load errors.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = ${q(join(dir, 'containerd.sock'))}
[ttrpc]
  address = ${q(join(dir, 'containerd.sock.ttrpc'))}
[debug]
  address = ${q(join(dir, 'debug.sock'))}
  level = "debug"
# Default is /opt/containerd: keep every byte of this instance inside its state dir.
[plugins."io.containerd.internal.v1.opt"]
  path = ${q(join(dir, 'opt'))}
${restrictOomScoreAdj ? '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n' : ''}[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = ${q(certsDir)}
`;
}

export async function startContainerd(opts: ContainerdOptions = {}): Promise<ContainerdPeer> {
  const dir = makeStateDir('containerd');
  const certsDir = opts.certsDir ?? join(dir, 'certs.d');
  mkdirSync(certsDir, { recursive: true });
  const configFile = join(dir, 'config.toml');
  writeFileSync(configFile, configToml(dir, certsDir, opts.restrictOomScoreAdj));
  const socket = join(dir, 'containerd.sock');
  const logFile = join(dir, 'containerd.log');
  const { proc, stop } = await startReadyPeer({ name: 'containerd', command: 'containerd', args: ['--config', configFile], logFile }, dir, [
    [`socket ${socket}`, socketProbe(socket)],
    ['CRI plugin ready', () => criReady(socket)],
  ]);

  const ctr = (args: string[], timeoutMs = 60000): Promise<CommandResult> =>
    runCommand('ctr', ['--address', socket, ...args], timeoutMs);

  const listImages = async (namespace = 'default'): Promise<Array<{ name: string; digest: string }>> => {
    const res = await ctr(['-n', namespace, 'images', 'ls']);
    if (res.code !== 0) throw new Error(`ctr -n ${namespace} images ls failed: ${res.stderr}`);
    // Columns: REF TYPE DIGEST SIZE PLATFORMS LABELS; the first three have no spaces.
    return res.stdout.split('\n').slice(1).filter((l) => l.trim() !== '').map((line) => {
      const [name = '', , digest = ''] = line.trim().split(/\s+/);
      return { name, digest };
    });
  };

  return {
    socket, certsDir, logFile, pid: proc.pid, ctr, listImages, stop,
    ctrPull(ref, pullOpts = {}) {
      const args = ['-n', pullOpts.namespace ?? 'default', 'images', 'pull', '--hosts-dir', certsDir];
      if (pullOpts.plainHttp) args.push('--plain-http');
      return ctr([...args, ref], pullOpts.timeoutMs ?? 120000);
    },
    criPull: (ref, timeoutMs) => criPullImage(socket, ref, timeoutMs),
    async removeImage(ref) {
      for (const namespace of ['default', 'k8s.io']) {
        const images = await listImages(namespace);
        const target = images.find((img) => img.name === ref)?.digest;
        // CRI records the same target under the tag, repo@digest and the image id (sha256:<config>).
        const names = images.filter((img) => img.name === ref || (target !== undefined && img.digest === target)).map((img) => img.name);
        if (names.length === 0) continue;
        const res = await ctr(['-n', namespace, 'images', 'rm', '--sync', ...names]);
        if (res.code !== 0) throw new Error(`ctr -n ${namespace} images rm --sync ${names.join(' ')} failed: ${res.stderr}`);
      }
    },
  };
}
