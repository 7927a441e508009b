/**
 * X.509 distinguished names as notation reads them in `x509.subject:` trusted identities
 * (trust-store-trust-policy.md § "Trusted Identities Constraints"): notation-go internal/pkix
 * ParseDistinguishedName on top of go-ldap v3 ParseDN (RFC 4514 syntax, the v3.4.7+ parser that notation-go's
 * 2025 releases ship). The result is a map type → value, so comparison is order-insensitive; types and values
 * are compared exactly (case-sensitive), as notation does. Quirks kept on purpose, because they decide which
 * identities notation accepts: `S` is an alias of `ST` (notation-go #432); `=#` (BER-encoded values) is
 * refused outright; multi-valued RDNs (`+`) are refused; an empty value counts as absent.
 */

export interface DistinguishedName {
  /** The text it was parsed from. */
  readonly text: string;
  /** Attribute type → value, after unescaping. */
  readonly attributes: ReadonlyMap<string, string>;
}

export type DistinguishedNameOutcome =
  | { readonly ok: true; readonly dn: DistinguishedName }
  | { readonly ok: false; readonly reason: string };

const MANDATORY = ['C', 'ST', 'O'] as const;
const MUST_CONTAIN = `it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`;

/** Go's unicode.IsSpace, which strings.TrimSpace uses (it differs from String.prototype.trim: U+0085 yes, U+FEFF no). */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
function goTrimSpace(s: string): string {
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  while (start < end && GO_SPACE.test(cps[start] as string)) start++;
  while (end > start && GO_SPACE.test(cps[end - 1] as string)) end--;
  return cps.slice(start, end).join('');
}

const SPECIAL = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Go strings are bytes: `\C3\A9` is é, but `\FF` alone is not text. Such values cannot equal any certificate
 * value (Go's x509 parser only yields valid UTF-8), so they get a form that never collides with real text.
 */
function bytesToValue(bytes: number[]): string {
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return `\u{10ffff}invalid-utf8:${Buffer.from(bytes).toString('hex')}`;
  }
}

type Decoded = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/** go-ldap decodeString: trim, then undo RFC 4514 escapes (`\,` and hex pairs `\2C`). */
function decodeString(str: string): Decoded {
  const s = Array.from(goTrimSpace(str));
  // go-ldap re-adds a trailing space when the trimmed text ends in `\` and the byte before the original last
  // byte is a space (its attempt at keeping an escaped trailing space). On a one-byte input Go would index out
  // of range and panic; here that is a corrupted escape.
  if (s.length > 0 && s[s.length - 1] === '\\') {
    const raw = utf8.encode(str);
    if (raw.length < 2) return { ok: false, reason: `got corrupted escaped character: '${s.join('')}'` };
    if (raw[raw.length - 2] === 0x20) s.push(' ');
  }
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch !== '\\') {
      out.push(...utf8.encode(ch));
      continue;
    }
    if (i + 1 >= s.length) return { ok: false, reason: `got corrupted escaped character: '${s.join('')}'` };
    const next = s[i + 1] as string;
    if (SPECIAL.has(next)) {
      out.push(next.charCodeAt(0));
      i++;
      continue;
    }
    if (i + 2 >= s.length) return { ok: false, reason: `failed to decode escaped character: encoding/hex: invalid byte: ${next}` };
    const pair = next + (s[i + 2] as string);
    if (utf8.encode(pair).length !== 2) return { ok: false, reason: `failed to decode escaped character: invalid byte: ${pair}` };
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) return { ok: false, reason: `failed to decode escaped character: encoding/hex: invalid byte: ${JSON.stringify(pair)}` };
    out.push(Number.parseInt(pair, 16));
    i += 2;
  }
  return { ok: true, value: bytesToValue(out) };
}

type Rdn = Array<{ type: string; value: string }>;

/** go-ldap ParseDN: split on unescaped `,` `;` (RDNs) and `+` (values of one RDN); the first `=` ends the type. */
function parseRdns(input: string): { ok: true; rdns: Rdn[] } | { ok: false; reason: string } {
  const str = goTrimSpace(input);
  const rdns: Rdn[] = [];
  if (str.length === 0) return { ok: true, rdns };
  let rdn: Rdn = [];
  let type = '';
  let escaping = false;
  let start = 0;
  for (let i = 0; i < str.length; i++) {
    const ch = str[i];
    if (escaping) {
      escaping = false;
    } else if (ch === '\\') {
      escaping = true;
    } else if (ch === '=' && type.length === 0) {
      const t = decodeString(str.slice(start, i));
      if (!t.ok) return t;
      type = t.value;
      start = i + 1;
    } else if (ch === ',' || ch === '+' || ch === ';') {
      if (type.length === 0) return { ok: false, reason: 'incomplete type, value pair' };
      const v = decodeString(str.slice(start, i));
      if (!v.ok) return v;
      rdn.push({ type, value: v.value });
      type = '';
      start = i + 1;
      if (ch !== '+') {
        rdns.push(rdn);
        rdn = [];
      }
    }
  }
  if (type.length === 0) return { ok: false, reason: 'DN ended with incomplete type, value pair' };
  // A value starting with `#` (BER) is only reachable through `=#`, which notation refuses before parsing.
  const v = decodeString(str.slice(start));
  if (!v.ok) return v;
  rdn.push({ type, value: v.value });
  rdns.push(rdn);
  return { ok: true, rdns };
}

/** notation-go pkix.ParseDistinguishedName. */
export function parseDistinguishedName(input: string): DistinguishedNameOutcome {
  const text = input.toWellFormed();
  const q = JSON.stringify(text);
  // notation-go #276: go-ldap's BER decoding of `#…` values could allocate without bound.
  if (text.includes('=#')) {
    return { ok: false, reason: `unsupported distinguished name (DN) ${q}: notation does not support x509.subject identities containing "=#"` };
  }
  const parsed = parseRdns(text);
  if (!parsed.ok) {
    return { ok: false, reason: `parsing distinguished name (DN) ${q} failed with err: ${parsed.reason}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard` };
  }
  const attributes = new Map<string, string>();
  for (const rdn of parsed.rdns) {
    if (rdn.length > 1) {
      return { ok: false, reason: `distinguished name (DN) ${q} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported` };
    }
    for (const { type: rawType, value } of rdn) {
      const type = rawType === 'S' ? 'ST' : rawType;
      // An empty earlier value does not count: notation tests `== ""`, so `C=,C=US` is not a duplicate.
      if ((attributes.get(type) ?? '') !== '') {
        return { ok: false, reason: `distinguished name (DN) ${q} has duplicate RDN attribute for ${JSON.stringify(type)}, DN can only have unique RDN attributes` };
      }
      attributes.set(type, value);
    }
  }
  for (const type of MANDATORY) {
    if ((attributes.get(type) ?? '') === '') {
      return { ok: false, reason: `distinguished name (DN) ${q} has no mandatory RDN attribute for ${JSON.stringify(type)}, ${MUST_CONTAIN}` };
    }
  }
  return { ok: true, dn: Object.freeze({ text, attributes }) };
}

/**
 * notation-go pkix.IsSubsetDN: every attribute of `subset` has the same value in `of` (an absent attribute reads
 * as ""). Used both to match a signer (identity ⊆ certificate subject) and to find overlapping identities.
 */
export function isSubsetDN(subset: DistinguishedName, of: DistinguishedName): boolean {
  for (const [type, value] of subset.attributes) {
    if ((of.attributes.get(type) ?? '') !== value) return false;
  }
  return true;
}
