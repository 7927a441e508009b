/**
 * Test helper: make signing certificates and sign Notation JWS / COSE envelopes
 * in-process, for cases the upstream vectors lack (EC keys, other RSA sizes,
 * forged or tampered envelopes). Reusable by later integration tests.
 *
 * Certificates: @peculiar/x509 over node's WebCrypto (chosen over spawning
 * openssl: in-process, no PATH dependency, and extensions can be set freely to
 * build invalid certificates too). Signatures: node:crypto, RSASSA-PSS with
 * salt = hash length, ECDSA as IEEE P1363 r||s — the encodings the spec requires.
 *
 * Defaults produce a valid envelope exactly like notation-go would: JWS protected
 * header members sorted by name (Go map order), COSE headers in canonical
 * length-first order (as go-cose), crit ordered as notation-core-go writes it.
 * Every default can be overridden (editProtected, encodeProtected, crit, alg…)
 * to forge invalid envelopes that still carry a valid signature; rawSign signs
 * arbitrary bytes for hand-built envelopes.
 *
 *   const cert = await makeSigningCert({ keyType: 'ec-p256' })
 *   const jws = signJws(payload, cert.privateKey, cert.chain, { expiry })
 *   const cose = signCose(payload, cert.privateKey, cert.chain, { signingScheme: 'notary.x509.signingAuthority' })
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { KeyObject, constants, sign as cryptoSign, webcrypto } from 'node:crypto';
import { Tagged, encode } from 'cborg';
import { ALGORITHMS, algorithmForKey, keySpecOf } from '../../../verifiers/notation/envelope/algorithm.ts';
import type { SignatureAlgorithm, SigningScheme } from '../../../verifiers/notation/envelope/types.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;

export type KeyType = 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'rsa-1024';
export const SUPPORTED_KEY_TYPES = ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;

export interface SigningCert {
  readonly keyType: KeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** DER of this certificate. */
  readonly certificate: Buffer;
  /** This certificate followed by its issuers' chain (leaf first). */
  readonly chain: Buffer[];
  readonly subject: string;
  readonly cryptoKeys: CryptoKeyPair;
  readonly signingAlgorithm: Algorithm;
}

export interface CertOptions {
  keyType: KeyType;
  subject?: string;
  /** Issuer; default self-signed. */
  issuer?: SigningCert;
  notBefore?: Date;
  notAfter?: Date;
  /** Make a CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  /** Replace the default extensions entirely. */
  extensions?: x509.Extension[];
}

function webAlgorithm(keyType: KeyType): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams {
  switch (keyType) {
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'ec-p521':
      return { name: 'ECDSA', namedCurve: 'P-521' };
    default: {
      const modulusLength = Number(keyType.slice(4));
      return { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    }
  }
}

function certSigningAlgorithm(keyType: KeyType): Algorithm {
  if (keyType === 'ec-p384') return { name: 'ECDSA', hash: 'SHA-384' } as Algorithm;
  if (keyType === 'ec-p521') return { name: 'ECDSA', hash: 'SHA-512' } as Algorithm;
  if (keyType === 'ec-p256') return { name: 'ECDSA', hash: 'SHA-256' } as Algorithm;
  return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm;
}

let serial = 1;

export async function makeSigningCert(opts: CertOptions): Promise<SigningCert> {
  const cryptoKeys = (await webcrypto.subtle.generateKey(webAlgorithm(opts.keyType), true, ['sign', 'verify'])) as CryptoKeyPair;
  const subject = opts.subject ?? `CN=pullgate test ${opts.keyType} ${serial},O=pullgate,ST=WA,C=US`;
  const extensions =
    opts.extensions ??
    (opts.ca
      ? [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        ]
      : [
          new x509.BasicConstraintsExtension(false, undefined, false),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning], false),
        ]);
  const validity = {
    notBefore: opts.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: opts.notAfter ?? new Date('2120-01-01T00:00:00Z'),
  };
  const serialNumber = (serial++).toString(16).padStart(2, '0');
  const issuer = opts.issuer;
  const signingAlgorithm = certSigningAlgorithm(opts.keyType);
  const cert =
    issuer === undefined
      ? await x509.X509CertificateGenerator.createSelfSigned({
          serialNumber,
          name: subject,
          ...validity,
          keys: cryptoKeys,
          signingAlgorithm,
          extensions,
        })
      : await x509.X509CertificateGenerator.create({
          serialNumber,
          subject,
          issuer: issuer.subject,
          ...validity,
          extensions,
          publicKey: cryptoKeys.publicKey,
          signingKey: issuer.cryptoKeys.privateKey,
          signingAlgorithm: issuer.signingAlgorithm,
        });
  const certificate = Buffer.from(cert.rawData);
  return {
    keyType: opts.keyType,
    privateKey: KeyObject.from(cryptoKeys.privateKey),
    publicKey: KeyObject.from(cryptoKeys.publicKey),
    certificate,
    chain: [certificate, ...(issuer?.chain ?? [])],
    subject,
    cryptoKeys,
    signingAlgorithm,
  };
}

