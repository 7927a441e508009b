/**
 * The containerd calls the node audit makes, typed at the edge. Message shapes follow containerd 1.6's API
 * (api/services/{namespaces,images,content,containers}/v1/*.proto) and the CRI v1 API (k8s.io/cri-api
 * pkg/apis/runtime/v1/api.proto); only the fields named here are read.
 */
import { createHash } from 'node:crypto';
import { ContainerdError, GrpcConnection, type GrpcReply } from './grpc.ts';
import { Message, bytesField, intField, stringField } from './protobuf.ts';

export interface StoredImage {
  readonly namespace: string;
  readonly name: string;
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

export interface ContainerUse {
  readonly namespace: string;
  readonly id: string;
  readonly name: string;
  /** The image as the container records it: a name, or (CRI) the image id = config digest. */
  readonly image: string;
  /** CRI: state == CONTAINER_RUNNING. containerd containers outside CRI: unknown, counted as running. */
  readonly running: boolean;
}

/** CRI Image as the kubelet sees it: the image id (config digest) containers refer to, and its names. */
export interface CriImage {
  readonly id: string;
  readonly repoTags: string[];
  readonly repoDigests: string[];
}

export type ContentInfo = { ok: true; size: number; labels: Map<string, string> } | { ok: false; reason: 'content_missing'; message: string };

export type ContentRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: 'content_missing' | 'content_corrupt' | 'content_too_large'; message: string };

const CRI_RUNNING = 1; // ContainerState.CONTAINER_RUNNING
const GRPC_NOT_FOUND = 5;
const GRPC_UNIMPLEMENTED = 12;
const MAX_LIST_BYTES = 64 * 1024 * 1024;

