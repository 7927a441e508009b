/**
 * The Notary v1 signing story the tests and the live captures (test/vectors/notary-live/) share, run with the real
 * `notary` client against the real notary-server over images pushed to the real registry: each target is a pushed
 * manifest's sha256 and byte length, exactly what `docker trust sign` writes (docker/cli trust_push.go).
 * Stages are cumulative; after each one `onStage` sees what is signed so far, so a caller can fetch what is served.
 */
import { pushTestImage, type PushedImage } from './images.ts';
import type { DelegationKey, NotaryClient, NotaryPeers } from './notary.ts';
import type { RegistryPeer } from './registry.ts';

export const NOTARY_STAGES = [
  'signed-targets', // init, v1 signed in the targets role, and v1's manifest under a name the server escapes
  'delegation-x509', // targets/releases with an x509 (ecdsa-x509) key, v2 signed there
  'delegation-bare', // targets/qa with a bare ecdsa public key, v3 signed there
  'delegation-rsa', // targets/ops with a bare RSA key (rsapss signatures), v4 signed there
  'removed-target', // v1 (both names) removed from targets, in one publish
  'rotated-root', // a new root key: 2.root.json signed by the old and the new key
  'server-snapshot', // snapshot key handed to the server (`key rotate … snapshot -r`), as after `docker push`
] as const;
export type NotaryStage = (typeof NOTARY_STAGES)[number];

export interface SignedTarget {
  tag: string;
  role: string;
  /** "sha256:<hex>" of the manifest, as the registry serves it. */
  digest: string;
  length: number;
  /** The registry tag of the pushed image whose manifest this is (the target's own name for real tags). */
  pushedAs: string;
}

/**
 * A target name with <, > and &: notary-server's JSON encoder escapes them (\u003c…), while signatures cover the
 * canonical form, so this name is in the signed targets to make a verifier that hashes the served bytes fail.
 * Not a valid registry tag: it only shows up in trust data (notary accepts any target name).
 */
export const ESCAPED_TARGET_NAME = 'v1<rc>&co';

export interface ScenarioDelegation { role: string; key: DelegationKey; paths: readonly string[] }

export interface ScenarioState {
  readonly gun: string;
  readonly repo: string;
  readonly client: NotaryClient;
  /** Every image pushed, by registry tag (removed targets stay here: the registry still has them). */
  readonly images: ReadonlyMap<string, PushedImage>;
  /** What the trust data signs now, by tag. */
  readonly signed: ReadonlyMap<string, SignedTarget>;
  readonly delegations: readonly ScenarioDelegation[];
  /** Tags signed once and removed since. */
  readonly removed: readonly string[];
}

export interface ScenarioOptions {
  /** Repository in the registry; the GUN is `<registry host>/<repo>`. Default `team/app`. */
  repo?: string;
  /** Stop after this stage (inclusive). Default: all of them. */
  until?: NotaryStage;
  onStage?: (stage: NotaryStage, state: ScenarioState) => Promise<void>;
}

export async function runNotaryScenario(notary: NotaryPeers, registry: RegistryPeer, opts: ScenarioOptions = {}): Promise<ScenarioState> {
  const repo = opts.repo ?? 'team/app';
  const gun = `${registry.host}/${repo}`;
  const client = notary.client(gun);
  const images = new Map<string, PushedImage>();
  const signed = new Map<string, SignedTarget>();
  const delegations: ScenarioDelegation[] = [];
  const removed: string[] = [];
  const state: ScenarioState = { gun, repo, client, images, signed, delegations, removed };

  const sign = async (tag: string, role: string, pushedAs = tag): Promise<void> => {
    const image = images.get(pushedAs) ?? await pushTestImage(registry.url, repo, pushedAs, `notary scenario ${repo}:${pushedAs}`);
    images.set(pushedAs, image);
    const hex = image.manifest.digest.slice('sha256:'.length);
    await client.addHash(tag, image.manifest.size, hex, role === 'targets' ? {} : { role });
    signed.set(tag, { tag, role, digest: image.manifest.digest, length: image.manifest.size, pushedAs });
  };
  const delegate = async (role: string, key: DelegationKey): Promise<void> => {
    await client.addDelegation(role, key);
    await client.importKey(key.privateKeyFile, role);
    delegations.push({ role, key, paths: [''] });
  };

  const steps: Record<NotaryStage, () => Promise<void>> = {
    'signed-targets': async () => {
      await client.init();
      await sign('v1', 'targets');
      await sign(ESCAPED_TARGET_NAME, 'targets', 'v1');
    },
    'delegation-x509': async () => {
      await delegate('targets/releases', await client.makeDelegationKey('releases', { form: 'x509' }));
      await sign('v2', 'targets/releases');
    },
    'delegation-bare': async () => {
      await delegate('targets/qa', await client.makeDelegationKey('qa', { form: 'bare' }));
      await sign('v3', 'targets/qa');
    },
    'delegation-rsa': async () => {
      await delegate('targets/ops', await client.makeDelegationKey('ops', { form: 'bare', algorithm: 'rsa' }));
      await sign('v4', 'targets/ops');
    },
    'removed-target': async () => {
      // Both names for v1's manifest, so its digest is signed nowhere afterwards (a by-digest pull must fail too).
      for (const tag of ['v1', ESCAPED_TARGET_NAME]) {
        await client.remove(tag, { publish: false });
        signed.delete(tag);
        removed.push(tag);
      }
      await client.publish();
    },
    'rotated-root': () => client.rotateRoot(),
    'server-snapshot': () => client.rotateSnapshotToServer(),
  };
  for (const stage of NOTARY_STAGES) {
    await steps[stage]();
    await opts.onStage?.(stage, state);
    if (stage === opts.until) break;
  }
  return state;
}