export interface ExtendedAttributeInput {
  key: string | number;
  value: unknown;
  critical?: boolean;
}

export interface SignOptions {
  /** Claimed algorithm; default: the one the key spec requires. Signing uses its hash. */
  alg?: SignatureAlgorithm;
  signingScheme?: SigningScheme;
  /** Default: now, whole seconds. notary.x509 → signingTime, signingAuthority → authenticSigningTime. */
  signingTime?: Date;
  expiry?: Date;
  contentType?: string;
  extendedAttributes?: ExtendedAttributeInput[];
  /** Replace the computed crit list. */
  crit?: (string | number)[];
  /** Last-chance edit of the protected header before it is encoded (set/delete entries). */
  editProtected?: (header: Map<string | number, unknown>) => void;
  /** Encode the protected header yourself (JWS: JSON text; COSE: CBOR bytes), e.g. with duplicate labels. */
  encodeProtected?: (header: Map<string | number, unknown>) => string | Uint8Array;
  signingAgent?: string;
  timestampSignature?: Uint8Array;
  /** Extra unprotected header entries. */
  unprotected?: Map<string | number, unknown>;
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Raw signature over `data` with the claimed algorithm's hash and the key's own scheme. */
export function rawSign(alg: SignatureAlgorithm, key: KeyObject, data: Uint8Array): Buffer {
  const spec = ALGORITHMS[alg];
  return key.asymmetricKeyType === 'rsa'
    ? cryptoSign(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashLength })
    : cryptoSign(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' });
}

function defaultAlg(key: KeyObject): SignatureAlgorithm {
  return algorithmForKey(keySpecOf(key));
}

/** The algorithm whose hash signs: the claimed one if it is supported, else the key's own. */
function signingAlg(claimed: unknown, key: KeyObject): SignatureAlgorithm {
  const byName = Object.values(ALGORITHMS).find((a) => a.name === claimed || a.coseId === claimed);
  return byName?.name ?? defaultAlg(key);
}

/**
 * Protected header entries. crit order follows notation-core-go: JWS
 * [scheme, critical extended…, authenticSigningTime, expiry]; COSE
 * [scheme, authenticSigningTime, expiry, critical extended…].
 */
function protectedEntries(format: 'jws' | 'cose', key: KeyObject, opts: SignOptions): Map<string | number, unknown> {
  const jws = format === 'jws';
  const timeValue = (d: Date): unknown =>
    jws ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : new Tagged(1, Math.floor(d.getTime() / 1000));
  const alg = opts.alg ?? defaultAlg(key);
  const scheme = opts.signingScheme ?? 'notary.x509';
  const time = wholeSeconds(opts.signingTime ?? new Date());
  const header = new Map<string | number, unknown>();
  const standardCrit: (string | number)[] = [];
  const extendedCrit: (string | number)[] = [];
  header.set(jws ? 'alg' : 1, jws ? alg : ALGORITHMS[alg].coseId);
  header.set(jws ? 'cty' : 3, opts.contentType ?? 'application/vnd.cncf.notary.payload.v1+json');
  header.set('io.cncf.notary.signingScheme', scheme);
  if (scheme === 'notary.x509.signingAuthority') {
    header.set('io.cncf.notary.authenticSigningTime', timeValue(time));
    standardCrit.push('io.cncf.notary.authenticSigningTime');
  } else {
    header.set('io.cncf.notary.signingTime', timeValue(time));
  }
  if (opts.expiry !== undefined) {
    header.set('io.cncf.notary.expiry', timeValue(wholeSeconds(opts.expiry)));
    standardCrit.push('io.cncf.notary.expiry');
  }
  for (const attr of opts.extendedAttributes ?? []) {
    header.set(attr.key, attr.value);
    if (attr.critical === true) extendedCrit.push(attr.key);
  }
  const crit = jws ? [...extendedCrit, ...standardCrit] : [...standardCrit, ...extendedCrit];
  header.set(jws ? 'crit' : 2, opts.crit ?? ['io.cncf.notary.signingScheme', ...crit]);
  opts.editProtected?.(header);
  return header;
}

function payloadBytes(payload: Uint8Array | object): Uint8Array {
  return payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload));
}

