// Shared by the image-policy tests: an in-memory file table for the parser, and generated keys.
import { generateKeyPairSync } from 'node:crypto';
import { parseImagePolicy } from '../../../policy/image-policy/parse.ts';
import type { PolicyParseContext } from '../../../policy/image-policy/parse-context.ts';
import type { ImagePolicy } from '../../../policy/image-policy/types.ts';

export const CONFIG = '/etc/pullgate/config.yaml';

export function memoryContext(files: Record<string, string> = {}): PolicyParseContext {
  return {
    file: CONFIG,
    baseDir: '/etc/pullgate',
    readText: (p, max) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      if (Buffer.byteLength(text) > max) throw new Error(`more than the ${max} bytes allowed`);
      return text;
    },
  };
}

export function parse(raw: unknown, files: Record<string, string> = {}): ImagePolicy | undefined {
  return parseImagePolicy(raw, memoryContext(files));
}

export function ecKeyPem(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export function rsaKeyPem(bits: number): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return publicKey.export({ type: 'spki', format: 'pem' }) as string;
}
