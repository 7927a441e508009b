/**
 * A Sigstore instance in the test process, for keyless cosign signatures with no network (REAL-PEERS.md § 8):
 * a Fulcio-like CA that issues short-lived code-signing certificates for an OIDC identity (SAN + issuer extension
 * 1.3.6.1.4.1.57264.1.1 and/or .1.8, optional GitHub workflow claims .1.2–.1.6 and provider-generic claims .1.9+) with an embedded SCT from its own CT log
 * (RFC 6962 § 3.2: the precertificate TBS is the final TBS without the SCT extension), and a Rekor-like log that
 * returns the SET cosign stores in the `dev.sigstore.cosign/bundle` annotation (ECDSA over the canonical JSON of
 * {body, integratedTime, logID, logIndex}; body = a hashedrekord entry of this very signature). Its
 * `trustedRoot()` is the trusted_root.json a rule names. Written from the specifications, not from @sigstore/mock
 * (not installed here).
 */
import 'reflect-metadata';
import { createHash, generateKeyPairSync, KeyObject, sign, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { trustedRootFromPems } from '../../verifiers/cosign/index.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' };
const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const GITHUB_OIDS = { githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2', githubWorkflowSha: '1.3.6.1.4.1.57264.1.3', githubWorkflowName: '1.3.6.1.4.1.57264.1.4', githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5', githubWorkflowRef: '1.3.6.1.4.1.57264.1.6' } as const;

export interface KeylessIdentity {
  readonly email?: string;
  readonly uri?: string;
  readonly issuer: string;
  readonly github?: Partial<Record<keyof typeof GITHUB_OIDS, string>>;
  /** Provider-generic claims (Fulcio .1.9 onward), written as DER UTF8String as Fulcio does (oid-info.md). */
  readonly claims?: Partial<Record<keyof typeof V2_OIDS, string>>;
  /** Also write the issuer as .1.8 (DER UTF8String) with this value; `issuerV1: false` leaves out the raw .1.1. */
  readonly issuerV2?: string;
  readonly issuerV1?: false;
  /** Extensions written verbatim (for malformed encodings). */
  readonly rawExtensions?: readonly { readonly oid: string; readonly value: Buffer }[];
}

/** Fulcio's provider-generic extensions (docs/oid-info.md), values DER UTF8String. */
export const V2_OIDS = {
  buildSignerURI: '1.3.6.1.4.1.57264.1.9', buildSignerDigest: '1.3.6.1.4.1.57264.1.10', runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12', sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13', sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15', sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16', sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18', buildConfigDigest: '1.3.6.1.4.1.57264.1.19', buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21', sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22', deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
} as const;
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

/** DER UTF8String (tag 0x0C) of `s`. */
export function derUtf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = b.length < 0x80 ? Buffer.from([b.length]) : b.length < 0x100 ? Buffer.from([0x81, b.length]) : Buffer.from([0x82, b.length >> 8, b.length & 0xff]);
  return Buffer.concat([Buffer.from([0x0c]), len, b]);
}

export interface KeylessSignOptions {
  /** When the certificate starts (default: now - 1 min); it lives 10 minutes, as Fulcio's. */
  readonly notBefore?: Date;
  /** false: no Rekor entry (no `…/bundle` annotation). */
  readonly logged?: boolean;
}

/** Annotations of one cosign signature layer (tag layout). */
export interface KeylessSignature {
  readonly signature: Buffer;
  readonly annotations: Record<string, string>;
}

