/**
 * TUF public keys as notary writes them (notary `tuf/data/keys.go`):
 * `{"keytype": T, "keyval": {"public": base64, "private": null}}` with T one of
 *   ecdsa, rsa          — public = DER SubjectPublicKeyInfo
 *   ecdsa-x509, rsa-x509 — public = a PEM certificate (the key is the certificate's)
 *   ed25519             — public = the raw 32-byte key
 * A key's ID is the sha256 (hex) of the canonical JSON of that object with `private` null, so the same key has
 * different IDs in its bare and x509 forms: pinned keys and signers are matched by their SPKI, never by ID.
 * Key material is parsed once (node:crypto) and unsupported curves / sizes are refused here, as notary's verifiers do
 * (`tuf/signed/verifiers.go`: RSA ≥ 2048 bits).
 */
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { canonicalJson, jsonObject, type JsonValue } from './canonical-json.ts';
import { fail } from './errors.ts';

export type KeyType = 'ecdsa' | 'rsa' | 'ecdsa-x509' | 'rsa-x509' | 'ed25519';
const KEY_TYPES: ReadonlySet<string> = new Set(['ecdsa', 'rsa', 'ecdsa-x509', 'rsa-x509', 'ed25519']);
const CURVES: ReadonlySet<string> = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MAX_PUBLIC_B64 = 16 * 1024;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export type TufKey = {
  readonly id: string; // computed, lower-case hex
  readonly type: KeyType;
  readonly key: KeyObject;
  /** DER SPKI: the identity used to match pinned keys and signers across the bare and x509 forms. */
  readonly spki: Buffer;
  readonly certificate?: X509Certificate;
};

export function keyId(keytype: string, publicB64: string): string {
  const obj = jsonObject({ keytype, keyval: jsonObject({ private: null, public: publicB64 }) });
  return createHash('sha256').update(canonicalJson(obj)).digest('hex');
}

function strictBase64(s: string, what: string): Buffer {
  if (s.length > MAX_PUBLIC_B64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    fail('metadata_invalid', `${what}: public key is not base64`);
  }
  return Buffer.from(s, 'base64');
}

function checkKeyObject(key: KeyObject, type: KeyType, what: string): void {
  const kind = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type.startsWith('ecdsa')) {
    if (kind !== 'ec' || !CURVES.has(details.namedCurve ?? '')) fail('unsupported_key', `${what}: ${type} key is not on P-256/P-384/P-521`);
  } else if (type.startsWith('rsa')) {
    if (kind !== 'rsa') fail('unsupported_key', `${what}: ${type} key is not an RSA key`);
    if ((details.modulusLength ?? 0) < 2048) fail('unsupported_key', `${what}: RSA key has ${details.modulusLength} bits, fewer than 2048`);
  } else if (kind !== 'ed25519') {
    fail('unsupported_key', `${what}: not an ed25519 key`);
  }
}

/** Decode one key object from metadata; `declaredId` is the map key it was listed under. */
export function parseTufKey(declaredId: string, v: JsonValue | undefined, what: string): TufKey {
  if (!(v instanceof Map)) return fail('metadata_invalid', `${what}: key ${declaredId} is not an object`);
  const type = v.get('keytype');
  const keyval = v.get('keyval');
  if (typeof type !== 'string' || !(keyval instanceof Map)) return fail('metadata_invalid', `${what}: key ${declaredId} lacks keytype/keyval`);
  if (!KEY_TYPES.has(type)) return fail('unsupported_key', `${what}: key ${declaredId} has unsupported type ${JSON.stringify(type.slice(0, 40))}`);
  const pub = keyval.get('public');
  if (typeof pub !== 'string') return fail('metadata_invalid', `${what}: key ${declaredId} has no public value`);
  const id = keyId(type, pub);
  // notary verify.go: a key must be listed under its own content ID (ErrInvalidKeyID otherwise).
  if (id !== declaredId) fail('signature_invalid', `${what}: key listed as ${declaredId} has ID ${id}`);
  const cached = parsedKeys.get(id);
  if (cached) return cached;
  const parsed = parseKeyMaterial(id, type as KeyType, pub, what);
  if (parsedKeys.size >= MAX_CACHED_KEYS) parsedKeys.delete(parsedKeys.keys().next().value as string);
  parsedKeys.set(id, parsed);
  return parsed;
}

/**
 * Parsed keys by ID. The ID is the sha256 of the key's type and public bytes, so an entry can never stand for other
 * material; parsing (x509, SPKI export) is most of a warm decision's cost, and the same few keys recur per GUN.
 */
const MAX_CACHED_KEYS = 2048;
const parsedKeys = new Map<string, TufKey>();

function parseKeyMaterial(id: string, keyType: KeyType, pub: string, what: string): TufKey {
  const raw = strictBase64(pub, what);
  let key: KeyObject;
  let certificate: X509Certificate | undefined;
  try {
    if (keyType === 'ecdsa-x509' || keyType === 'rsa-x509') {
      certificate = new X509Certificate(raw);
      key = certificate.publicKey;
    } else if (keyType === 'ed25519') {
      if (raw.length !== 32) fail('unsupported_key', `${what}: ed25519 key ${id} is not 32 bytes`);
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    } else {
      key = createPublicKey({ key: raw, format: 'der', type: 'spki' });
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'NotaryV1Error') throw err;
    return fail('metadata_invalid', `${what}: key ${id} does not parse as ${keyType}`);
  }
  checkKeyObject(key, keyType, what);
  const spki = key.export({ type: 'spki', format: 'der' });
  return certificate ? { id, type: keyType, key, spki, certificate } : { id, type: keyType, key, spki };
}

/** A pinned trust-root key in Connaisseur's form: one PEM `PUBLIC KEY` block (SPKI), nothing else. */
export function parsePinnedKey(pem: string): { key: KeyObject; spki: Buffer } {
  const m = /^\s*-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/.exec(pem);
  if (!m) return fail('root_untrusted', 'trust root is not a PEM encoded public key (one "PUBLIC KEY" block)');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return fail('root_untrusted', 'trust root public key does not parse');
  }
  const kind = key.asymmetricKeyType;
  if (kind !== 'ec' && kind !== 'rsa' && kind !== 'ed25519') fail('unsupported_key', `trust root key type ${kind} is not supported`);
  return { key, spki: key.export({ type: 'spki', format: 'der' }) };
}
