/**
 * Typed, bounded decoding of Notary v1 metadata (notary `tuf/data/{root,timestamp,snapshot,targets}.go`), done once at
 * the edge: the rest of the verifier only sees these types. Structure rules follow notary's `isValid*Structure`:
 * exact `_type`, version ≥ 1, every base role present in root with threshold ≥ 1 and keys that exist, file metadata
 * with at least one known hash of the right size. Size and count bounds are ours (fail closed on anything larger).
 */
import { canonicalJson, type JsonObject, type JsonValue, parseJson } from './canonical-json.ts';
import { fail } from './errors.ts';
import { parseTufKey, type TufKey } from './keys.ts';
import type { RoleKeys, TufSignature } from './signatures.ts';

/** Byte bounds per metadata file (notary caps downloads at 100 MiB; real files are kilobytes). */
export const MAX_BYTES = { root: 1 << 20, timestamp: 64 << 10, snapshot: 4 << 20, targets: 16 << 20 } as const;
const MAX_SIGNATURES = 64;
const MAX_KEYS = 256;
const MAX_META = 4096;
const MAX_TARGETS = 100_000;
const MAX_DELEGATIONS = 256;
const MAX_PATHS = 256;

export type Signed = { readonly signed: JsonObject; readonly signatures: readonly TufSignature[]; readonly canonical: Buffer };
export type Common = { readonly version: number; readonly expires: Date };
export type Hashes = { readonly sha256?: Buffer; readonly sha512?: Buffer };
export type FileMeta = { readonly length: number; readonly hashes: Hashes; readonly version?: number };
export type Root = Common & { readonly roles: Readonly<Record<'root' | 'targets' | 'snapshot' | 'timestamp', RoleKeys>> };
export type Timestamp = Common & { readonly snapshot: FileMeta };
export type Snapshot = Common & { readonly meta: ReadonlyMap<string, FileMeta> };
export type Delegation = RoleKeys & { readonly paths: readonly string[] };
export type Targets = Common & { readonly targets: ReadonlyMap<string, FileMeta>; readonly delegations: readonly Delegation[] };

