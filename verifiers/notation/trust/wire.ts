/**
 * Reading the trust policy's JSON the way notation reads it: Go's encoding/json into notation-go's structs.
 * That decides which documents are accepted, not only the messages:
 *  - object keys match struct fields case-insensitively (`"Level"` is `level`); unknown keys are ignored;
 *    when several keys name one field they are applied in order, as Go decodes them;
 *  - `null` is a no-op for a string or struct field and empties a list or map — so `"version": null` is a
 *    missing version, not a type error;
 *  - a value of another type (a number for a string, an object for a list) anywhere fails the whole decode:
 *    notation reports "malformed trust policy".
 * A struct is read as the list of JSON objects that were decoded into it (Go merges repeated ones).
 * Strings are made well-formed (lone surrogates → U+FFFD), as Go's decoder does with invalid escapes.
 */

export class WireTypeError extends Error {
  readonly path: string;
  constructor(path: string, expected: string, got: unknown) {
    super(`${path}: expected ${expected}, got ${describe(got)}`);
    this.name = 'WireTypeError';
    this.path = path;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

export type WireObject = { readonly [key: string]: unknown };
/** The JSON objects decoded into one Go struct, in order. */
export type WireStruct = readonly WireObject[];

export function isWireObject(value: unknown): value is WireObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/**
 * Go's case folding for field names: ASCII case, plus the two non-ASCII runes that fold onto ASCII letters
 * our field names contain (U+017F ſ → s, U+212A Kelvin sign → k).
 */
function foldFieldName(name: string): string {
  return name.replace(/\u017f/g, 's').replace(/\u212a/g, 'k').replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Every value given for struct field `name`, in decode order (`undefined`, which JSON cannot hold, is absent). */
function values(struct: WireStruct, name: string): unknown[] {
  const folded = foldFieldName(name);
  return struct.flatMap((obj) => Object.keys(obj).filter((key) => key === name || foldFieldName(key) === folded).map((key) => obj[key]).filter((v) => v !== undefined));
}

const wellFormed = (s: string): string => s.toWellFormed();

/** A Go `string` field (zero value ""). */
export function stringField(struct: WireStruct, name: string, path: string): string {
  let out = '';
  for (const value of values(struct, name)) {
    if (value === null) continue;
    if (typeof value !== 'string') throw new WireTypeError(join(path, name), 'a string', value);
    out = wellFormed(value);
  }
  return out;
}

/** A Go `[]string` field (zero value empty); null elements are "". */
export function stringListField(struct: WireStruct, name: string, path: string): string[] {
  let out: string[] = [];
  for (const value of values(struct, name)) {
    if (value === null) {
      out = [];
      continue;
    }
    if (!Array.isArray(value)) throw new WireTypeError(join(path, name), 'a list of strings', value);
    out = value.map((item: unknown, i: number) => {
      if (item === null) return '';
      if (typeof item !== 'string') throw new WireTypeError(`${join(path, name)}[${i}]`, 'a string', item);
      return wellFormed(item);
    });
  }
  return out;
}

/** A Go struct field: the objects decoded into it (none: the zero struct). */
export function structField(struct: WireStruct, name: string, path: string): WireStruct {
  const out: WireObject[] = [];
  for (const value of values(struct, name)) {
    if (value === null) continue;
    if (!isWireObject(value)) throw new WireTypeError(join(path, name), 'an object', value);
    out.push(value);
  }
  return out;
}

/** A Go `[]struct` field; a null element is a zero struct. */
export function structListField(struct: WireStruct, name: string, path: string): WireStruct[] {
  let out: WireStruct[] = [];
  for (const value of values(struct, name)) {
    if (value === null) {
      out = [];
      continue;
    }
    if (!Array.isArray(value)) throw new WireTypeError(join(path, name), 'a list of objects', value);
    out = value.map((item: unknown, i: number) => {
      if (item === null) return [];
      if (!isWireObject(item)) throw new WireTypeError(`${join(path, name)}[${i}]`, 'an object', item);
      return [item];
    });
  }
  return out;
}

/**
 * A Go `map[string]string` field as entries (keys exact, not folded; a later key replaces an earlier one in
 * place); null empties it, null values are "".
 */
export function stringMapField(struct: WireStruct, name: string, path: string): Array<readonly [string, string]> {
  const out = new Map<string, string>();
  for (const value of values(struct, name)) {
    if (value === null) {
      out.clear();
      continue;
    }
    if (!isWireObject(value)) throw new WireTypeError(join(path, name), 'an object of strings', value);
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item !== null && typeof item !== 'string') throw new WireTypeError(`${join(path, name)}.${key}`, 'a string', item);
      out.set(wellFormed(key), item === null ? '' : wellFormed(item));
    }
  }
  return [...out];
}
