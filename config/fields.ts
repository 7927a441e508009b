/**
 * Typed access to one object of a parsed config document, with failures that name the file, the full key path
 * and the fix. Keeps `load.ts` a flat list of declarations instead of nested type checks.
 */
import type { HostPort } from './types.ts';

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly file: string;
  readonly key: string;
  readonly fix: string;
  constructor(file: string, key: string, problem: string, fix: string) {
    super(`${file}: ${key}: ${problem} (fix: ${fix})`);
    this.name = 'ConfigError';
    this.file = file;
    this.key = key;
    this.fix = fix;
  }
}

export class Fields {
  readonly value: Record<string, unknown>;
  readonly #file: string;
  readonly #prefix: string;

  private constructor(value: Record<string, unknown>, file: string, prefix: string) {
    this.value = value;
    this.#file = file;
    this.#prefix = prefix;
  }

  static object(raw: unknown, file: string, key: string): Fields {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigError(file, key, 'must be a mapping (key: value)', 'see the config reference in README.md');
    }
    return new Fields(raw as Record<string, unknown>, file, key === '(root)' ? '' : `${key}.`);
  }

  fail(key: string, problem: string, fix: string): never {
    throw new ConfigError(this.#file, this.#prefix + key, problem, fix);
  }

  optionalString(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) this.fail(key, 'must be a non-empty string', `set ${key}: <text>`);
    return v;
  }

  requiredString(key: string): string {
    const v = this.optionalString(key);
    if (v === undefined) this.fail(key, 'is required', `set ${key}`);
    return v;
  }

  optionalInt(key: string, min: number, max: number): number | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer from ${min} to ${max}`, `set ${key} within that range`);
    }
    return v;
  }

  optionalEnum<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${allowed.join(' | ')}`, `set ${key}: ${allowed[0]}`);
    }
    return v as T;
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false', `set ${key}: true or ${key}: false`);
    return v;
  }

  /** A list of non-empty strings; unlike optionalArray, an empty list is allowed (it means "none"). */
  optionalStringList(key: string): readonly string[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(key, 'must be a list of strings', `write ${key}: [a, b]`);
    v.forEach((item: unknown, i) => {
      if (typeof item !== 'string' || item.length === 0) this.fail(`${key}[${i}]`, 'must be a non-empty string', `remove it or write a name`);
    });
    return v as string[];
  }

  optionalObject(key: string): Fields | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    return Fields.object(v, this.#file, this.#prefix + key);
  }

  optionalArray(key: string): readonly unknown[] | undefined {
    const v = this.value[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.length === 0) this.fail(key, 'must be a non-empty list', `list at least one entry under ${key}`);
    return v;
  }
}

/** `127.0.0.1:5050`, `[::1]:5050`, `:5050` (= all addresses; allowed, though the DaemonSet keeps loopback). */
export function parseHostPort(text: string, file: string, key: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]*)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError(file, key, `"${text}" is not host:port`, 'write e.g. 127.0.0.1:5050 or [::1]:5050');
  }
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!);
  return { host, port };
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
