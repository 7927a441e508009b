/**
 * Running containers for the audit tests, made the two ways a node gets them:
 * - kubelet's: a CRI pod sandbox on the host network (no CNI needed) and containers in it, through the same
 *   runtime.v1 RuntimeService calls kubelet makes (k8s.io/cri-api api.proto field numbers below);
 * - by hand: `ctr run -d` in another namespace.
 * Each returns a cleanup that stops and removes what it made, so containerd's state dir unmounts cleanly.
 */
import { bytesField, intField, stringField } from '../../node/containerd/protobuf.ts';
import { decodeStringFields, grpcUnary } from '../harness/cri.ts';
import type { ContainerdPeer } from '../harness/containerd.ts';
import { waitFor } from '../harness/wait.ts';

/** containerd 1.6's default sandbox_image; tagging a local image with it keeps RunPodSandbox off the network. */
export const DEFAULT_SANDBOX_IMAGE = 'registry.k8s.io/pause:3.6';
const NAMESPACE_MODE_NODE = 2;

async function call(socket: string, method: string, request: Buffer): Promise<Buffer> {
  const reply = await grpcUnary(socket, `/runtime.v1.RuntimeService/${method}`, request, 60_000);
  if (reply.grpcStatus !== 0) throw new Error(`CRI ${method}: gRPC status ${reply.grpcStatus}: ${reply.message}`);
  return reply.body;
}

/** PodSandboxConfig { metadata = 1 { name, uid, namespace }; linux = 8 { security_context = 2 { namespace_options = 1 { network = 1 } } } }. */
function sandboxConfig(name: string): Buffer {
  const metadata = Buffer.concat([stringField(1, name), stringField(2, `uid-${name}`), stringField(3, 'audit-test')]);
  const nsOptions = intField(1, NAMESPACE_MODE_NODE);
  const linux = bytesField(2, bytesField(1, nsOptions));
  return Buffer.concat([bytesField(1, metadata), bytesField(8, linux)]);
}

export interface CriPod {
  readonly sandboxId: string;
  /** CreateContainer + StartContainer; returns the container id. The image's entrypoint runs. */
  start(name: string, image: string): Promise<string>;
  /** Stops and removes the containers, then the sandbox. */
  remove(): Promise<void>;
}

export async function runCriPod(peer: ContainerdPeer, name: string, sandboxImage: string): Promise<CriPod> {
  const { socket } = peer;
  const tagged = await peer.ctr(['-n', 'k8s.io', 'images', 'tag', '--force', sandboxImage, DEFAULT_SANDBOX_IMAGE]);
  if (tagged.code !== 0) throw new Error(`tag sandbox image: ${tagged.stderr}`);
  // CRI learns of images created in k8s.io from containerd's events: wait until it knows the sandbox image.
  const known = await waitFor(async () => {
    const r = await grpcUnary(socket, '/runtime.v1.ImageService/ImageStatus', bytesField(1, stringField(1, DEFAULT_SANDBOX_IMAGE)), 5_000);
    return r.grpcStatus === 0 && r.body.length > 0;
  }, 15_000);
  if (!known) throw new Error(`CRI never listed ${DEFAULT_SANDBOX_IMAGE}`);
  const config = sandboxConfig(name);
  const sandboxId = decodeStringFields(await call(socket, 'RunPodSandbox', bytesField(1, config))).get(1) ?? '';
  const containers: string[] = [];
  return {
    sandboxId,
    async start(containerName, image) {
      const spec = Buffer.concat([bytesField(1, stringField(1, containerName)), bytesField(2, stringField(1, image))]);
      const id = decodeStringFields(await call(socket, 'CreateContainer', Buffer.concat([stringField(1, sandboxId), bytesField(2, spec), bytesField(3, config)]))).get(1) ?? '';
      containers.push(id);
      await call(socket, 'StartContainer', stringField(1, id));
      return id;
    },
    async remove() {
      for (const id of containers) {
        await call(socket, 'StopContainer', Buffer.concat([stringField(1, id), intField(2, 0)]));
        await call(socket, 'RemoveContainer', stringField(1, id));
      }
      await call(socket, 'StopPodSandbox', stringField(1, sandboxId));
      await call(socket, 'RemovePodSandbox', stringField(1, sandboxId));
    },
  };
}

/** `ctr -n <ns> run -d <image> <id>` (runc), and its cleanup: kill the task, delete it and the container. */
export async function ctrRun(peer: ContainerdPeer, namespace: string, image: string, id: string): Promise<() => Promise<void>> {
  const run = await peer.ctr(['-n', namespace, 'run', '-d', image, id]);
  if (run.code !== 0) throw new Error(`ctr run ${image}: ${run.stderr}`);
  const running = await waitFor(async () => / RUNNING\s*$/m.test((await peer.ctr(['-n', namespace, 'tasks', 'ls'])).stdout), 15_000);
  if (!running) throw new Error(`ctr run ${image}: task ${id} never reached RUNNING`);
  return async () => {
    await peer.ctr(['-n', namespace, 'tasks', 'kill', '-s', 'SIGKILL', id]);
    const deleted = await waitFor(async () => (await peer.ctr(['-n', namespace, 'tasks', 'delete', id])).code === 0 || !(await peer.ctr(['-n', namespace, 'tasks', 'ls'])).stdout.includes(id), 15_000);
    if (!deleted) throw new Error(`task ${id} did not stop`);
    await peer.ctr(['-n', namespace, 'containers', 'delete', id]);
  };
}