const isObj = (v: JsonValue | undefined): v is JsonObject => v instanceof Map;
const int = (v: JsonValue | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Decode the envelope `{"signed": …, "signatures": [{keyid, method, sig}]}` and canonicalise `signed`. */
export function parseSigned(bytes: Uint8Array, what: string, maxBytes: number): Signed {
  if (bytes.length > maxBytes) fail('metadata_invalid', `${what} is ${bytes.length} bytes, over the ${maxBytes}-byte bound`);
  const top = parseJson(bytes, what);
  if (!isObj(top)) return fail('metadata_invalid', `${what} is not a signed metadata object`);
  const signed = top.get('signed');
  const sigs = top.get('signatures');
  if (!isObj(signed)) return fail('metadata_invalid', `${what} has no "signed" object`);
  if (sigs !== null && sigs !== undefined && !Array.isArray(sigs)) return fail('metadata_invalid', `${what}: "signatures" is not a list`);
  const list = sigs ?? [];
  if (list.length > MAX_SIGNATURES) fail('metadata_invalid', `${what} has more than ${MAX_SIGNATURES} signatures`);
  const signatures = list.map((s): TufSignature => {
    if (!isObj(s)) return fail('metadata_invalid', `${what}: a signature is not an object`);
    const keyid = s.get('keyid');
    const method = s.get('method');
    const sig = s.get('sig');
    if (typeof keyid !== 'string' || typeof method !== 'string' || typeof sig !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(sig)) {
      return fail('metadata_invalid', `${what}: a signature lacks keyid/method/sig`);
    }
    return { keyid, method, sig: Buffer.from(sig, 'base64') };
  });
  return { signed, signatures, canonical: canonicalJson(signed) };
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

function common(s: JsonObject, type: string, what: string): Common {
  if (s.get('_type') !== type) fail('metadata_invalid', `${what}: _type is not ${type}`);
  const version = s.get('version');
  if (!int(version) || version < 1) fail('metadata_invalid', `${what}: version is not an integer ≥ 1`);
  const e = s.get('expires');
  const m = typeof e === 'string' ? TIME.exec(e) : null;
  if (!m) return fail('metadata_invalid', `${what}: expires is not an RFC 3339 time`);
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, frac ? Math.floor(+`0.${frac}` * 1000) : 0);
  const offset = zone === 'Z' ? 0 : (zone!.startsWith('-') ? -1 : 1) * (+zone!.slice(1, 3) * 60 + +zone!.slice(4, 6)) * 60_000;
  if (!Number.isFinite(ms)) fail('metadata_invalid', `${what}: expires is out of range`);
  return { version: version as number, expires: new Date(ms - offset) };
}

function fileMeta(v: JsonValue | undefined, what: string): FileMeta {
  if (!isObj(v)) return fail('metadata_invalid', `${what}: file metadata is not an object`);
  const length = v.get('length');
  const hashes = v.get('hashes');
  if (!int(length) || length < 0) fail('metadata_invalid', `${what}: length is not a non-negative integer`);
  if (!isObj(hashes)) return fail('metadata_invalid', `${what}: hashes is not an object`);
  const out: { sha256?: Buffer; sha512?: Buffer } = {};
  for (const [alg, size] of [['sha256', 32], ['sha512', 64]] as const) {
    const h = hashes.get(alg);
    if (h === undefined) continue;
    if (typeof h !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(h)) fail('metadata_invalid', `${what}: ${alg} is not base64`);
    const b = Buffer.from(h as string, 'base64');
    if (b.length !== size) fail('metadata_invalid', `${what}: ${alg} is ${b.length} bytes, not ${size}`);
    out[alg] = b;
  }
  if (!out.sha256 && !out.sha512) fail('metadata_invalid', `${what}: no sha256 or sha512 hash`);
  const version = v.get('version');
  return int(version) ? { length: length as number, hashes: out, version } : { length: length as number, hashes: out };
}

function keyMap(v: JsonValue | undefined, what: string): Map<string, TufKey> {
  if (!isObj(v)) return fail('metadata_invalid', `${what}: keys is not an object`);
  if (v.size > MAX_KEYS) fail('metadata_invalid', `${what} lists more than ${MAX_KEYS} keys`);
  return new Map([...v].map(([id, k]) => [id, parseTufKey(id, k, what)] as const));
}

function roleKeys(name: string, v: JsonValue | undefined, keys: ReadonlyMap<string, TufKey>, what: string): RoleKeys {
  if (!isObj(v)) return fail('metadata_invalid', `${what}: role ${name} is missing`);
  const ids = v.get('keyids');
  const threshold = v.get('threshold');
  if (!Array.isArray(ids) || ids.length > MAX_KEYS || !int(threshold) || threshold < 1) {
    return fail('metadata_invalid', `${what}: role ${name} needs keyids and a threshold ≥ 1`);
  }
  const roleKeyMap = new Map<string, TufKey>();
  for (const id of ids) {
    const key = typeof id === 'string' ? keys.get(id) : undefined;
    if (!key) return fail('metadata_invalid', `${what}: role ${name} names key ${String(id).slice(0, 80)} that is not listed`);
    roleKeyMap.set(key.id, key);
  }
  return { name, keys: roleKeyMap, threshold: threshold as number };
}

export function parseRoot(s: Signed, what = 'root'): Root {
  const c = common(s.signed, 'Root', what);
  const keys = keyMap(s.signed.get('keys'), what);
  const roles = s.signed.get('roles');
  if (!isObj(roles)) return fail('metadata_invalid', `${what}: roles is not an object`);
  const r = (n: 'root' | 'targets' | 'snapshot' | 'timestamp') => roleKeys(n, roles.get(n), keys, what);
  return { ...c, roles: { root: r('root'), targets: r('targets'), snapshot: r('snapshot'), timestamp: r('timestamp') } };
}

export function parseTimestamp(s: Signed): Timestamp {
  const c = common(s.signed, 'Timestamp', 'timestamp');
  const meta = s.signed.get('meta');
  if (!isObj(meta)) return fail('metadata_invalid', 'timestamp: meta is not an object');
  return { ...c, snapshot: fileMeta(meta.get('snapshot'), 'timestamp meta for snapshot') };
}

export function parseSnapshot(s: Signed): Snapshot {
  const c = common(s.signed, 'Snapshot', 'snapshot');
  const meta = s.signed.get('meta');
  if (!isObj(meta) || meta.size > MAX_META) return fail('metadata_invalid', `snapshot: meta is not an object of at most ${MAX_META} entries`);
  return { ...c, meta: new Map([...meta].map(([name, m]) => [name, fileMeta(m, `snapshot meta for ${name.slice(0, 300)}`)] as const)) };
}

export function parseTargets(s: Signed, what: string): Targets {
  const c = common(s.signed, 'Targets', what);
  const t = s.signed.get('targets');
  if (!isObj(t) || t.size > MAX_TARGETS) return fail('metadata_invalid', `${what}: targets is not an object of at most ${MAX_TARGETS} entries`);
  const targets = new Map([...t].map(([name, m]) => [name, fileMeta(m, `${what} target ${JSON.stringify(name.slice(0, 200))}`)] as const));
  const d = s.signed.get('delegations');
  const delegations: Delegation[] = [];
  if (isObj(d)) {
    const rolesV = d.get('roles');
    const list = rolesV === null || rolesV === undefined ? [] : rolesV;
    if (!Array.isArray(list) || list.length > MAX_DELEGATIONS) fail('metadata_invalid', `${what}: delegations.roles is not a list of at most ${MAX_DELEGATIONS}`);
    const keys = list.length > 0 ? keyMap(d.get('keys'), `${what} delegations`) : new Map<string, TufKey>();
    for (const r of list as JsonValue[]) {
      if (!isObj(r) || typeof r.get('name') !== 'string') fail('metadata_invalid', `${what}: a delegation has no name`);
      const role = r as JsonObject;
      const name = role.get('name') as string;
      const paths = role.get('paths') ?? [];
      if (!Array.isArray(paths) || paths.length > MAX_PATHS || !paths.every((p) => typeof p === 'string')) {
        fail('metadata_invalid', `${what}: delegation ${name.slice(0, 300)} paths are not a list of strings`);
      }
      delegations.push({ ...roleKeys(name, role, keys, `${what} delegation`), paths: paths as string[] });
    }
  } else if (d !== undefined && d !== null) {
    fail('metadata_invalid', `${what}: delegations is not an object`);
  }
  return { ...c, targets, delegations };
}
