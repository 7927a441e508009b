/**
 * Crafting Notary v1 repositories in tests: keys from node:crypto (and x509 root certificates from the x509 test
 * factory), metadata signed over a canonical form computed here independently of the code under test (sorted keys,
 * JSON.stringify escaping — identical to notary's canonical form for the data used here), snapshot and timestamp
 * metadata computed from the bytes actually served.
 */
import { createHash, generateKeyPairSync, type KeyObject, KeyObject as KO, sign as nodeSign } from 'node:crypto';
import { issue } from '../../policy/x509/make-certs.ts';

export type Key = { readonly keytype: string; readonly publicB64: string; readonly id: string; readonly privateKey: KeyObject; readonly method: string; readonly spkiPem: string };

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

export function canonical(v: Plain): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k] as Plain)}`).join(',')}}`;
}

function makeKey(keytype: string, publicB64: string, privateKey: KeyObject, method: string, publicKey: KeyObject): Key {
  const id = createHash('sha256').update(canonical({ keytype, keyval: { private: null, public: publicB64 } })).digest('hex');
  return { keytype, publicB64, id, privateKey, method, spkiPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export function ecdsaKey(): Key {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return makeKey('ecdsa', publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), privateKey, 'ecdsa', publicKey);
}

export function rsaKey(bits = 2048): Key {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return makeKey('rsa', publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), privateKey, 'rsapss', publicKey);
}

export function ed25519Key(): Key {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
  return makeKey('ed25519', raw.toString('base64'), privateKey, 'eddsa', publicKey);
}

/** An ecdsa-x509 (or rsa-x509) root key: a self-signed certificate, notary-style. */
export async function x509Key(cn: string, opts: { notBefore?: Date; notAfter?: Date; rsa?: boolean } = {}): Promise<Key> {
  const issued = await issue({ cn, ...(opts.notBefore ? { notBefore: opts.notBefore } : {}), ...(opts.notAfter ? { notAfter: opts.notAfter } : {}), ...(opts.rsa ? { rsaBits: 2048 } : {}) }, null, false);
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(issued.der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  const privateKey = KO.from(issued.keys.privateKey);
  const publicKey = KO.from(issued.keys.publicKey);
  return makeKey(opts.rsa ? 'rsa-x509' : 'ecdsa-x509', Buffer.from(pem).toString('base64'), privateKey, opts.rsa ? 'rsapkcs1v15' : 'ecdsa', publicKey);
}

export type SignOptions = { der?: boolean; method?: string; keyid?: string; corrupt?: boolean };

export function signatureOf(key: Key, message: Buffer, o: SignOptions = {}): { keyid: string; method: string; sig: string } {
  const method = o.method ?? key.method;
  let sig: Buffer;
  if (key.keytype.startsWith('ecdsa')) sig = nodeSign('sha256', message, { key: key.privateKey, dsaEncoding: o.der ? 'der' : 'ieee-p1363' });
  else if (key.keytype === 'ed25519') sig = nodeSign(null, message, key.privateKey);
  else if (method.toLowerCase() === 'rsapss') sig = nodeSign('sha256', message, { key: key.privateKey, padding: 6 /* PSS */, saltLength: 32 });
  else sig = nodeSign('sha256', message, key.privateKey);
  if (o.corrupt) sig[sig.length - 1]! ^= 1;
  return { keyid: o.keyid ?? key.id, method, sig: sig.toString('base64') };
}

/** `{"signed":…,"signatures":[…]}` as a notary server serves it (HTML characters escaped, like Go's encoder). */
export function envelope(signed: Plain, signers: readonly (Key | [Key, SignOptions])[]): Buffer {
  const msg = Buffer.from(canonical(signed));
  const signatures = signers.map((s) => (Array.isArray(s) ? signatureOf(s[0], msg, s[1]) : signatureOf(s, msg)));
  const text = JSON.stringify({ signed, signatures }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return Buffer.from(text);
}

export const keyJson = (k: Key) => ({ keytype: k.keytype, keyval: { private: null, public: k.publicB64 } });

export function fileMeta(bytes: Uint8Array, o: { sha512?: boolean; length?: number } = {}): Plain {
  const hashes: { [k: string]: Plain } = { sha256: createHash('sha256').update(bytes).digest('base64') };
  if (o.sha512 !== false) hashes['sha512'] = createHash('sha512').update(bytes).digest('base64');
  return { hashes, length: o.length ?? bytes.length };
}

export type Target = { readonly hex: string; readonly length: number };
export const target = (t: Target): Plain => ({ hashes: { sha256: Buffer.from(t.hex, 'hex').toString('base64') }, length: t.length });
export type { Plain };
