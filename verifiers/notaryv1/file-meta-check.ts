/**
 * Checking fetched bytes against the file metadata that a signed parent lists for them (timestamp → snapshot,
 * snapshot → root/targets/delegations): every listed known hash must match (notary `tuf/data/types.go CheckHashes`:
 * sha256 and sha512, base64 in the metadata) and the length must equal the listed one. The length rule can be relaxed
 * to `hash-only` for Connaisseur's crafted test repositories, whose recorded lengths are wrong (vectors README § 7.2);
 * the hash still binds the bytes either way.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { fail } from './errors.ts';
import type { FileMeta } from './roles.ts';

export type LengthRule = 'exact' | 'hash-only';

export function checkFileMeta(bytes: Uint8Array, meta: FileMeta, name: string, lengths: LengthRule): void {
  if (lengths === 'exact' && bytes.length !== meta.length) {
    fail('length_mismatch', `${name} is ${bytes.length} bytes but the snapshot/timestamp lists ${meta.length}`);
  }
  for (const alg of ['sha256', 'sha512'] as const) {
    const want = meta.hashes[alg];
    if (!want) continue;
    const got = createHash(alg).update(bytes).digest();
    if (!timingSafeEqual(got, want)) fail('hash_mismatch', `${name} does not match its ${alg} in the signed metadata`);
  }
}

/** A version the parent lists must be the one the file carries (TUF snapshot/timestamp `version`). */
export function checkListedVersion(meta: FileMeta, version: number, name: string): void {
  if (meta.version !== undefined && meta.version !== version) {
    fail('hash_mismatch', `${name} has version ${version} but the signed metadata lists version ${meta.version}`);
  }
}
