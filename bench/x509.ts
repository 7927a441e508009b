/**
 * X.509 / RFC 3161 primitives benchmark: p50/p99 of building (parsing DER) and validating a 3-certificate chain,
 * of timestamp-token verification, and of a CRL check; plus the signature backend decision — node:crypto
 * (OpenSSL) against pure-JS paths (node-forge RSA, @noble/curves ECDSA) on the same certificates.
 *
 *   node bench/x509.ts
 */
import { X509Certificate, verify as cryptoVerify, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { p256 } from '@noble/curves/nist.js';
import { parseCertificate, parseCertificates } from '../pki/certificate.ts';
import { validateSigningChain } from '../pki/chain.ts';
import { checkCertificateAgainstCrl } from '../pki/crl.ts';
import { verifyTimestampToken } from '../verifiers/notation/timestamp/verify.ts';
import { extractEnvelope } from '../test/policy/timestamp/envelope-extract.ts';
import { makeChain } from '../test/policy/x509/make-certs.ts';
import { formatRows, timer } from './stats.ts';
import type { Row } from './stats.ts';

const VECTORS = new URL('../test/vectors/', import.meta.url);
const NOW = new Date('2026-01-01T00:00:00Z');
const measure = timer({ warmup: 30, minSamples: 100 });

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`bench precondition failed: ${what}`);
}

export async function benchX509(): Promise<Row[]> {
  const rows: Row[] = [];
  // The notation e2e CRL chain: RSA-2048, sha256WithRSAEncryption, leaf → intermediate → root.
  const rsaDer = parseCertificates(readFileSync(new URL('notation/test/e2e/testdata/config/crl/certchain_with_crl.pem', VECTORS))).map((c) => c.der);
  const ecDer = (await makeChain()).chain; // EC P-256, ecdsa-with-SHA256
  for (const [label, ders] of [['RSA-2048', rsaDer], ['EC P-256', ecDer]] as const) {
    check(validateSigningChain(ders, { purpose: 'codeSigning', now: NOW }).ok, `${label} chain valid`);
    rows.push(measure(`3-cert ${label} chain: parse DER + validateSigningChain`, () => validateSigningChain(ders, { purpose: 'codeSigning', now: NOW })));
    rows.push(measure(`3-cert ${label} chain: parseCertificate × 3`, () => ders.map((d) => parseCertificate(d))));
    const parsed = ders.map((d) => parseCertificate(d));
    rows.push(measure(`3-cert ${label} chain: re-validate cached Certificates (signature results memoized)`, () => validateSigningChain(parsed, { purpose: 'codeSigning', now: NOW })));
  }

  // Signature backend: the 3 signatures of the chain (leaf←int, int←root, root←root), keys pre-extracted.
  const rsa = rsaDer.map((d) => parseCertificate(d));
  const pairs = [[0, 1], [1, 2], [2, 2]] as const;
  rows.push(measure('RSA chain signatures × 3: node:crypto verify', () => pairs.every(([c, p]) => cryptoVerify('sha256', rsa[c]!.tbs, rsa[p]!.publicKey.key!, rsa[c]!.signature))));
  const x = rsaDer.map((d) => new X509Certificate(d));
  rows.push(measure('RSA chain signatures × 3: X509Certificate.verify', () => pairs.every(([c, p]) => x[c]!.verify(x[p]!.publicKey))));
  const f = rsaDer.map((d) => forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(d).toString('binary')))));
  check(pairs.every(([c, p]) => f[p]!.verify(f[c]!)), 'forge verifies the RSA chain');
  rows.push(measure('RSA chain signatures × 3: node-forge (pure JS)', () => pairs.every(([c, p]) => f[p]!.verify(f[c]!))));

  const ec = ecDer.map((d) => parseCertificate(d));
  rows.push(measure('EC chain signatures × 3: node:crypto verify', () => pairs.every(([c, p]) => cryptoVerify('sha256', ec[c]!.tbs, { key: ec[p]!.publicKey.key!, dsaEncoding: 'der' }, ec[c]!.signature))));
  const points = ec.map((c) => {
    const jwk = c.publicKey.key!.export({ format: 'jwk' });
    return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  });
  const nobleVerify = ([c, p]: readonly [number, number]) => p256.verify(ec[c]!.signature, ec[c]!.tbs, points[p]!, { format: 'der', lowS: false });
  check(pairs.every(nobleVerify), 'noble verifies the EC chain');
  rows.push(measure('EC chain signatures × 3: @noble/curves (pure JS)', () => pairs.every(nobleVerify)));

  // RFC 3161: GlobalSign token of notation-go's jwsWithTimestamp.sig against the R6 TSA root.
  const env = extractEnvelope(readFileSync(new URL('notation-go/verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig', VECTORS)));
  const r6 = parseCertificates(readFileSync(new URL('notation-go/verifier/testdata/truststore/x509/tsa/test-timestamp/globalsignRoot.cer', VECTORS)));
  const opts = { signature: env.signature, trustedRoots: r6 };
  check(verifyTimestampToken(env.timestampToken!, opts).ok, 'timestamp token verifies');
  rows.push(measure('timestamp token: parse + verify (3-cert TSA chain)', () => verifyTimestampToken(env.timestampToken!, opts)));

  const crl = readFileSync(new URL('notation/test/e2e/testdata/config/crl/leaf_revoked.crl', VECTORS));
  check(checkCertificateAgainstCrl(rsa[0]!, rsa[1]!, crl, { now: NOW }).status === 'revoked', 'CRL lists the leaf');
  rows.push(measure('CRL: parse + verify + lookup (1 entry)', () => checkCertificateAgainstCrl(rsa[0]!, rsa[1]!, crl, { now: NOW })));
  rows.push(measure('floor: sha256 of a 1 KiB certificate', () => createHash('sha256').update(rsaDer[0]!).digest()));
  return rows;
}

if (import.meta.main) {
  console.log(formatRows(await benchX509()));
}
