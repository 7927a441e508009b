/**
 * Per-GUN memory of the last verified metadata, so a trust server (or a man in the middle) serving an older, still
 * unexpired set is caught: TUF's rollback protection (TUF spec § 5.3–5.6 "version number … must be ≥ the trusted
 * one"; notary `tuf/builder.go` keeps the same per-repository state in its cache). Without state the only bound on a
 * replayed or frozen set is the timestamp's 14-day expiry.
 *
 * The engine creates one `NotaryV1VersionState` per process and passes it into every verification, across config
 * reloads (a reload must not forget what was seen). It is in memory only, and bounded: the least recently used GUN is
 * forgotten first. Versions are committed only after a whole metadata set verified.
 */
import type { Root } from './roles.ts';

export type RoleVersion = { readonly version: number; readonly contentHash: string };

export type GunState = {
  /** role name (root, timestamp, snapshot, targets, targets/…) → last verified version and canonical content hash */
  readonly roles: Map<string, RoleVersion>;
  /** The newest root verified under a given pin, so rotation is followed from there rather than from 1.root.json. */
  trustedRoot?: { readonly pinId: string; readonly root: Root; readonly version: number };
};

export class NotaryV1VersionState {
  readonly #guns = new Map<string, GunState>();
  readonly #maxGuns: number;

  constructor(options: { maxGuns?: number } = {}) {
    this.#maxGuns = Math.max(1, options.maxGuns ?? 10_000);
  }

  get size(): number {
    return this.#guns.size;
  }

  /** The state for a GUN (read-only use; `commit` is the only writer). */
  peek(gun: string): GunState | undefined {
    return this.#guns.get(gun);
  }

  /**
   * A role's rollback verdict against what was seen: lower version = rollback; the same version with different
   * content = a re-issued (forked) version, which TUF forbids just as firmly.
   */
  check(gun: string, role: string, seen: RoleVersion): { ok: true } | { ok: false; lastVersion: number; forked: boolean } {
    const last = this.#guns.get(gun)?.roles.get(role);
    if (!last) return { ok: true };
    if (seen.version < last.version) return { ok: false, lastVersion: last.version, forked: false };
    if (seen.version === last.version && seen.contentHash !== last.contentHash) return { ok: false, lastVersion: last.version, forked: true };
    return { ok: true };
  }

  commit(gun: string, roles: ReadonlyMap<string, RoleVersion>, trustedRoot?: GunState['trustedRoot']): void {
    const state = this.#guns.get(gun) ?? { roles: new Map<string, RoleVersion>() };
    for (const [role, v] of roles) {
      const last = state.roles.get(role);
      if (!last || v.version >= last.version) state.roles.set(role, v);
    }
    if (trustedRoot && (!state.trustedRoot || state.trustedRoot.pinId !== trustedRoot.pinId || trustedRoot.version >= state.trustedRoot.version)) {
      state.trustedRoot = trustedRoot;
    }
    this.#guns.delete(gun); // re-insert: most recently used last
    this.#guns.set(gun, state);
    while (this.#guns.size > this.#maxGuns) {
      const oldest = this.#guns.keys().next().value as string;
      this.#guns.delete(oldest);
    }
  }
}
