/**
 * A crafted repository: mutable role documents and keys, `publish()` serialises and signs everything bottom-up
 * (delegations → targets → root → snapshot over their bytes → timestamp over the snapshot's bytes), with hooks to
 * bend any step.
 */
import { canonical, ecdsaKey, envelope, fileMeta, type Key, keyJson, type Plain, type SignOptions, target, type Target } from './craft.ts';

export type Delegated = { name: string; keys: Key[]; threshold: number; paths: string[]; targets: Record<string, Target>; version: number; expires: string; signers?: (Key | [Key, SignOptions])[] };

export class CraftedRepo {
  readonly gun: string;
  rootKeys: Key[];
  rootThreshold = 1;
  targetsKeys: Key[] = [ecdsaKey()];
  snapshotKeys: Key[] = [ecdsaKey()];
  timestampKeys: Key[] = [ecdsaKey()];
  expires: Record<'root' | 'targets' | 'snapshot' | 'timestamp', string> = {
    root: '2030-01-01T00:00:00Z', targets: '2030-01-01T00:00:00Z', snapshot: '2030-01-01T00:00:00Z', timestamp: '2030-01-01T00:00:00.123456789Z',
  };
  versions = { root: 1, targets: 1, snapshot: 1, timestamp: 1 };
  targets: Record<string, Target> = {};
  delegations: Delegated[] = [];
  /** Signers per role; default: the role's keys. */
  signers: Partial<Record<'root' | 'targets' | 'snapshot' | 'timestamp', (Key | [Key, SignOptions])[]>> = {};
  /** Rewrites of the computed file metadata / signed docs before signing. */
  tweak: { snapshotMeta?: (m: Record<string, Plain>) => void; timestampMeta?: (m: Record<string, Plain>) => void } = {};
  /** Rewrite a file's served bytes before its parent lists them (e.g. escape a target name differently). */
  transform?: (name: string, bytes: Buffer) => Buffer;
  /** Earlier roots served as `<v>.root`. */
  history = new Map<string, Buffer>();

  constructor(gun: string, rootKeys: Key[]) {
    this.gun = gun;
    this.rootKeys = rootKeys;
  }

  rootDoc(): Plain {
    const keys: Record<string, Plain> = {};
    for (const k of [...this.rootKeys, ...this.targetsKeys, ...this.snapshotKeys, ...this.timestampKeys]) keys[k.id] = keyJson(k);
    const role = (ks: Key[], threshold = 1) => ({ keyids: ks.map((k) => k.id), threshold });
    return {
      _type: 'Root', consistent_snapshot: false, expires: this.expires.root, keys, version: this.versions.root,
      roles: { root: role(this.rootKeys, this.rootThreshold), snapshot: role(this.snapshotKeys), targets: role(this.targetsKeys), timestamp: role(this.timestampKeys) },
    };
  }

  rootBytes(signers?: (Key | [Key, SignOptions])[]): Buffer {
    return envelope(this.rootDoc(), signers ?? this.signers.root ?? this.rootKeys);
  }

  #out(name: string, bytes: Buffer): Buffer {
    return this.transform ? this.transform(name, bytes) : bytes;
  }

  publish(): Map<string, Buffer> {
    const files = new Map<string, Buffer>(this.history);
    const meta: Record<string, Plain> = {};
    for (const d of this.delegations) {
      const doc = { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: d.expires, targets: mapTargets(d.targets), version: d.version };
      const bytes = this.#out(d.name, envelope(doc, d.signers ?? d.keys));
      files.set(d.name, bytes);
      meta[d.name] = fileMeta(bytes);
    }
    const dkeys: Record<string, Plain> = {};
    for (const d of this.delegations) for (const k of d.keys) dkeys[k.id] = keyJson(k);
    const targetsDoc = {
      _type: 'Targets', delegations: { keys: dkeys, roles: this.delegations.map((d) => ({ keyids: d.keys.map((k) => k.id), name: d.name, paths: d.paths, threshold: d.threshold })) },
      expires: this.expires.targets, targets: mapTargets(this.targets), version: this.versions.targets,
    };
    const targets = this.#out('targets', envelope(targetsDoc, this.signers.targets ?? this.targetsKeys));
    const root = this.#out('root', this.rootBytes());
    files.set('targets', targets);
    files.set('root', root);
    meta['root'] = fileMeta(root);
    meta['targets'] = fileMeta(targets);
    this.tweak.snapshotMeta?.(meta);
    const snapshot = this.#out('snapshot', envelope({ _type: 'Snapshot', expires: this.expires.snapshot, meta, version: this.versions.snapshot }, this.signers.snapshot ?? this.snapshotKeys));
    files.set('snapshot', snapshot);
    const tmeta: Record<string, Plain> = { snapshot: fileMeta(snapshot) };
    this.tweak.timestampMeta?.(tmeta);
    files.set('timestamp', this.#out('timestamp', envelope({ _type: 'Timestamp', expires: this.expires.timestamp, meta: tmeta, version: this.versions.timestamp }, this.signers.timestamp ?? this.timestampKeys)));
    return files;
  }
}

function mapTargets(t: Record<string, Target>): Plain {
  const out: Record<string, Plain> = {};
  // defineProperty: a tag named __proto__ must become an own key, not the prototype
  for (const [name, v] of Object.entries(t)) Object.defineProperty(out, name, { value: target(v), enumerable: true, writable: true, configurable: true });
  return out;
}

export { canonical };