const uint = (n: number | bigint, bytes: number) => {
  const b = Buffer.alloc(bytes);
  let v = BigInt(n);
  for (let i = bytes - 1; i >= 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
};
const spkiOf = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
const pemOf = (der: Uint8Array) => new X509Certificate(der).toString();

/** DER length-prefixed element at `offset`: [content start, end]. */
function element(der: Buffer, offset: number): [number, number] {
  const first = der[offset + 1]!;
  if (first < 0x80) return [offset + 2, offset + 2 + first];
  const n = first & 0x7f;
  const len = Number(der.readUIntBE(offset + 2, n));
  return [offset + 2 + n, offset + 2 + n + len];
}

/** The TBSCertificate DER of a certificate (its first element). */
function tbsOf(certDer: Buffer): Buffer {
  const [inner] = element(certDer, 0);
  const [, end] = element(certDer, inner);
  return certDer.subarray(inner, end);
}

function derOctetString(content: Buffer): Buffer {
  const len = content.length;
  const header = len < 0x80 ? Buffer.from([0x04, len]) : len < 0x100 ? Buffer.from([0x04, 0x81, len]) : Buffer.from([0x04, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, content]);
}

export class MiniSigstore {
  readonly #ca: { keys: webcrypto.CryptoKeyPair; der: Buffer; name: string };
  readonly #ct = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly #rekor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  #logIndex = 1000;
  #serial = 0x5000;

  private constructor(ca: { keys: webcrypto.CryptoKeyPair; der: Buffer; name: string }) {
    this.#ca = ca;
  }

  static async create(name = 'mini-fulcio'): Promise<MiniSigstore> {
    const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const dn = `CN=${name},O=pullgate-test`;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: dn, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2100-01-01T00:00:00Z'), keys, signingAlgorithm: ECDSA_SHA256,
      extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    return new MiniSigstore({ keys, der: Buffer.from(cert.rawData), name: dn });
  }

  /** This instance's trusted_root.json (Fulcio CA, Rekor and CT log keys). */
  trustedRoot(): unknown {
    return trustedRootFromPems({
      fulcioCerts: [pemOf(this.#ca.der)],
      rekorKeys: [this.#rekor.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
      ctLogKeys: [this.#ct.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
      validFrom: '2020-01-01T00:00:00Z',
    });
  }

  /** Signs `payload` as `cosign sign` does keyless: certificate for `identity`, SCT, and (unless told not to) the Rekor SET. */
  async sign(payload: Buffer, identity: KeylessIdentity, opts: KeylessSignOptions = {}): Promise<KeylessSignature> {
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const { certificatePem, privateKey } = await this.#issue(identity, notBefore);
    const signature = sign('sha256', payload, privateKey);
    const annotations: Record<string, string> = {
      'dev.cosignproject.cosign/signature': signature.toString('base64'),
      'dev.sigstore.cosign/certificate': certificatePem,
      'dev.sigstore.cosign/chain': pemOf(this.#ca.der),
    };
    if (opts.logged !== false) annotations['dev.sigstore.cosign/bundle'] = this.#logEntry(payload, signature, certificatePem, Math.floor(notBefore.getTime() / 1000) + 5);
    return { signature, annotations };
  }

  /**
   * `cosign sign --new-bundle-format` keyless: a Sigstore v0.3 bundle (protobuf-specs `sigstore_bundle.proto`, JSON)
   * holding a DSSE envelope over an in-toto statement whose subject is `imageDigest` (predicateType
   * `https://sigstore.dev/cosign/sign/v1`), the leaf certificate, and one Rekor `dsse` 0.0.1 entry with both its SET
   * and an inclusion proof (v0.2+ bundles need the proof): a one-leaf tree whose signed checkpoint (C2SP
   * signed-note) names this log.
   */
  async signBundle(imageDigest: string, identity: KeylessIdentity, opts: { readonly notBefore?: Date } = {}): Promise<Buffer> {
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const { certificatePem, certificateDer, privateKey } = await this.#issue(identity, notBefore);
    const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'image', digest: { sha256: imageDigest.slice('sha256:'.length) } }], predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {} }));
    const type = 'application/vnd.in-toto+json';
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${statement.length} `), statement]);
    const sig = sign('sha256', pae, privateKey);
    const envelope = { payload: statement.toString('base64'), payloadType: type, signatures: [{ sig: sig.toString('base64'), keyid: '' }] };
    const body = Buffer.from(JSON.stringify({
      apiVersion: '0.0.1', kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(JSON.stringify(envelope)).digest('hex') },
        payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(statement).digest('hex') },
        signatures: [{ signature: sig.toString('base64'), verifier: Buffer.from(certificatePem).toString('base64') }],
      },
    }));
    const integratedTime = Math.floor(notBefore.getTime() / 1000) + 5;
    const logIdRaw = createHash('sha256').update(spkiOf(this.#rekor.publicKey)).digest();
    const logIndex = this.#logIndex++;
    const canonical = `{"body":${JSON.stringify(body.toString('base64'))},"integratedTime":${integratedTime},"logID":${JSON.stringify(logIdRaw.toString('hex'))},"logIndex":${logIndex}}`;
    const set = sign('sha256', Buffer.from(canonical), this.#rekor.privateKey);
    // RFC 6962 § 2.1: a one-leaf tree's root is the leaf hash; the checkpoint is `origin\nsize\nroot\n` signed.
    const root = createHash('sha256').update(Buffer.from([0])).update(body).digest();
    const note = `rekor.invalid - mini\n1\n${root.toString('base64')}\n`;
    const noteSig = Buffer.concat([logIdRaw.subarray(0, 4), sign('sha256', Buffer.from(note), this.#rekor.privateKey)]);
    return Buffer.from(JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        certificate: { rawBytes: certificateDer.toString('base64') },
        tlogEntries: [{
          logIndex: String(logIndex), logId: { keyId: logIdRaw.toString('base64') }, kindVersion: { kind: 'dsse', version: '0.0.1' }, integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          inclusionProof: { logIndex: '0', rootHash: root.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope: `${note}\n\u2014 rekor.invalid ${noteSig.toString('base64')}\n` } },
          canonicalizedBody: body.toString('base64'),
        }],
      },
      dsseEnvelope: envelope,
    }));
  }

  /** A Fulcio-like leaf for `identity` valid 10 minutes from `notBefore`, with its embedded SCT. */
  async #issue(identity: KeylessIdentity, notBefore: Date): Promise<{ certificatePem: string; certificateDer: Buffer; privateKey: KeyObject }> {
    const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const notAfter = new Date(notBefore.getTime() + 10 * 60_000);
    const extensions: x509.Extension[] = [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3']),
      new x509.SubjectAlternativeNameExtension(identity.email !== undefined ? [{ type: 'email', value: identity.email }] : [{ type: 'url', value: identity.uri! }], true),
      ...(identity.issuerV1 === false ? [] : [new x509.Extension(OID_ISSUER_V1, false, Buffer.from(identity.issuer))]),
      ...(identity.issuerV2 === undefined ? [] : [new x509.Extension(OID_ISSUER_V2, false, derUtf8(identity.issuerV2))]),
      ...Object.entries(identity.github ?? {}).map(([k, v]) => new x509.Extension(GITHUB_OIDS[k as keyof typeof GITHUB_OIDS], false, Buffer.from(v))),
      ...Object.entries(identity.claims ?? {}).map(([k, v]) => new x509.Extension(V2_OIDS[k as keyof typeof V2_OIDS], false, derUtf8(v))),
      ...(identity.rawExtensions ?? []).map((e) => new x509.Extension(e.oid, false, e.value)),
    ];
    const base = { serialNumber: (this.#serial++).toString(16), subject: '', issuer: this.#ca.name, notBefore, notAfter, publicKey: leafKeys.publicKey, signingKey: this.#ca.keys.privateKey, signingAlgorithm: ECDSA_SHA256 };
    // Precertificate TBS = the final TBS without the SCT extension: issue once without it, sign the SCT over that.
    const pre = await x509.X509CertificateGenerator.create({ ...base, extensions });
    const timestamp = BigInt(notBefore.getTime() + 1000);
    const issuerKeyHash = createHash('sha256').update(spkiOf(KeyObject.from(this.#ca.keys.publicKey))).digest();
    const tbs = tbsOf(Buffer.from(pre.rawData));
    const signed = Buffer.concat([Buffer.from([0, 0]), uint(timestamp, 8), uint(1, 2), issuerKeyHash, uint(tbs.length, 3), tbs, uint(0, 2)]);
    const sctSig = sign('sha256', signed, this.#ct.privateKey);
    const logId = createHash('sha256').update(spkiOf(this.#ct.publicKey)).digest();
    const sct = Buffer.concat([Buffer.from([0]), logId, uint(timestamp, 8), uint(0, 2), Buffer.from([4, 3]), uint(sctSig.length, 2), sctSig]);
    const list = Buffer.concat([uint(sct.length + 2, 2), uint(sct.length, 2), sct]);
    const leaf = await x509.X509CertificateGenerator.create({ ...base, extensions: [...extensions, new x509.Extension(OID_SCT_LIST, false, derOctetString(list))] });
    const certificateDer = Buffer.from(leaf.rawData);
    return { certificatePem: pemOf(certificateDer), certificateDer, privateKey: KeyObject.from(leafKeys.privateKey) };
  }

  /** The Rekor bundle annotation for a hashedrekord entry of this signature, integrated at `integratedTime` (s). */
  #logEntry(payload: Buffer, signature: Buffer, certificatePem: string, integratedTime: number): string {
    const body = Buffer.from(JSON.stringify({
      apiVersion: '0.0.1', kind: 'hashedrekord',
      spec: { data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } }, signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(certificatePem).toString('base64') } } },
    })).toString('base64');
    const logID = createHash('sha256').update(spkiOf(this.#rekor.publicKey)).digest('hex');
    const logIndex = this.#logIndex++;
    // Canonical JSON (RFC 8785): keys sorted, no spaces — what cosign's bundle.VerifySET checks.
    const canonical = `{"body":${JSON.stringify(body)},"integratedTime":${integratedTime},"logID":${JSON.stringify(logID)},"logIndex":${logIndex}}`;
    const set = sign('sha256', Buffer.from(canonical), this.#rekor.privateKey);
    return JSON.stringify({ SignedEntryTimestamp: set.toString('base64'), Payload: { body, integratedTime, logIndex, logID } });
  }
}