/** Flattened JWS JSON serialization, as notation-go writes it. */
export function signJws(
  payload: Uint8Array | object,
  key: KeyObject,
  chain: readonly Uint8Array[],
  opts: SignOptions = {},
): Buffer {
  const header = protectedEntries('jws', key, opts);
  const sorted = Object.fromEntries(
    [...header].map(([k, v]) => [String(k), v]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)),
  );
  const protectedText = Buffer.from(opts.encodeProtected?.(header) ?? JSON.stringify(sorted)).toString('base64url');
  const payloadText = Buffer.from(payloadBytes(payload)).toString('base64url');
  const signature = rawSign(signingAlg(header.get('alg'), key), key, Buffer.from(`${protectedText}.${payloadText}`));
  const unprotected: Record<string, unknown> = {
    x5c: chain.map((c) => Buffer.from(c).toString('base64')),
    'io.cncf.notary.signingAgent': opts.signingAgent ?? 'pullgate-test/1.0.0',
  };
  if (opts.timestampSignature !== undefined)
    unprotected['io.cncf.notary.timestampSignature'] = Buffer.from(opts.timestampSignature).toString('base64');
  for (const [k, v] of opts.unprotected ?? []) unprotected[String(k)] = v;
  return Buffer.from(
    JSON.stringify({
      payload: payloadText,
      protected: protectedText,
      header: unprotected,
      signature: signature.toString('base64url'),
    }),
  );
}

/** COSE_Sign1_Tagged, as notation-go writes it. */
export function signCose(
  payload: Uint8Array | object,
  key: KeyObject,
  chain: readonly Uint8Array[],
  opts: SignOptions = {},
): Buffer {
  const header = protectedEntries('cose', key, opts);
  const custom = opts.encodeProtected?.(header);
  const protectedBytes = typeof custom === 'string' ? Buffer.from(custom) : (custom ?? encode(header));
  const body = payloadBytes(payload);
  const signature = rawSign(signingAlg(header.get(1), key), key, encode(['Signature1', protectedBytes, new Uint8Array(0), body]));
  const unprotected = new Map<string | number, unknown>([[33, chain.map((c) => new Uint8Array(c))]]);
  unprotected.set('io.cncf.notary.signingAgent', opts.signingAgent ?? 'pullgate-test/1.0.0');
  if (opts.timestampSignature !== undefined)
    unprotected.set('io.cncf.notary.timestampSignature', new Uint8Array(opts.timestampSignature));
  for (const [k, v] of opts.unprotected ?? []) unprotected.set(k, v);
  return Buffer.from(encode(new Tagged(18, [protectedBytes, unprotected, body, new Uint8Array(signature)])));
}

/** A payload for a manifest descriptor. */
export function targetPayload(descriptor: {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}): Uint8Array {
  return Buffer.from(JSON.stringify({ targetArtifact: descriptor }));
}
