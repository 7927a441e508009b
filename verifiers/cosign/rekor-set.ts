/**
 * Offline check of a Rekor "signed entry timestamp" (SET), the promise of inclusion cosign stores in the
 * `dev.sigstore.cosign/bundle` annotation (cosign `pkg/cosign/bundle/rekor.go`, `pkg/cosign/verify.go` `VerifySET`,
 * `VerifyBundle`):
 *  1. the SET is an ECDSA/SHA-256 DER signature by the Rekor key over the RFC 8785 canonical JSON of
 *     `{"body","integratedTime","logID","logIndex"}` (keys sorted; values are a base64 string, integers, a hex string);
 *  2. `logID` is the hex sha256 of that Rekor key's DER SPKI: it selects the key among the trusted logs;
 *  3. the entry body (a `hashedrekord` / `rekord` entry) must describe THIS signature: same signature bytes, same
 *     sha256 of the payload, and (key-based) the same public key — else a SET for some other artifact would pass.
 */
import { createHash, createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';
import { fail } from './errors.ts';

const MAX_BUNDLE = 32 * 1024;
export type RekorBundle = {
  readonly set: Buffer;
  readonly body: string; // base64, kept verbatim: it is what the SET signs
  readonly integratedTime: number;
  readonly logIndex: number;
  readonly logID: string;
};
export type RekorKey = { readonly logID: string; readonly key: KeyObject };

export function rekorKey(pem: string): RekorKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    fail('unsupported_key', 'cosign: Rekor public key does not parse');
  }
  const spki = key.export({ type: 'spki', format: 'der' });
  return { logID: createHash('sha256').update(spki).digest('hex'), key };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isB64 = (s: unknown): s is string => typeof s === 'string' && s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

export function parseRekorBundle(text: string): RekorBundle {
  let doc: unknown;
  try {
    if (text.length > MAX_BUNDLE) throw new Error('size');
    doc = JSON.parse(text);
  } catch {
    fail('set_invalid', 'cosign: Rekor bundle annotation is not bounded JSON');
  }
  const p = isObj(doc) ? doc.Payload : undefined;
  if (!isObj(doc) || !isB64(doc.SignedEntryTimestamp) || !isObj(p)) fail('set_invalid', 'cosign: Rekor bundle lacks SignedEntryTimestamp/Payload');
  const { body, integratedTime, logIndex, logID } = p;
  if (!isB64(body) || !Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex)
    || typeof logID !== 'string' || !/^[0-9a-f]{64}$/.test(logID)) {
    fail('set_invalid', 'cosign: Rekor bundle payload has the wrong shape');
  }
  return { set: Buffer.from(doc.SignedEntryTimestamp, 'base64'), body, integratedTime: integratedTime as number, logIndex: logIndex as number, logID };
}

/** The bytes the SET signs: canonical JSON with the keys in byte order (RFC 8785 § 3.2.3). */
export function setSignedBytes(b: RekorBundle): Buffer {
  return Buffer.from(JSON.stringify({ body: b.body, integratedTime: b.integratedTime, logID: b.logID, logIndex: b.logIndex }), 'utf8');
}

type EntryFacts = { readonly signatures: readonly Buffer[]; readonly payloadSha256: string; readonly publicKeyPems: readonly string[] };

/**
 * What an entry says it logged. `hashedrekord`/`rekord` (rekor `pkg/types/hashedrekord/v0.0.1`): spec.data.hash and
 * spec.signature{content, publicKey.content}; `dsse` (rekor `pkg/types/dsse/v0.0.1`): spec.payloadHash and
 * spec.signatures[{signature, verifier}]. Public keys / certificates are base64 PEM in both.
 */