export class ContainerdClient {
  private readonly conn: GrpcConnection;
  readonly socket: string;
  private readonly timeoutMs: number;
  constructor(socket: string, timeoutMs = 30_000) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    this.conn = new GrpcConnection(socket);
  }

  private async ok(path: string, request: Buffer, namespace?: string, maxBytes = MAX_LIST_BYTES): Promise<GrpcReply> {
    const reply = await this.conn.call(path, request, { timeoutMs: this.timeoutMs, maxBytes, ...(namespace === undefined ? {} : { namespace }) });
    if (reply.status !== 0) throw new ContainerdError('protocol', `containerd ${path}${namespace ? ` (namespace ${namespace})` : ''}: gRPC status ${reply.status}: ${reply.message}`);
    return reply;
  }

  async namespaces(): Promise<string[]> {
    const reply = await this.ok('/containerd.services.namespaces.v1.Namespaces/List', Buffer.alloc(0));
    return reply.frames.flatMap((f) => new Message(f).messages(1).map((n) => n.string(1)));
  }

  /** Images/List: Image { name = 1; target = 3 (Descriptor { media_type = 1; digest = 2; size = 3 }) }. */
  async images(namespace: string): Promise<StoredImage[]> {
    const reply = await this.ok('/containerd.services.images.v1.Images/List', Buffer.alloc(0), namespace);
    return reply.frames.flatMap((f) => new Message(f).messages(1).map((img) => {
      const target = img.message(3);
      return { namespace, name: img.string(1), mediaType: target?.string(1) ?? '', digest: target?.string(2) ?? '', size: target?.int(3) ?? 0 };
    }));
  }

  /**
   * Content/Read (server-streaming ReadContentResponse { offset = 1; data = 2 }), then the sha256 check: bytes
   * that do not hash to their digest are not the manifest, whatever containerd says.
   */
  async readContent(namespace: string, digest: string, maxBytes: number): Promise<ContentRead> {
    const reply = await this.conn.call('/containerd.services.content.v1.Content/Read', stringField(1, digest), { namespace, timeoutMs: this.timeoutMs, maxBytes: maxBytes + 4096 }).catch((err: unknown) => {
      if (err instanceof ContainerdError && err.code === 'too_large') return undefined;
      throw err;
    });
    if (reply === undefined) return { ok: false, reason: 'content_too_large', message: `content ${digest} is larger than ${maxBytes} bytes` };
    if (reply.status === GRPC_NOT_FOUND) return { ok: false, reason: 'content_missing', message: `content ${digest} is not in containerd's content store (garbage-collected or never fetched)` };
    if (reply.status !== 0) throw new ContainerdError('protocol', `containerd Content/Read ${digest}: gRPC status ${reply.status}: ${reply.message}`);
    const bytes = Buffer.concat(reply.frames.map((f) => new Message(f).bytes(2)));
    const hex = createHash('sha256').update(bytes).digest('hex');
    if (`sha256:${hex}` !== digest) return { ok: false, reason: 'content_corrupt', message: `content ${digest} hashes to sha256:${hex}` };
    return { ok: true, bytes };
  }

  /**
   * Content/Info (InfoRequest { digest = 1 } → InfoResponse { info = 1 { digest = 1; size = 2; labels = 5 } }):
   * whether a blob is still in the store, its size and labels (map entries { key = 1; value = 2 }), without
   * reading it (layers can be large).
   */
  async contentInfo(namespace: string, digest: string): Promise<ContentInfo> {
    const reply = await this.conn.call('/containerd.services.content.v1.Content/Info', stringField(1, digest), { namespace, timeoutMs: this.timeoutMs, maxBytes: 64 * 1024 });
    if (reply.status === GRPC_NOT_FOUND) return { ok: false, reason: 'content_missing', message: `blob ${digest} is not in containerd's content store (garbage-collected or never fetched)` };
    if (reply.status !== 0) throw new ContainerdError('protocol', `containerd Content/Info ${digest}: gRPC status ${reply.status}: ${reply.message}`);
    const info = reply.frames[0] === undefined ? undefined : new Message(reply.frames[0]).message(1);
    if (info === undefined) throw new ContainerdError('protocol', `containerd Content/Info ${digest}: empty reply`);
    return { ok: true, size: info.int(2), labels: new Map(info.messages(5).map((e) => [e.string(1), e.string(2)])) };
  }

  /**
   * CRI ImageService/ListImages (ListImagesRequest {} → { images = 1: Image { id = 1; repo_tags = 2;
   * repo_digests = 3 } }): kubelet's view of namespace k8s.io. undefined when containerd has no CRI plugin.
   */
  async criImages(): Promise<CriImage[] | undefined> {
    const reply = await this.conn.call('/runtime.v1.ImageService/ListImages', Buffer.alloc(0), { timeoutMs: this.timeoutMs, maxBytes: MAX_LIST_BYTES });
    if (reply.status === GRPC_UNIMPLEMENTED) return undefined;
    if (reply.status !== 0) throw new ContainerdError('protocol', `CRI ListImages: gRPC status ${reply.status}: ${reply.message}`);
    return reply.frames.flatMap((f) => new Message(f).messages(1).map(criImage));
  }

  /**
   * CRI ImageService/ImageStatus (ImageStatusRequest { image = 1: ImageSpec { image = 1 } } → { image = 1 }):
   * the image a reference (tag, repo digest or id) names, as CRI resolves it; undefined when CRI has none.
   */
  async criImageStatus(reference: string): Promise<CriImage | undefined> {
    const reply = await this.conn.call('/runtime.v1.ImageService/ImageStatus', bytesField(1, stringField(1, reference)), { timeoutMs: this.timeoutMs, maxBytes: MAX_LIST_BYTES });
    if (reply.status === GRPC_UNIMPLEMENTED) return undefined;
    if (reply.status !== 0) throw new ContainerdError('protocol', `CRI ImageStatus ${reference}: gRPC status ${reply.status}: ${reply.message}`);
    const image = reply.frames[0] === undefined ? undefined : new Message(reply.frames[0]).message(1);
    return image === undefined ? undefined : criImage(image);
  }

  /** Images/Delete { name = 1; sync = 2 }: sync so the content is collected before we report it gone. */
  async deleteImage(namespace: string, name: string): Promise<void> {
    await this.ok('/containerd.services.images.v1.Images/Delete', Buffer.concat([stringField(1, name), intField(2, 1)]), namespace);
  }

  /** CRI ListContainers: Container { id = 1; metadata = 3 { name = 1 }; image = 4 { image = 1 }; image_ref = 5; state = 6 }. */
  async criContainers(): Promise<ContainerUse[]> {
    const reply = await this.conn.call('/runtime.v1.RuntimeService/ListContainers', Buffer.alloc(0), { timeoutMs: this.timeoutMs, maxBytes: MAX_LIST_BYTES });
    if (reply.status === GRPC_UNIMPLEMENTED) return []; // containerd without the CRI plugin has no kubelet containers
    if (reply.status !== 0) throw new ContainerdError('protocol', `CRI ListContainers: gRPC status ${reply.status}: ${reply.message}`);
    return reply.frames.flatMap((f) => new Message(f).messages(1).map((c) => ({
      namespace: 'k8s.io', id: c.string(1), name: c.message(3)?.string(1) ?? '', image: c.string(5) || (c.message(4)?.string(1) ?? ''), running: c.int(6) === CRI_RUNNING,
    })));
  }

  /**
   * containerd's own containers (Containers/List: Container { id = 1; image = 3 }). Whether their task runs would
   * need the tasks API; we count every one as in use, so --remove errs on the side of keeping an image.
   */
  async containers(namespace: string): Promise<ContainerUse[]> {
    const reply = await this.ok('/containerd.services.containers.v1.Containers/List', Buffer.alloc(0), namespace);
    return reply.frames.flatMap((f) => new Message(f).messages(1).map((c) => ({ namespace, id: c.string(1), name: c.string(1), image: c.string(3), running: true })));
  }

  close(): void {
    this.conn.close();
  }
}

function criImage(m: Message): CriImage {
  return { id: m.string(1), repoTags: m.strings(2), repoDigests: m.strings(3) };
}
