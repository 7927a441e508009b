/**
 * What the image-policy parser needs from the outside world, passed in so the parser stays a function of its
 * inputs (tests hand it an in-memory file table): where relative paths resolve, and a bounded file reader.
 * Also the one check every mapping of the policy gets: unknown keys are errors, because a typo such as
 * `delegation:` for `delegations:` would otherwise quietly loosen a security rule.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Fields } from '../../config/fields.ts';

export interface PolicyParseContext {
  /** The config file the `policy:` section is in (absolute), for messages. */
  readonly file: string;
  /** Relative paths resolve against this folder (the config file's). */
  readonly baseDir: string;
  /** Reads a file (absolute path) as UTF-8; throws when it is missing or larger than `maxBytes`. */
  readonly readText: (absolutePath: string, maxBytes: number) => string;
}

/** The reader used outside tests: one stat, one read, never more than `maxBytes`. */
export function readTextBounded(absolutePath: string, maxBytes: number): string {
  const size = statSync(absolutePath).size;
  if (size > maxBytes) throw new Error(`${size} bytes, more than the ${maxBytes} allowed`);
  const text = readFileSync(absolutePath, 'utf8');
  if (Buffer.byteLength(text) > maxBytes) throw new Error(`more than the ${maxBytes} bytes allowed`);
  return text;
}

export function defaultParseContext(configFile: string): PolicyParseContext {
  return { file: configFile, baseDir: path.dirname(configFile), readText: readTextBounded };
}

/** Reads `relative` for the key `key` of `fields`, failing with the key path when it cannot. */
export function readFor(fields: Fields, key: string, relative: string, ctx: PolicyParseContext, maxBytes: number): { path: string; text: string } {
  const absolute = path.resolve(ctx.baseDir, relative);
  try {
    return { path: absolute, text: ctx.readText(absolute, maxBytes) };
  } catch (err) {
    return fields.fail(key, `cannot read ${absolute}: ${(err as Error).message}`, 'give an existing, readable file (relative paths resolve against the config file\'s folder)');
  }
}

/** Fails on the first key of `fields` that is not in `known`, suggesting the nearest known key. */
export function rejectUnknownKeys(fields: Fields, known: readonly string[]): void {
  for (const key of Object.keys(fields.value)) {
    if (known.includes(key)) continue;
    const near = nearest(key, known);
    const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    fields.fail(shown, `unknown key "${shown}"`, near === undefined ? `remove it; known keys here: ${known.join(', ')}` : `did you mean ${near}? (known keys here: ${known.join(', ')})`);
  }
}

/** The known key within edit distance 2 of `key`, if one is. */
function nearest(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