function entryFacts(bodyB64: string): EntryFacts {
  let e: unknown;
  try {
    e = JSON.parse(Buffer.from(bodyB64, 'base64').toString('utf8'));
  } catch {
    fail('set_invalid', 'cosign: Rekor entry body is not JSON');
  }
  if (!isObj(e) || !isObj(e.spec)) fail('set_invalid', 'cosign: Rekor entry body has no spec');
  const pem = (v: unknown): string | undefined => (isB64(v) ? Buffer.from(v, 'base64').toString('utf8') : undefined);
  if (e.kind === 'dsse') {
    const ph = e.spec.payloadHash;
    const sigs = e.spec.signatures;
    if (!isObj(ph) || ph.algorithm !== 'sha256' || typeof ph.value !== 'string' || !Array.isArray(sigs) || sigs.length > 16) {
      fail('set_invalid', 'cosign: Rekor dsse entry lacks a sha256 payload hash or signatures');
    }
    const ok = sigs.filter((x): x is Record<string, unknown> => isObj(x) && isB64(x.signature));
    return {
      signatures: ok.map((x) => Buffer.from(x.signature as string, 'base64')), payloadSha256: ph.value.toLowerCase(),
      publicKeyPems: ok.map((x) => pem(x.verifier)).filter((x): x is string => x !== undefined),
    };
  }
  if (e.kind !== 'hashedrekord' && e.kind !== 'rekord') fail('set_invalid', `cosign: Rekor entry kind ${String(e.kind)} is not hashedrekord/rekord/dsse`);
  const data = e.spec.data;
  const sig = e.spec.signature;
  const hash = isObj(data) && isObj(data.hash) ? data.hash : undefined;
  if (!hash || hash.algorithm !== 'sha256' || typeof hash.value !== 'string' || !isObj(sig) || !isB64(sig.content)) {
    fail('set_invalid', 'cosign: Rekor entry lacks a sha256 data hash or signature');
  }
  const pk = isObj(sig.publicKey) ? pem(sig.publicKey.content) : undefined;
  return { signatures: [Buffer.from(sig.content, 'base64')], payloadSha256: hash.value.toLowerCase(), publicKeyPems: pk === undefined ? [] : [pk] };
}

function spkiOf(pem: string): Buffer | undefined {
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}

/**
 * Verify the SET and bind it to this signature. `signerSpki`: the DER SPKI of the key that verified the signature
 * (key-based), compared with the entry's public key; for a certificate the caller passes the leaf's SPKI.
 * Returns the log's integrated time (seconds), which keyless checks compare with the certificate's validity.
 */
export function verifyRekorBundle(b: RekorBundle, logs: readonly RekorKey[], payload: Buffer, signature: Buffer, signerSpki: Buffer | undefined): number {
  const log = logs.find((l) => l.logID === b.logID);
  if (!log) fail('set_invalid', `cosign: Rekor entry is from log ${b.logID.slice(0, 16)}…, not a trusted Rekor`);
  let ok = false;
  try {
    ok = verify('sha256', setSignedBytes(b), { key: log.key, dsaEncoding: 'der' }, b.set);
  } catch {
    ok = false;
  }
  if (!ok) fail('set_invalid', 'cosign: Rekor SET signature does not verify with the trusted Rekor key');
  const facts = entryFacts(b.body);
  if (!facts.signatures.some((x) => x.equals(signature))) fail('set_invalid', 'cosign: Rekor entry is for another signature');
  if (facts.payloadSha256 !== createHash('sha256').update(payload).digest('hex')) fail('set_invalid', 'cosign: Rekor entry is for another payload');
  if (signerSpki !== undefined) {
    const named = facts.publicKeyPems.map((pem) => (pem.includes('CERTIFICATE') ? certSpki(pem) : spkiOf(pem)));
    if (!named.some((x) => x !== undefined && x.equals(signerSpki))) fail('set_invalid', 'cosign: Rekor entry names another public key');
  }
  return b.integratedTime;
}

function certSpki(pem: string): Buffer | undefined {
  try {
    // A `rekord`/`hashedrekord` entry of a keyless signature holds the leaf certificate instead of a bare key.
    return new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  } catch {
    return undefined;
  }
}
