/**
 * Envelope primitives benchmark: p50/p99 of parseEnvelope + verifyEnvelopeSignature
 * for JWS and COSE with RSA-PSS (real notation-signed vectors) and ECDSA P-256
 * (signed here), against raw crypto.verify on the same bytes as the floor.
 * Also compares node:crypto ECDSA verification with @noble/curves, which decided
 * the ECDSA backend (node:crypto).
 *
 *   node bench/envelope.ts
 */
import { X509Certificate, constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { parseEnvelope, verifyEnvelopeSignature, type SignatureEnvelope } from '../verifiers/notation/envelope/index.ts';
import { makeSigningCert, signCose, signJws, targetPayload, type KeyType } from '../test/policy/envelope/make-signed.ts';
import { formatRows, timer } from './stats.ts';
import type { Row } from './stats.ts';

const VECTORS = new URL('../test/vectors/', import.meta.url);
const measure = timer({ warmup: 50, minSamples: 200 });

function leafKey(env: SignatureEnvelope): KeyObject {
  return new X509Certificate(env.signerInfo.certificateChain[0]!).publicKey;
}

/** The floor: one crypto.verify over the envelope's signing input with a pre-extracted key. */
function rawVerify(env: SignatureEnvelope): () => boolean {
  const key = leafKey(env);
  const alg = env.signerInfo.signatureAlgorithm;
  const hash = `sha${alg.slice(2)}`;
  const options = alg.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
    : { key, dsaEncoding: 'ieee-p1363' as const };
  const { signingInput } = env;
  const { signature } = env.signerInfo;
  return () => cryptoVerify(hash, signingInput, options, signature);
}

function pipeline(bytes: Uint8Array, mediaType: string): () => void {
  return () => {
    verifyEnvelopeSignature(parseEnvelope(bytes, mediaType));
  };
}

/** Uncompressed SEC1 point of an EC public key, for @noble/curves. */
function sec1(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

export async function benchEnvelope(): Promise<Row[]> {
  const rows: Row[] = [];
  const jwsRsa = readFileSync(
    new URL(
      'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50',
      VECTORS,
    ),
  );
  const coseRsa = readFileSync(new URL('notation-go/internal/testdata/cose_signature.sig', VECTORS));
  const payload = targetPayload({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${'ab'.repeat(32)}`,
    size: 1234,
  });
  const ec = await makeSigningCert({ keyType: 'ec-p256' });
  const jwsEc = signJws(payload, ec.privateKey, ec.chain);
  const coseEc = signCose(payload, ec.privateKey, ec.chain);

  for (const [label, bytes, mediaType] of [
    ['JWS PS256 (RSA-2048)', jwsRsa, 'application/jose+json'],
    ['COSE PS256 (RSA-2048)', coseRsa, 'application/cose'],
    ['JWS ES256 (P-256)', jwsEc, 'application/jose+json'],
    ['COSE ES256 (P-256)', coseEc, 'application/cose'],
  ] as const) {
    const env = parseEnvelope(bytes, mediaType);
    rows.push(measure(`${label}: parse only`, () => parseEnvelope(bytes, mediaType)));
    rows.push(measure(`${label}: parse + verify`, pipeline(bytes, mediaType)));
    rows.push(measure(`${label}: floor, raw crypto.verify`, rawVerify(env)));
  }

  // ECDSA backend choice: node:crypto (OpenSSL) vs @noble/curves, same message and signature.
  const curves: [KeyType, string, typeof p256][] = [
    ['ec-p256', 'P-256', p256],
    ['ec-p384', 'P-384', p384],
    ['ec-p521', 'P-521', p521],
  ];
  for (const [keyType, name, noble] of curves) {
    const cert = keyType === 'ec-p256' ? ec : await makeSigningCert({ keyType });
    const env = parseEnvelope(signJws(payload, cert.privateKey, cert.chain), 'application/jose+json');
    const pub = sec1(cert.publicKey);
    const msg = env.signingInput;
    const sig = env.signerInfo.signature;
    if (!noble.verify(sig, msg, pub, { lowS: false })) throw new Error(`noble rejects the ${name} signature`);
    rows.push(measure(`ECDSA ${name} verify: node:crypto`, rawVerify(env)));
    rows.push(measure(`ECDSA ${name} verify: @noble/curves`, () => noble.verify(sig, msg, pub, { lowS: false })));
  }
  return rows;
}

if (import.meta.main) {
  console.log(formatRows(await benchEnvelope()));
}
