/**
 * Images signed with Docker Content Trust, one GUN at a time, for the gate's real-peer tests and the bench: push an
 * image to the real registry, sign a tag with the real `notary` client in a role (a target is the manifest's sha256
 * and byte length, what `docker trust sign` writes: docker/cli trust_push.go), add a delegation with an x509 or a
 * bare key, remove a target, rotate the root, and move the registry's tag behind the trust data's back.
 * The GUN of `127.0.0.1:PORT/<repo>` is exactly that string: it is what a verifier asks the trust server about
 * (NOTARYV1.md "The question"). notary-scenario.ts is the fixed story the captures use; this is the toolbox.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { MEDIA, pushTestImage, putManifest, type PushedImage } from './images.ts';
import type { DelegationKey, DelegationKeyOptions, ListedTarget, NotaryClient, NotaryPeers } from './notary.ts';
import type { RegistryPeer } from './registry.ts';

export interface NotaryTarget {
  readonly tag: string;
  readonly role: string;
  /** "sha256:<hex>" of the manifest, as the registry serves it. */
  readonly digest: string;
  readonly length: number;
  readonly image: PushedImage;
}

export interface NotaryRepo {
  /** `<registry host>/<repo>`: the GUN. */
  readonly gun: string;
  readonly repo: string;
  readonly client: NotaryClient;
  /** Builds and pushes a runnable image (CRI can unpack it) under `tag`; the trust data is untouched. */
  push(tag: string, content?: string): Promise<PushedImage>;
  /** `notary addhash` of `image`'s manifest as `tag` in `role` (default `targets`), published. */
  sign(tag: string, image: PushedImage, role?: string): Promise<NotaryTarget>;
  /** push + sign. */
  pushAndSign(tag: string, role?: string): Promise<NotaryTarget>;
  /** Points the registry's `tag` at `image`'s manifest (already in this repository); the trust data still signs the old one. */
  moveTag(tag: string, image: PushedImage): Promise<void>;
  /** `notary remove` of a target from `role` (default `targets`), published. */
  remove(tag: string, role?: string): Promise<void>;
  /** `delegation add` + `key import` of a fresh key (x509 certificate or bare public key), all paths, published. */
  delegate(role: string, key: DelegationKeyOptions & { name: string }): Promise<DelegationKey>;
  /** `notary key rotate GUN root`: root v(n+1) signed by the old and the new root key. */
  rotateRoot(): Promise<void>;
  /**
   * The root role's (first) public key as SPKI PEM, from root.json or `<version>.root.json`: what a policy pins in
   * `rootKeys` (notary's root keys are x509 certificates; Connaisseur pins their public key).
   */
  rootKeyPem(version?: number): Promise<string>;
  /** `notary list`: the client's verified view, for setup checks. */
  list(role?: string): Promise<ListedTarget[]>;
}

interface TufKey { keytype: string; keyval: { public: string } }
interface RootSigned { version: number; keys: Record<string, TufKey>; roles: Record<string, { keyids: string[] }> }

/** A TUF key as SPKI PEM: `*-x509` key types carry a base64 PEM certificate, the others base64 DER SPKI. */
export function tufKeyPem(key: TufKey): string {
  const raw = Buffer.from(key.keyval.public, 'base64');
  const pub = key.keytype.endsWith('-x509') ? new X509Certificate(raw).publicKey : createPublicKey({ key: raw, format: 'der', type: 'spki' });
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

export interface NotaryRepoOptions {
  /** Run `notary init -p` (default true). Without it the GUN has no trust data: the trust server answers 404. */
  init?: boolean;
}

export async function notaryRepo(notary: NotaryPeers, registry: RegistryPeer, repo: string, opts: NotaryRepoOptions = {}): Promise<NotaryRepo> {
  const gun = `${registry.host}/${repo}`;
  const client = notary.client(gun);
  if (opts.init !== false) await client.init();

  const push = (tag: string, content = `notary-images ${repo}:${tag} ${Date.now()}`): Promise<PushedImage> =>
    pushTestImage(registry.url, repo, tag, content);
  const sign = async (tag: string, image: PushedImage, role = 'targets'): Promise<NotaryTarget> => {
    await client.addHash(tag, image.manifest.size, image.manifest.digest.slice('sha256:'.length), role === 'targets' ? {} : { role });
    return { tag, role, digest: image.manifest.digest, length: image.manifest.size, image };
  };

  return {
    gun,
    repo,
    client,
    push,
    sign,
    pushAndSign: async (tag, role) => sign(tag, await push(tag), role),
    async moveTag(tag, image) {
      await putManifest(registry.url, repo, tag, image.manifest.bytes, MEDIA.manifest);
    },
    remove: (tag, role) => client.remove(tag, role === undefined || role === 'targets' ? {} : { role }),
    async delegate(role, key) {
      const made = await client.makeDelegationKey(key.name, key);
      await client.addDelegation(role, made);
      await client.importKey(made.privateKeyFile, role);
      return made;
    },
    rotateRoot: () => client.rotateRoot(),
    async rootKeyPem(version) {
      const name = version === undefined ? 'root' : `${version}.root`;
      const got = await notary.trustFile(gun, name);
      if (got.status !== 200) throw new Error(`${gun} ${name}.json: status ${got.status}: ${got.body.toString().slice(0, 200)}`);
      const root = (JSON.parse(got.body.toString('utf8')) as { signed: RootSigned }).signed;
      const id = root.roles.root?.keyids[0];
      const key = id === undefined ? undefined : root.keys[id];
      if (key === undefined) throw new Error(`${gun} ${name}.json: no root key`);
      return tufKeyPem(key);
    },
    list: (role) => client.list(role),
  };
}
