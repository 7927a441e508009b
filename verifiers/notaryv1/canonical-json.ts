/**
 * Strict JSON decoding and notary's canonical JSON encoding.
 *
 * Signatures in Notary v1 cover the canonical form of the decoded `signed` object, never the served bytes (the server
 * escapes `<`, `>`, `&`): notary `tuf/signed/verify.go` decodes into `map[string]interface{}` and re-encodes with
 * `github.com/docker/go/canonical/json` `MarshalCanonical` — object keys sorted by byte order, no whitespace, only
 * `"` and `\` escaped (every other character, control characters included, is written raw as UTF-8), integers only.
 *
 * The decoder is stricter than Go's on purpose (fail closed): invalid UTF-8, lone surrogates, duplicate keys,
 * fractions/exponents and integers beyond 2^53 are rejected rather than silently normalised, so that the bytes we
 * verify can never mean two things.
 */
import { fail } from './errors.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** Objects decode to a Map: own keys only, so `constructor` / `__proto__` are ordinary names. */
export type JsonObject = Map<string, JsonValue>;

const MAX_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseJson(bytes: Uint8Array, what: string): JsonValue {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('metadata_invalid', `${what} is not valid UTF-8`);
  }
  let i = 0;
  const bad = (why: string): never => fail('metadata_invalid', `${what} is not valid JSON (${why} at offset ${i})`);
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const str = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) bad('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) { out += text.slice(start, i); i++; return out; }
      if (c < 0x20) bad('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        // decoded from valid UTF-8, so surrogates arrive paired; keep the pair as is
        i += 2;
        continue;
      }
      if (c !== 0x5c) { i++; continue; }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const unit = (at: number) => {
            const h = text.slice(at, at + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) bad('bad \\u escape');
            return parseInt(h, 16);
          };
          const u = unit(i);
          i += 4;
          if (u >= 0xd800 && u <= 0xdbff) {
            if (text[i] !== '\\' || text[i + 1] !== 'u') bad('lone surrogate');
            const low = unit(i + 2);
            if (low < 0xdc00 || low > 0xdfff) bad('lone surrogate');
            i += 6;
            out += String.fromCharCode(u, low);
          } else if (u >= 0xdc00 && u <= 0xdfff) {
            bad('lone surrogate');
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default: bad('bad escape');
      }
      start = i;
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) bad('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = new Map();
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') bad('expected a key');
        const key = str();
        if (obj.has(key)) bad(`duplicate key ${JSON.stringify(key)}`);
        ws();
        if (text[i] !== ':') bad('expected ":"');
        i++;
        obj.set(key, value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        bad('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        bad('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(?:0|[1-9][0-9]*)([.eE])?/.exec(text.slice(i, i + 32));
    if (!m) return bad('unexpected character');
    if (m[1] !== undefined) return bad('only integers are allowed');
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n) || Object.is(n, -0)) bad('integer out of range');
    i += m[0].length;
    return n;
  };
  const v = value(0);
  ws();
  if (i !== text.length) bad('trailing data');
  return v;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function encodeString(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function encode(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail('metadata_invalid', 'canonical JSON holds integers only');
    return String(v);
  }
  if (typeof v === 'string') return encodeString(v);
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  const keys = [...v.keys()].sort(byteOrder);
  return `{${keys.map((k) => `${encodeString(k)}:${encode(v.get(k) as JsonValue)}`).join(',')}}`;
}

/** notary's `json.MarshalCanonical` of a decoded value, as UTF-8 bytes. */
export function canonicalJson(v: JsonValue): Buffer {
  return Buffer.from(encode(v), 'utf8');
}

/** Build a JsonObject from a plain record (for key IDs and tests). */
export function jsonObject(entries: Record<string, JsonValue>): JsonObject {
  return new Map(Object.entries(entries));
}
