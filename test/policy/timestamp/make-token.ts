/**
 * Test-only RFC 3161 TimeStampToken factory: hand-assembled DER (RFC 5652 SignedData, RFC 3161 TSTInfo, RFC 5035
 * SigningCertificateV2) signed with an EC key from make-certs.ts, with every field the verifier checks bendable.
 */
import { createHash, KeyObject, sign } from 'node:crypto';
import { parseCertificate } from '../../../pki/certificate.ts';
import type { Issued } from '../x509/make-certs.ts';

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
function tlv(id: number, ...body: Uint8Array[]): Uint8Array {
  const content = cat(...body);
  const n = content.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return cat(Uint8Array.of(id, ...len), content);
}
const seq = (...b: Uint8Array[]) => tlv(0x30, ...b);
const set = (...b: Uint8Array[]) => tlv(0x31, ...b);
const octets = (b: Uint8Array) => tlv(0x04, b);
function int(v: bigint | number): Uint8Array {
  let hex = BigInt(v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
}
function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(BigInt);
  const out: number[] = [];
  for (const arc of [a! * 40n + b!, ...rest]) {
    const bytes = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) bytes.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Uint8Array.from(out));
}
const genTimeDer = (d: Date) => tlv(0x18, Buffer.from(`${d.toISOString().replace(/[-:T]/g, '').replace(/\.(\d{3})Z$/, (_m, ms: string) => (ms === '000' ? 'Z' : `.${ms.replace(/0+$/, '')}Z`))}`));
const utcTime = (d: Date) => tlv(0x17, Buffer.from(d.toISOString().slice(2).replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z')));
const SHA256 = seq(oid('2.16.840.1.101.3.4.2.1'));

export interface TokenSpec {
  /** TSA chain from makeChain: issued[0] signs; all chain certificates are embedded unless `certs` says otherwise. */
  readonly tsa: readonly Issued[];
  readonly message: Uint8Array;
  readonly genTime?: Date;
  readonly accuracy?: { seconds?: number; millis?: number; micros?: number } | null;
  readonly policy?: string;
  readonly certs?: readonly Uint8Array[];
  readonly signedDataVersion?: number;
  readonly signerInfoVersion?: number;
  readonly signingCertificateV2?: 'ok' | 'missing' | 'wrong-hash';
  readonly contentTypeAttr?: string;
  readonly messageDigest?: Uint8Array;
  readonly signingTime?: Date;
  readonly eContentType?: string;
  readonly tamperSignature?: boolean;
}

export const BASELINE_POLICY = '0.4.0.2023.1.1';

export function makeToken(spec: TokenSpec): Uint8Array {
  const signer = parseCertificate(spec.tsa[0]!.der);
  const acc = spec.accuracy === undefined ? { seconds: 1 } : spec.accuracy;
  const accuracy = acc === null ? new Uint8Array(0) : seq(
    ...(acc.seconds !== undefined ? [int(acc.seconds)] : []),
    ...(acc.millis !== undefined ? [tlv(0x80, int(acc.millis).subarray(2))] : []),
    ...(acc.micros !== undefined ? [tlv(0x81, int(acc.micros).subarray(2))] : []),
  );
  const tstInfo = seq(
    int(1), oid(spec.policy ?? '1.3.6.1.4.1.55555.2'),
    seq(SHA256, octets(createHash('sha256').update(spec.message).digest())),
    int(0x1234), genTimeDer(spec.genTime ?? new Date('2025-06-01T12:00:00Z')), accuracy,
  );
  const certHash = createHash('sha256').update(signer.der).digest();
  if (spec.signingCertificateV2 === 'wrong-hash') certHash[0]! ^= 0xff;
  const issuerSerial = seq(seq(tlv(0xa4, signer.issuer.der)), int(signer.serialNumber));
  const attrs = [
    seq(oid('1.2.840.113549.1.9.3'), set(oid(spec.contentTypeAttr ?? '1.2.840.113549.1.9.16.1.4'))),
    seq(oid('1.2.840.113549.1.9.4'), set(octets(spec.messageDigest ?? createHash('sha256').update(tstInfo).digest()))),
    ...(spec.signingCertificateV2 === 'missing' ? [] : [seq(oid('1.2.840.113549.1.9.16.2.47'), set(seq(seq(seq(octets(certHash), issuerSerial)))))]),
    ...(spec.signingTime ? [seq(oid('1.2.840.113549.1.9.5'), set(utcTime(spec.signingTime)))] : []),
  ];
  const signedAttrs = cat(...attrs);
  const key = KeyObject.from(spec.tsa[0]!.keys.privateKey as never);
  const signature = sign('sha256', set(signedAttrs), { key, dsaEncoding: 'der' });
  if (spec.tamperSignature) signature[signature.length - 3]! ^= 0x01;
  const signerInfo = seq(
    int(spec.signerInfoVersion ?? 1), seq(signer.issuer.der, int(signer.serialNumber)), SHA256,
    tlv(0xa0, signedAttrs), seq(oid('1.2.840.10045.4.3.2')), octets(signature),
  );
  const certs = spec.certs ?? spec.tsa.map((c) => c.der);
  const signedData = seq(
    int(spec.signedDataVersion ?? 3), set(SHA256),
    seq(oid(spec.eContentType ?? '1.2.840.113549.1.9.16.1.4'), tlv(0xa0, octets(tstInfo))),
    ...(certs.length > 0 ? [tlv(0xa0, ...certs)] : []),
    set(signerInfo),
  );
  return seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, signedData));
}
