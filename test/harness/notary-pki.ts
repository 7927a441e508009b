/**
 * Keys and certificates for the Notary v1 peers (notary.ts), made in-process with @peculiar/x509 on WebCrypto:
 * - the loopback TLS PKI: one CA, a leaf for notary-server and one for notary-signer. The server's leaf is also its
 *   client certificate towards the signer (gRPC mutual TLS), so both leaves carry serverAuth and clientAuth, and an
 *   IP:127.0.0.1 SAN because Go ignores the CN (RFC 5280 §4.2.1.6, REAL-PEERS §7);
 * - delegation keys for `notary delegation add`: an x509 certificate (what `docker trust signer add` writes, key
 *   type `ecdsa-x509` / `rsa-x509` in targets.json) or a bare SubjectPublicKeyInfo PEM (key type `ecdsa` / `rsa`),
 *   each with its unencrypted PKCS#8 private key for `notary key import`.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
// RSA delegation keys: notary signs with RSA-PSS (notary tuf/signed/sign.go); the certificate's own signature is
// PKCS#1 v1.5, which is what a self-signed RSA certificate from openssl carries too.
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };

export type DelegationKeyAlgorithm = 'ecdsa' | 'rsa';

export interface NotaryTlsFiles {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly signerCertFile: string;
  readonly signerKeyFile: string;
}

export interface DelegationKey {
  /** What `notary delegation add` is given: the certificate (x509 form) or the public key PEM (bare form). */
  readonly publicFile: string;
  /** Unencrypted PKCS#8 PEM, for `notary key import <file> -r <role>`. */
  readonly privateKeyFile: string;
  /** The public key as SPKI PEM, however it was handed to notary: what a verifier pins (keys are matched by key). */
  readonly publicKeyPem: string;
  readonly form: 'x509' | 'bare';
  readonly algorithm: DelegationKeyAlgorithm;
}

function pem(label: string, der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

let serial = 0x4e00;
const nextSerial = (): string => (serial++).toString(16);

async function keyPair(alg: typeof EC | typeof RSA): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

/** Writes ca.pem, server-{cert,key}.pem and signer-{cert,key}.pem into `dir`; valid from a minute ago for a day. */
export async function makeNotaryTls(dir: string): Promise<NotaryTlsFiles> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const caKeys = await keyPair(EC);
  const caName = 'CN=pullgate notary test CA';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(), name: caName, notBefore, notAfter, keys: caKeys, signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.toString('pem') + '\n');
  const leaf = async (name: string): Promise<[string, string]> => {
    const keys = await keyPair(EC);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(), subject: `CN=${name}`, issuer: caName, notBefore, notAfter,
      publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const certFile = join(dir, `${name}-cert.pem`);
    const keyFile = join(dir, `${name}-key.pem`);
    writeFileSync(certFile, cert.toString('pem') + '\n');
    writeFileSync(keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
    return [certFile, keyFile];
  };
  const [serverCertFile, serverKeyFile] = await leaf('notary-server');
  const [signerCertFile, signerKeyFile] = await leaf('notary-signer');
  return { caFile, serverCertFile, serverKeyFile, signerCertFile, signerKeyFile };
}

export interface DelegationKeyOptions {
  /** x509: a self-signed certificate with CN=`name` (Docker's signer form); bare: the public key PEM alone. */
  form: 'x509' | 'bare';
  algorithm?: DelegationKeyAlgorithm;
  /**
   * Certificate lifetime in days (x509 form). Notary warns about certificates within 6 months of expiry and refuses
   * expired ones, and captured metadata embeds the certificate, so the default is long: ten years.
   */
  validDays?: number;
}

/** A delegation key pair written as `<dir>/<name>.{crt|pub}` and `<dir>/<name>.key`. */
export async function makeDelegationKey(dir: string, name: string, opts: DelegationKeyOptions): Promise<DelegationKey> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new Error(`makeDelegationKey: unsafe name ${JSON.stringify(name)}`);
  const algorithm = opts.algorithm ?? 'ecdsa';
  const alg = algorithm === 'rsa' ? RSA : EC;
  const keys = await keyPair(alg);
  const publicKeyPem = pem('PUBLIC KEY', await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const privateKeyFile = join(dir, `${name}.key`);
  writeFileSync(privateKeyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), { mode: 0o600 });
  let publicFile: string;
  if (opts.form === 'x509') {
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + (opts.validDays ?? 3650) * 86_400_000);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(), name: `CN=${name}`, notBefore, notAfter, keys, signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
      ],
    });
    publicFile = join(dir, `${name}.crt`);
    writeFileSync(publicFile, cert.toString('pem') + '\n');
  } else {
    publicFile = join(dir, `${name}.pub`);
    writeFileSync(publicFile, publicKeyPem);
  }
  return { publicFile, privateKeyFile, publicKeyPem, form: opts.form, algorithm };
}
