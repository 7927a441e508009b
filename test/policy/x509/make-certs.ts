/**
 * Test-only certificate factory on @peculiar/x509 (WebCrypto): builds leaf → … → root chains whose every
 * profile-relevant field can be bent, and CRLs signed by any CA of such a chain. EC P-256 keys by default
 * (fast to generate); RSA on request.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const KU_FLAGS = x509.KeyUsageFlags;
export const EKU_OIDS = {
  codeSigning: '1.3.6.1.5.5.7.3.3',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  custom: '1.3.6.1.4.1.55555.1',
} as const;

export interface CertSpec {
  readonly cn?: string;
  /** basicConstraints cA; null omits the extension. Default: true for CAs, false for the leaf. */
  readonly ca?: boolean | null;
  readonly pathLen?: number;
  /** Key usage flags; null omits the extension. */
  readonly keyUsage?: number | null;
  readonly keyUsageCritical?: boolean;
  /** EKU OIDs; null/undefined omits the extension. */
  readonly eku?: readonly string[] | null;
  readonly ekuCritical?: boolean;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** RSA modulus size; omitted → EC P-256. */
  readonly rsaBits?: number;
  readonly serial?: string;
  readonly crlUrl?: string;
  /** AIA id-ad-ocsp responder URL (RFC 5280 § 4.2.2.1). */
  readonly ocspUrl?: string;
  /** Extra raw extensions: [oid, critical, DER value]. */
  readonly extra?: readonly (readonly [string, boolean, Uint8Array])[];
}

export interface ChainSpec {
  readonly leaf?: CertSpec;
  /** Intermediate CAs, nearest to the leaf first. Default: one. */
  readonly intermediates?: readonly CertSpec[];
  readonly root?: CertSpec;
}

export interface Issued {
  readonly der: Uint8Array;
  readonly keys: CryptoKeyPair;
  readonly name: string;
}

export interface MadeChain {
  /** DER, leaf first, root last. */
  readonly chain: Uint8Array[];
  readonly issued: Issued[];
}

const DEFAULT_FROM = new Date('2024-01-01T00:00:00Z');
const DEFAULT_TO = new Date('2124-01-01T00:00:00Z');
let serialCounter = 0x1000;

async function keyPair(spec: CertSpec): Promise<{ keys: CryptoKeyPair; alg: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm | EcdsaParams }> {
  if (spec.rsaBits) {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: spec.rsaBits };
    return { keys: (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair, alg, sign: alg };
  }
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  return { keys: (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair, alg, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
}

function extensions(spec: CertSpec, isCa: boolean): x509.Extension[] {
  const out: x509.Extension[] = [];
  const ca = spec.ca === undefined ? isCa : spec.ca;
  if (ca !== null) out.push(new x509.BasicConstraintsExtension(ca, spec.pathLen, true));
  const ku = spec.keyUsage === undefined ? (isCa ? KU_FLAGS.keyCertSign | KU_FLAGS.cRLSign : KU_FLAGS.digitalSignature) : spec.keyUsage;
  if (ku !== null) out.push(new x509.KeyUsagesExtension(ku, spec.keyUsageCritical ?? true));
  if (spec.eku) out.push(new x509.ExtendedKeyUsageExtension([...spec.eku], spec.ekuCritical ?? false));
  if (spec.crlUrl) out.push(new x509.CRLDistributionPointsExtension([spec.crlUrl]));
  if (spec.ocspUrl) out.push(new x509.AuthorityInfoAccessExtension({ ocsp: [spec.ocspUrl] }));
  for (const [oid, critical, value] of spec.extra ?? []) out.push(new x509.Extension(oid, critical, value));
  return out;
}

/** Issues one certificate for `spec`, signed by `issuer` (self-signed when issuer is null). */
export async function issue(spec: CertSpec, issuer: Issued | null, isCa: boolean): Promise<Issued> {
  const { keys, sign } = await keyPair(spec);
  const name = `CN=${spec.cn ?? (isCa ? 'Test CA' : 'Test Leaf')}`;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: spec.serial ?? (serialCounter++).toString(16),
    subject: name,
    issuer: issuer?.name ?? name,
    notBefore: spec.notBefore ?? DEFAULT_FROM,
    notAfter: spec.notAfter ?? DEFAULT_TO,
    publicKey: keys.publicKey,
    signingKey: issuer?.keys.privateKey ?? keys.privateKey,
    signingAlgorithm: issuer ? signAlgOf(issuer) : sign,
    extensions: extensions(spec, isCa),
  });
  return { der: new Uint8Array(cert.rawData), keys, name };
}

function signAlgOf(issuer: Issued): Algorithm | EcdsaParams {
  return issuer.keys.privateKey.algorithm.name === 'ECDSA' ? ({ name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams) : issuer.keys.privateKey.algorithm;
}

/** Builds root → intermediates → leaf and returns them leaf-first. */
export async function makeChain(spec: ChainSpec = {}): Promise<MadeChain> {
  const root = await issue({ cn: 'Test Root', ...spec.root }, null, true);
  const issued: Issued[] = [root];
  const intermediates = spec.intermediates ?? [{ cn: 'Test Intermediate' }];
  for (const [i, s] of [...intermediates].reverse().entries()) issued.unshift(await issue({ cn: `Test Intermediate ${i + 1}`, ...s }, issued[0]!, true));
  issued.unshift(await issue({ cn: 'Test Leaf', ...spec.leaf }, issued[0]!, false));
  return { chain: issued.map((c) => c.der), issued };
}

export interface CrlSpec {
  readonly issuer: Issued;
  readonly entries?: readonly { serial: string; revoked?: Date; reason?: number; invalidity?: Date }[];
  readonly thisUpdate?: Date;
  /** null omits nextUpdate. */
  readonly nextUpdate?: Date | null;
  readonly extra?: readonly (readonly [string, boolean, Uint8Array])[];
}

/** A DER CRL signed by `spec.issuer`. */
export async function makeCrl(spec: CrlSpec): Promise<Uint8Array> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: spec.issuer.name,
    thisUpdate: spec.thisUpdate ?? DEFAULT_FROM,
    ...(spec.nextUpdate === null ? {} : { nextUpdate: spec.nextUpdate ?? DEFAULT_TO }),
    entries: (spec.entries ?? []).map((e) => ({
      serialNumber: e.serial,
      revocationDate: e.revoked ?? new Date('2025-01-01T00:00:00Z'),
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      ...(e.invalidity === undefined ? {} : { invalidity: e.invalidity }),
    })),
    extensions: (spec.extra ?? []).map(([oid, critical, value]) => new x509.Extension(oid, critical, value)),
    signingKey: spec.issuer.keys.privateKey,
    signingAlgorithm: signAlgOf(spec.issuer),
  });
  return new Uint8Array(crl.rawData);
}
