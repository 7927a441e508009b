/**
 * Test-only OCSP responder material on @peculiar/asn1-ocsp: BasicOCSPResponses (RFC 6960 § 4.2.1) about a
 * certificate, signed by any key (the issuer, a delegated responder, a stranger), with every field bendable; and a
 * loopback HTTP responder that answers POSTed requests from a handler.
 */
import { createHash, KeyObject, sign, type webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BasicOCSPResponse, CertID, CertStatus, OCSPResponse, ResponderID, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate as AsnCertificate, CRLReason, Extension, InvalidityDate, Name } from '@peculiar/asn1-x509';
import { parseCertificate } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { certIdHashes, OCSP_HASH_OIDS, publicKeyBits } from '../../../pki/ocsp.ts';
import type { OcspHash } from '../../../pki/ocsp.ts';

/** A make-certs `Issued`, or a certificate with a node:crypto private key (the vectors' ocsp.key). */
export interface Signer {
  readonly der: Uint8Array;
  readonly keys: { readonly privateKey: webcrypto.CryptoKey | KeyObject };
}

export interface OcspSpec {
  /** The certificate the response is about, and its issuer (for the CertID). */
  readonly cert: Uint8Array;
  readonly issuer: Uint8Array;
  /** Who signs (private key) and is named in ResponderID. */
  readonly signer: Signer;
  /** Certificates included in `certs`. */
  readonly include?: readonly Uint8Array[];
  readonly responderBy?: 'name' | 'key';
  readonly status?: 'good' | 'revoked' | 'unknown';
  readonly revokedAt?: Date;
  readonly reason?: number;
  readonly invalidity?: Date;
  readonly thisUpdate?: Date;
  /** null omits nextUpdate. */
  readonly nextUpdate?: Date | null;
  readonly hash?: OcspHash;
  /** Serial override for the CertID (a response about another certificate). */
  readonly serial?: bigint;
  readonly responseExtensions?: readonly Extension[];
}

const ONE_DAY = 24 * 3600_000;

function serialBuf(serial: bigint): ArrayBuffer {
  let h = serial.toString(16);
  if (h.length % 2) h = `0${h}`;
  if (parseInt(h.slice(0, 2), 16) & 0x80) h = `00${h}`;
  return new Uint8Array(Buffer.from(h, 'hex')).buffer;
}

/** A whole OCSPResponse (DER) carrying a BasicOCSPResponse per `spec`. */
export function makeOcspResponse(spec: OcspSpec, now = new Date()): Uint8Array {
  const cert: Certificate = parseCertificate(spec.cert);
  const issuer: Certificate = parseCertificate(spec.issuer);
  const signerCert = parseCertificate(spec.signer.der);
  const hash = spec.hash ?? 'sha256';
  const h = certIdHashes(cert, issuer, hash);
  const certID = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OCSP_HASH_OIDS[hash], parameters: null }),
    issuerNameHash: new OctetString(h.nameHash),
    issuerKeyHash: new OctetString(h.keyHash),
    serialNumber: serialBuf(spec.serial ?? cert.serialNumber),
  });
  const status = spec.status ?? 'good';
  const certStatus =
    status === 'good' ? new CertStatus({ good: null })
    : status === 'unknown' ? new CertStatus({ unknown: null })
    : new CertStatus({ revoked: new RevokedInfo({ revocationTime: spec.revokedAt ?? new Date(now.getTime() - ONE_DAY), ...(spec.reason === undefined ? {} : { revocationReason: new CRLReason(spec.reason) }) }) });
  const single = new SingleResponse({
    certID,
    certStatus,
    thisUpdate: spec.thisUpdate ?? new Date(now.getTime() - 3600_000),
    ...(spec.nextUpdate === null ? {} : { nextUpdate: spec.nextUpdate ?? new Date(now.getTime() + ONE_DAY) }),
    ...(spec.invalidity ? { singleExtensions: [new Extension({ extnID: '2.5.29.24', critical: false, extnValue: new OctetString(AsnConvert.serialize(new InvalidityDate(spec.invalidity))) })] } : {}),
  });
  const responderID = spec.responderBy === 'key'
    ? new ResponderID({ byKey: new OctetString(createHash('sha1').update(publicKeyBits(signerCert)).digest()) })
    : new ResponderID({ byName: AsnConvert.parse(signerCert.subject.der, Name) });
  const data = new ResponseData({ responderID, producedAt: now, responses: [single], ...(spec.responseExtensions ? { responseExtensions: [...spec.responseExtensions] } : {}) });
  const tbs = new Uint8Array(AsnConvert.serialize(data));
  const pk = spec.signer.keys.privateKey;
  const key = pk instanceof KeyObject ? pk : KeyObject.from(pk);
  const ec = key.asymmetricKeyType === 'ec';
  const signature = sign('sha256', tbs, ec ? { key, dsaEncoding: 'der' } : key);
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm: new AlgorithmIdentifier(ec ? { algorithm: '1.2.840.10045.4.3.2' } : { algorithm: '1.2.840.113549.1.1.11', parameters: null }),
    signature: new Uint8Array(signature).buffer,
    ...(spec.include ? { certs: spec.include.map((d) => AsnConvert.parse(d, AsnCertificate)) } : {}),
  });
  return new Uint8Array(AsnConvert.serialize(errorResponse(0, new Uint8Array(AsnConvert.serialize(basic)))));
}

/** An OCSPResponse with `status` (e.g. 1 malformedRequest, 3 tryLater) and optionally BasicOCSPResponse bytes. */
export function errorResponse(status: number, basic?: Uint8Array): OCSPResponse {
  return new OCSPResponse({ responseStatus: status, ...(basic ? { responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basic) }) } : {}) });
}

export interface OcspServer {
  readonly url: string;
  /** Answers a POSTed request body; undefined → HTTP 500. */
  handler: (request: Uint8Array, path: string) => Uint8Array | undefined;
  readonly requests: { path: string; contentType: string | undefined; body: Uint8Array }[];
  close(): Promise<void>;
}

export async function startOcspServer(): Promise<OcspServer> {
  const state: OcspServer = {
    url: '',
    handler: () => undefined,
    requests: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      state.requests.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
      const answer = req.method === 'POST' ? state.handler(body, req.url ?? '') : undefined;
      if (answer === undefined) return void res.writeHead(500).end();
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': answer.byteLength }).end(Buffer.from(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
