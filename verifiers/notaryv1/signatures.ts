/**
 * Signature methods and role thresholds (notary `tuf/signed/verifiers.go`, `verify.go`), on node:crypto.
 *   ecdsa       — SHA-256 over the canonical bytes; notary writes raw r‖s (IEEE P1363). A DER-encoded ECDSA-Sig-Value
 *                 (as other TUF implementations write it) is accepted too, distinguished by length.
 *   rsapss      — RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32; key ≥ 2048 bits, signature ≥ 256 bytes.
 *   rsapkcs1v15 — RSASSA-PKCS1-v1_5 with SHA-256, same size bounds.
 *   eddsa       — Ed25519 over the message itself.
 * `method` is compared case-insensitively (notary lower-cases it when decoding). A threshold counts *distinct*
 * public keys (by SPKI) whose signature verifies, so listing one key twice, or in both its bare and x509 forms,
 * never counts twice.
 */
import { constants, verify } from 'node:crypto';
import { fail } from './errors.ts';
import type { TufKey } from './keys.ts';

export type TufSignature = { readonly keyid: string; readonly method: string; readonly sig: Buffer };
export type RoleKeys = { readonly name: string; readonly keys: ReadonlyMap<string, TufKey>; readonly threshold: number };

function curveOctets(key: TufKey): number {
  const curve = key.key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 48 : curve === 'secp521r1' ? 66 : 32;
}

/** One signature against one key; false on any mismatch of method, key type or bytes (never throws). */
export function verifySignature(key: TufKey, method: string, sig: Buffer, message: Buffer): boolean {
  const m = method.toLowerCase();
  try {
    if (m === 'ecdsa') {
      if (key.type !== 'ecdsa' && key.type !== 'ecdsa-x509') return false;
      const raw = sig.length === 2 * curveOctets(key);
      return verify('sha256', message, { key: key.key, dsaEncoding: raw ? 'ieee-p1363' : 'der' }, sig);
    }
    if (m === 'rsapss' || m === 'rsapkcs1v15') {
      if (key.type !== 'rsa' && key.type !== 'rsa-x509') return false;
      if (sig.length < 256) return false;
      const padding = m === 'rsapss' ? constants.RSA_PKCS1_PSS_PADDING : constants.RSA_PKCS1_PADDING;
      return verify('sha256', message, { key: key.key, padding, saltLength: 32 }, sig);
    }
    if (m === 'eddsa') {
      if (key.type !== 'ed25519' || sig.length !== 64) return false;
      return verify(null, message, key.key, sig);
    }
  } catch {
    return false; // malformed DER and similar: an invalid signature, not an error
  }
  return false;
}

/**
 * Require `role.threshold` distinct valid keys of the role over `message`. Fails with `threshold_not_met` when too few
 * of the role's keys signed, `signature_invalid` when a role key's signature was present but did not verify.
 */
export function checkThreshold(role: RoleKeys, signatures: readonly TufSignature[], message: Buffer): { readonly signers: readonly TufKey[] } {
  if (signatures.length === 0) fail('threshold_not_met', `${role.name} has no signatures`);
  if (role.threshold < 1) fail('metadata_invalid', `${role.name} has threshold ${role.threshold}`);
  const valid = new Map<string, TufKey>();
  let invalid = 0;
  for (const s of signatures) {
    const key = role.keys.get(s.keyid);
    if (!key) continue; // notary: signatures by keys outside the role are ignored
    const spki = key.spki.toString('base64');
    if (valid.has(spki)) continue;
    if (verifySignature(key, s.method, s.sig, message)) valid.set(spki, key);
    else invalid++;
  }
  if (valid.size < role.threshold) {
    if (invalid > 0) fail('signature_invalid', `${role.name}: ${invalid} signature(s) by its keys do not verify (${valid.size} of ${role.threshold} valid)`);
    fail('threshold_not_met', `${role.name}: ${valid.size} of ${role.threshold} required distinct keys signed`);
  }
  return { signers: [...valid.values()] };
}

/** Did any signature in the list verify under this (pinned) key? Connaisseur's root check. */
export function signedByKey(key: TufKey, signatures: readonly TufSignature[], message: Buffer): boolean {
  return signatures.some((s) => verifySignature(key, s.method, s.sig, message));
}
