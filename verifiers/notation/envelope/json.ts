/**
 * Bounded JSON decoding for the JWS envelope, its protected header and the
 * payload. JSON.parse itself has no depth or item limit, so a cheap linear
 * pre-scan counts nesting and items (outside strings) before parsing
 * (limits.ts). Input must be valid UTF-8 without BOM (RFC 8259 § 8.1).
 *
 * Duplicate member names: JSON.parse keeps the lexically last one, which is
 * the behaviour RFC 7515 § 5.2 step 4 allows for JOSE headers (and what Go's
 * encoding/json, used by notation-core-go, does).
 */
import { EnvelopeError, malformed } from './errors.ts';
import { LIMITS } from './limits.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    return malformed(`${what} is not valid UTF-8`, err);
  }
}

/** Throws LIMIT_EXCEEDED if `text` nests deeper or holds more items than LIMITS allow. */
function checkStructure(text: string, what: string): void {
  let depth = 0;
  let items = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > LIMITS.maxDepth) throw new EnvelopeError('LIMIT_EXCEEDED', `${what} nests deeper than ${LIMITS.maxDepth}`);
      if (++items > LIMITS.maxItems) throw new EnvelopeError('LIMIT_EXCEEDED', `${what} has more than ${LIMITS.maxItems} items`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    } else if (c === COMMA) {
      if (++items > LIMITS.maxItems) throw new EnvelopeError('LIMIT_EXCEEDED', `${what} has more than ${LIMITS.maxItems} items`);
    }
  }
}

/** UTF-8 bytes → bounded JSON.parse. Syntax errors become MALFORMED. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  return parseJsonText(decodeUtf8(bytes, what), what);
}

export function parseJsonText(text: string, what: string): unknown {
  checkStructure(text, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    return malformed(`${what} is not valid JSON`, err);
  }
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property lookup; never reads the prototype chain (e.g. a "__proto__" or "constructor" name). */
export function own(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
