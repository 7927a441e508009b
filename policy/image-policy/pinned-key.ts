/**
 * Public keys pinned in the image policy: one PEM block, `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 7468 § 13),
 * `RSA PUBLIC KEY` (PKCS#1) or `CERTIFICATE` (its subject key: notary's x509 key forms carry certificates).
 * Parsed with node:crypto at load, so a key that cannot be used fails the start, not the first pull.
 */
import { createPublicKey } from 'node:crypto';
import type { PinnedKey } from './types.ts';

/** A PEM key is a few hundred bytes; an RSA 8192 certificate a few KiB. */
export const MAX_PEM_BYTES = 16 * 1024;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const ACCEPTED = new Set(['PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE']);

export interface KeyProblem {
  readonly problem: string;
  readonly fix: string;
}

/**
 * The pinned key, or what is wrong with `text`. `source` says where it came from (key path or file). RFC 1421
 * headers inside the block (`role: root`, which `docker trust key generate` writes into root.pub) are dropped:
 * they are comments for humans and node's PEM reader refuses them.
 */
export function parsePinnedKey(text: string, source: string): PinnedKey | KeyProblem {
  if (Buffer.byteLength(text) > MAX_PEM_BYTES) return { problem: `is larger than ${MAX_PEM_BYTES} bytes`, fix: 'paste one PEM public key' };
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) {
    return { problem: 'is not a PEM block', fix: 'paste the key with its -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY----- lines (sighup/Portieris keep it base64-encoded: decode it with base64 -d)' };
  }
  if (blocks.length > 1) return { problem: `holds ${blocks.length} PEM blocks`, fix: 'give one key per entry (list several keys as several entries)' };
  const [, label, body] = blocks[0]! as unknown as [string, string, string];
  if (label.includes('PRIVATE')) {
    return { problem: `is a private key (${label})`, fix: 'pin the public key only (openssl pkey -pubout), and rotate this private key: it has been written into a config file' };
  }
  if (!ACCEPTED.has(label)) return { problem: `is a ${label} block`, fix: 'use a PUBLIC KEY or CERTIFICATE PEM block' };
  const base64 = body.split(/\r?\n/).filter((line) => line.length > 0 && !/^[A-Za-z-]+:/.test(line)).join('\n');
  const clean = `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
  try {
    const key = createPublicKey(label === 'RSA PUBLIC KEY' ? { key: clean, format: 'pem', type: 'pkcs1' } : clean);
    // notary's rsapss and rsapkcs1v15 keys must be at least 2048 bits (tuf/signed/verifiers.go); a smaller
    // pinned key could never verify, so say so now.
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 2048) {
      return { problem: `is an RSA key of ${bits} bits`, fix: 'pin an RSA key of at least 2048 bits, or an ECDSA key' };
    }
    return { key, spki: key.export({ type: 'spki', format: 'der' }), source };
  } catch (err) {
    return { problem: `is not a usable public key (${(err as Error).message})`, fix: 'paste the PEM exactly as exported, e.g. by openssl pkey -pubout or docker trust key generate' };
  }
}

export function isKeyProblem(k: PinnedKey | KeyProblem): k is KeyProblem {
  return 'problem' in k;
}
