/**
 * What may go into a trust-server URL. notary-server routes on the raw path (`/v2/{gun}/_trust/tuf/{role}.json`,
 * notary server/server.go), so a GUN or role name is checked against the forms a verifier asks for before it is
 * spliced in: no `..`, no `?`/`#`/`%`, no whitespace or control characters, bounded length. Anything else is
 * `invalid_request` and nothing is sent.
 */
import { NotaryServerError } from './notary-errors.ts';

/** docker/distribution reference: a full name is at most 255 characters (NameTotalLengthMax). */
const MAX_GUN = 255;
/** notary tuf/data/roles.go IsDelegation: a delegation name is shorter than 256 (its database column). */
const MAX_ROLE = 255;

// Host: a DNS name or IPv4 with an optional port, or a bracketed IPv6 literal; then repository path components
// (docker's grammar: alphanumerics with single separators; letters of either case, the server decides what exists).
const HOST = String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?`;
const COMPONENT = String.raw`[A-Za-z0-9]+(?:(?:[._]|__|-+)[A-Za-z0-9]+)*`;
const GUN = new RegExp(`^${HOST}(?:/${COMPONENT})+$`);

const TOP_LEVEL = new Set(['root', 'timestamp', 'snapshot', 'targets']);
/** notary IsDelegation: `targets/` then `[-a-z0-9_/]`, and the name is its own path.Clean (no empty segments). */
const DELEGATION = /^targets(?:\/[-a-z0-9_]+)+$/;
/** `<version>.root`: root versions are positive integers (TUF § 5.3.4); ten digits cover any int32 version. */
const VERSIONED_ROOT = /^[1-9][0-9]{0,9}\.root$/;

export function checkGun(gun: string): void {
  if (typeof gun !== 'string' || gun.length === 0 || gun.length > MAX_GUN || gun.includes('..') || !GUN.test(gun)) {
    throw new NotaryServerError('invalid_request', `not a GUN a trust server serves: ${JSON.stringify(String(gun).slice(0, 300))}`);
  }
}

export function checkRoleName(name: string): void {
  const ok = typeof name === 'string' && name.length <= MAX_ROLE && (TOP_LEVEL.has(name) || DELEGATION.test(name) || VERSIONED_ROOT.test(name));
  if (!ok) throw new NotaryServerError('invalid_request', `not a Notary v1 role name: ${JSON.stringify(String(name).slice(0, 300))}`);
}

/** True for `<version>.root`: a root version, once the server has one, is fixed (notary stores each version once). */
export function isVersionedRoot(name: string): boolean {
  return VERSIONED_ROOT.test(name);
}

/** The request path for one metadata file (REAL-PEERS § 7), after both parts are checked. */
export function trustPath(gun: string, name: string): string {
  checkGun(gun);
  checkRoleName(name);
  return `/v2/${gun}/_trust/tuf/${name}.json`;
}

/** The token scope for reading a GUN's trust data: the server's challenge names `repository:<GUN>:pull`. */
export function pullScope(gun: string): string {
  return `repository:${gun}:pull`;
}
