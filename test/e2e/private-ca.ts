/**
 * A private CA and a serving certificate it issues for 127.0.0.1, as PEM files (@peculiar/x509 on WebCrypto,
 * EC P-256): what an internal registry behind a company CA looks like. Go's TLS client (containerd) and
 * undici (pullgate) both check the SAN, so the leaf carries IP:127.0.0.1 (RFC 5280 §4.2.1.6).
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface PrivateCaFiles {
  /** The CA certificate: what `caFile` names. */
  readonly caFile: string;
  /** The registry's serving certificate (leaf only) and its PKCS#8 key. */
  readonly certFile: string;
  readonly keyFile: string;
}

function pem(label: string, der: ArrayBuffer): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;
}

let serial = 1;

/** Writes `<prefix>-ca.pem`, `<prefix>-cert.pem` and `<prefix>-key.pem` into `dir`. */
export async function makePrivateCa(dir: string, prefix: string): Promise<PrivateCaFiles> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caName = `CN=pullgate test CA ${prefix}`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    name: caName, notBefore, notAfter, keys: caKeys, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject: 'CN=127.0.0.1', issuer: caName, notBefore, notAfter,
    publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const files: PrivateCaFiles = {
    caFile: join(dir, `${prefix}-ca.pem`),
    certFile: join(dir, `${prefix}-cert.pem`),
    keyFile: join(dir, `${prefix}-key.pem`),
  };
  writeFileSync(files.caFile, ca.toString('pem') + '\n');
  writeFileSync(files.certFile, leaf.toString('pem') + '\n');
  writeFileSync(files.keyFile, pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey)), { mode: 0o600 });
  return files;
}
