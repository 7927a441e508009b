/**
 * Reads a notation CLI configuration directory — the only I/O of verifiers/notation/trust. Layout and rules as notation
 * (≥ 1.2) and notation-go (dir/, verifier/trustpolicy oci.go LoadOCIDocument, verifier/truststore):
 *   <configDir>/trustpolicy.oci.json, or when it does not exist <configDir>/trustpolicy.json
 *   <configDir>/truststore/x509/{ca,signingAuthority,tsa}/<name>/<certificate files>
 * The policy is validated (a bad policy throws TrustPolicyError naming the file). Every store the policy names
 * is read now, so one snapshot is verified against and fingerprinted; a store that is missing or broken is
 * kept as a failed outcome (TrustStore.get / problems()), because notation treats that as a verification
 * failure of the statements using it, not as a broken policy (vectors ERRATA 1).
 *
 * Symlinks: the spec and notation refuse a symlinked policy file, store directory or certificate file.
 * Kubernetes ConfigMap/Secret volumes are made of symlinks (`file -> ..data/file`), so `allowSymlinks` accepts
 * them as long as they resolve inside the config directory, and skips the volume's `..`-prefixed internals.
 */
import { createHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { TrustPolicyError, TrustStoreError } from './errors.ts';
import { TRUST_POLICY_LINK, parseTrustPolicyDocument } from './trust-policy.ts';
import type { TrustPolicyDocument } from './trust-policy.ts';
import { TrustStore, buildNamedStore } from './trust-store.ts';
import type { NamedStoreOutcome, StoreEntry } from './trust-store.ts';
import type { TrustStoreType } from './trust-store-ref.ts';

export const OCI_POLICY_FILE = 'trustpolicy.oci.json';
export const LEGACY_POLICY_FILE = 'trustpolicy.json';

export interface LoadNotationConfigOptions {
  /** Follow symlinks that stay inside the config directory (Kubernetes volumes). Default false, as notation. */
  readonly allowSymlinks?: boolean;
}

export interface NotationConfigSources {
  readonly configDir: string;
  /** The policy file that was read. */
  readonly policyFile: string;
  /** `type:name` → the directory read for each store the policy names. */
  readonly stores: ReadonlyMap<string, string>;
}

export interface NotationConfig {
  readonly policy: TrustPolicyDocument;
  readonly trustStore: TrustStore;
  readonly sources: NotationConfigSources;
  /** `sha256:<hex>` over the policy file and every file of every store it names (and which are missing). */
  readonly fingerprint: string;
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

class Reader {
  readonly #root: string;
  readonly #allowSymlinks: boolean;
  #realRoot: string | undefined;

  constructor(root: string, allowSymlinks: boolean) {
    this.#root = root;
    this.#allowSymlinks = allowSymlinks;
  }

  /**
   * Without allowSymlinks: lstat (a symlink is reported as such). With it: the stat of where the path really
   * leads, and whether that is outside the config dir — checked for every path, so a symlinked parent
   * directory cannot lead out either.
   */
  async entry(path: string): Promise<{ stats: Stats; symlink: boolean; escapes: boolean }> {
    if (!this.#allowSymlinks) {
      const stats = await lstat(path);
      return { stats, symlink: stats.isSymbolicLink(), escapes: false };
    }
    this.#realRoot ??= await realpath(this.#root);
    const target = await realpath(path);
    const rel = relative(this.#realRoot, target);
    const escapes = rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
    return { stats: await stat(target), symlink: false, escapes };
  }

  get allowSymlinks(): boolean {
    return this.#allowSymlinks;
  }
}

async function readPolicy(reader: Reader, configDir: string): Promise<{ file: string; bytes: Buffer }> {
  for (const name of [OCI_POLICY_FILE, LEGACY_POLICY_FILE]) {
    const file = join(configDir, name);
    let found;
    try {
      found = await reader.entry(file);
    } catch (err) {
      if (errno(err) === 'ENOENT') continue; // notation ≥ 1.2 falls back to trustpolicy.json only when absent
      throw new TrustPolicyError('POLICY_UNREADABLE', `unable to access the trust policy: ${(err as Error).message}`, { source: file }, { cause: err });
    }
    if (found.symlink || found.escapes || !found.stats.isFile()) {
      const why = found.escapes ? 'its symlink leads outside the configuration directory' : 'symlinks are not supported';
      throw new TrustPolicyError('POLICY_NOT_REGULAR_FILE', `trust policy is not a regular file (${why}). To create a trust policy, see: ${TRUST_POLICY_LINK}`, { source: file });
    }
    try {
      return { file, bytes: await readFile(file) };
    } catch (err) {
      const detail = errno(err) === 'EACCES' ? `unable to read trust policy due to file permissions, please verify the permissions of ${file}` : `unable to read trust policy: ${(err as Error).message}`;
      throw new TrustPolicyError('POLICY_UNREADABLE', detail, { source: file }, { cause: err });
    }
  }
  throw new TrustPolicyError('POLICY_NOT_FOUND', `trust policy is not present (neither ${OCI_POLICY_FILE} nor ${LEGACY_POLICY_FILE}). To create a trust policy, see: ${TRUST_POLICY_LINK}`, { source: configDir });
}

type StoreRead = { outcome: NamedStoreOutcome; dir: string; entries: StoreEntry[] };

async function readStore(reader: Reader, configDir: string, type: TrustStoreType, name: string): Promise<StoreRead> {
  const dir = join(configDir, 'truststore', 'x509', type, name);
  const where = { storeType: type, storeName: name, location: dir };
  const failed = (error: TrustStoreError): StoreRead => ({ outcome: { ok: false, type, name, error }, dir, entries: [] });
  // The name charset allows `.` and `..`; as paths they are the type folder or x509/ itself, never a store.
  if (name === '.' || name === '..') return failed(new TrustStoreError('STORE_NAME_INVALID', `trust store name ${JSON.stringify(name)} is not a directory name`, where));
  let found;
  try {
    found = await reader.entry(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return failed(new TrustStoreError('STORE_NOT_FOUND', `the trust store ${JSON.stringify(name)} of type ${JSON.stringify(type)} does not exist`, where));
    return failed(new TrustStoreError('STORE_UNREADABLE', `failed to access the trust store ${JSON.stringify(name)} of type ${JSON.stringify(type)}: ${(err as Error).message}`, where, { cause: err }));
  }
  if (found.escapes) {
    return failed(new TrustStoreError('STORE_NOT_DIRECTORY', `the trust store ${name} of type ${type} with path ${dir} leads outside the configuration directory`, where));
  }
  if (found.symlink || !found.stats.isDirectory()) {
    return failed(new TrustStoreError('STORE_NOT_DIRECTORY', `the trust store ${name} of type ${type} with path ${dir} is not a regular directory (symlinks are not supported)`, where));
  }
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    return failed(new TrustStoreError('STORE_UNREADABLE', `failed to access the trust store ${JSON.stringify(name)} of type ${JSON.stringify(type)}: ${(err as Error).message}`, where, { cause: err }));
  }
  const entries: StoreEntry[] = [];
  for (const d of dirents) {
    if (reader.allowSymlinks && d.name.startsWith('..')) continue; // Kubernetes atomic-writer internals
    const path = join(dir, d.name);
    try {
      const e = await reader.entry(path);
      if (e.escapes) entries.push({ name: d.name, kind: 'outside' });
      else if (e.symlink) entries.push({ name: d.name, kind: 'symlink' });
      else if (e.stats.isDirectory()) entries.push({ name: d.name, kind: 'directory' });
      else if (e.stats.isFile()) entries.push({ name: d.name, kind: 'file', bytes: await readFile(path) });
      else entries.push({ name: d.name, kind: 'other' });
    } catch (err) {
      return failed(new TrustStoreError('STORE_UNREADABLE', `failed to read the trusted certificate ${d.name} in trust store ${name} of type ${type}: ${(err as Error).message}`, { ...where, file: d.name }, { cause: err }));
    }
  }
  return { outcome: buildNamedStore(type, name, entries, dir), dir, entries };
}

/** Length-prefixed framing, so no two different inputs hash the same. */
function frame(hash: ReturnType<typeof createHash>, ...parts: Array<string | Uint8Array>): void {
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(bytes.length));
    hash.update(len).update(bytes);
  }
}

/** Loads and validates `<configDir>`'s trust policy and the trust stores it names. */
export async function loadNotationConfig(configDir: string, options: LoadNotationConfigOptions = {}): Promise<NotationConfig> {
  const root = resolve(configDir);
  const reader = new Reader(root, options.allowSymlinks ?? false);
  const policyFile = await readPolicy(reader, root);
  let json: unknown;
  try {
    json = JSON.parse(policyFile.bytes.toString('utf8'));
  } catch (err) {
    throw new TrustPolicyError('POLICY_MALFORMED', `malformed trust policy (${(err as Error).message}). To create a trust policy, see: ${TRUST_POLICY_LINK}`, { source: policyFile.file }, { cause: err });
  }
  const policy = parseTrustPolicyDocument(json, policyFile.file);

  const refs = new Map<string, { type: TrustStoreType; name: string }>();
  for (const s of policy.statements) for (const r of s.trustStores) refs.set(r.text, { type: r.type, name: r.name });
  const wanted = [...refs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const reads = await Promise.all(wanted.map(async ([key, r]) => ({ key, ...(await readStore(reader, root, r.type, r.name)) })));

  const hash = createHash('sha256');
  frame(hash, 'pullgate/notation-config/v1', relative(root, policyFile.file), policyFile.bytes);
  for (const read of reads) {
    frame(hash, 'store', read.key, read.outcome.ok ? 'ok' : read.outcome.error.code);
    for (const e of [...read.entries].sort((a, b) => (a.name < b.name ? -1 : 1))) frame(hash, e.name, e.kind, e.kind === 'file' ? e.bytes : '');
  }
  return {
    policy,
    trustStore: new TrustStore(reads.map((r) => r.outcome)),
    sources: { configDir: root, policyFile: policyFile.file, stores: new Map(reads.map((r) => [r.key, r.dir])) },
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}
