/**
 * `WWW-Authenticate` parsing (RFC 7235 § 4.1, the Bearer form of the distribution token spec
 * docker/distribution docs/spec/auth/token.md): `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
 */

export type Challenge =
  | { readonly scheme: 'bearer'; readonly realm: URL; readonly service: string | undefined; readonly scope: string | undefined }
  | { readonly scheme: 'basic' };

const MAX_HEADER = 4096;

export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.length > MAX_HEADER) return undefined;
  const space = value.indexOf(' ');
  const scheme = (space === -1 ? value : value.slice(0, space)).toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme !== 'bearer') return undefined;
  const params = parseParams(value.slice(space + 1));
  const realmText = params.get('realm');
  if (realmText === undefined) return undefined;
  let realm: URL;
  try {
    realm = new URL(realmText);
  } catch {
    return undefined;
  }
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return undefined;
  return { scheme: 'bearer', realm, service: params.get('service'), scope: params.get('scope') };
}

/** auth-param list: `key=token` or `key="quoted \" string"`, comma separated. */
function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /\s*([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0].length > 0) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    params.set(m[1]!.toLowerCase(), value);
  }
  return params;
}
