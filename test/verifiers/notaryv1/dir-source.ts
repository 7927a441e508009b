/**
 * A metadata source over saved files (`<dir>/<name>.json`), optionally re-serialised as Connaisseur's mock serves
 * them, with per-name overrides (replacement bytes or a 404) and a log of what was asked.
 */
import { readFileSync } from 'node:fs';
import type { MetadataFetch, NotaryV1MetadataSource } from '../../../verifiers/notaryv1/index.ts';
import { goServedBytes } from './go-served.ts';

export type DirSourceOptions = {
  goServed?: boolean;
  overrides?: Record<string, Uint8Array | 'notFound'>;
  maxAgeSeconds?: number;
};

export function dirSource(dir: string, options: DirSourceOptions = {}): NotaryV1MetadataSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async fetchRole(_gun: string, name: string): Promise<MetadataFetch> {
      asked.push(name);
      const o = options.overrides?.[name];
      if (o === 'notFound') return { notFound: true };
      let bytes: Uint8Array;
      if (o) {
        bytes = o;
      } else {
        try {
          bytes = readFileSync(`${dir}/${name}.json`);
        } catch {
          return { notFound: true };
        }
      }
      if (options.goServed) bytes = goServedBytes(bytes);
      return options.maxAgeSeconds === undefined ? { bytes } : { bytes, maxAgeSeconds: options.maxAgeSeconds };
    },
  };
}

/** A source over in-memory files (crafted repositories). */
export function memorySource(files: Map<string, Uint8Array>, maxAgeSeconds?: number): NotaryV1MetadataSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async fetchRole(_gun: string, name: string): Promise<MetadataFetch> {
      asked.push(name);
      const bytes = files.get(name);
      if (!bytes) return { notFound: true };
      return maxAgeSeconds === undefined ? { bytes } : { bytes, maxAgeSeconds };
    },
  };
}
