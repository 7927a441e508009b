/**
 * The six Notation key specs in both encodings (signature-specification.md
 * § "Algorithm Selection"), plus the failures the vectors cannot show: EC keys
 * (README § 10: no ECDSA vectors), algorithm substitution, tampering.
 */
import t from 'tap';
import { decode, encode, Tagged } from 'cborg';
import { parseEnvelope, verifyEnvelopeSignature } from '../../../verifiers/notation/envelope/index.ts';
import type { SignatureAlgorithm } from '../../../verifiers/notation/envelope/index.ts';
import { codeOf } from './helpers.ts';
import {
  makeSigningCert,
  signCose,
  signJws,
  SUPPORTED_KEY_TYPES,
  targetPayload,
  type KeyType,
  type SigningCert,
} from './make-signed.ts';

const JWS = 'application/jose+json';
const COSE = 'application/cose';
const payload = targetPayload({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1234,
});

const EXPECTED: Record<
  (typeof SUPPORTED_KEY_TYPES)[number],
  { alg: SignatureAlgorithm; type: 'RSA' | 'EC'; size: number; wrong: SignatureAlgorithm[] }
> = {
  'rsa-2048': { alg: 'PS256', type: 'RSA', size: 2048, wrong: ['PS384', 'PS512', 'ES256'] },
  'rsa-3072': { alg: 'PS384', type: 'RSA', size: 3072, wrong: ['PS256', 'PS512', 'ES384'] },
  'rsa-4096': { alg: 'PS512', type: 'RSA', size: 4096, wrong: ['PS256', 'PS384', 'ES512'] },
  'ec-p256': { alg: 'ES256', type: 'EC', size: 256, wrong: ['ES384', 'ES512', 'PS256'] },
  'ec-p384': { alg: 'ES384', type: 'EC', size: 384, wrong: ['ES256', 'ES512', 'PS384'] },
  'ec-p521': { alg: 'ES512', type: 'EC', size: 521, wrong: ['ES256', 'ES384', 'PS512'] },
};

const parseVerify = (bytes: Uint8Array, mediaType: string) => () => verifyEnvelopeSignature(parseEnvelope(bytes, mediaType));

/** Re-encode a JWS with `edit` applied to its JSON members. */
function editJws(bytes: Uint8Array, edit: (doc: Record<string, string>) => void): Buffer {
  const doc = JSON.parse(Buffer.from(bytes).toString());
  edit(doc);
  return Buffer.from(JSON.stringify(doc));
}

/** Re-encode a COSE_Sign1 with `edit` applied to its 4-item array. */
function editCose(bytes: Uint8Array, edit: (msg: unknown[]) => void): Buffer {
  const top = decode(bytes, { useMaps: true, tags: { 18: (d) => new Tagged(18, d()) } }) as Tagged;
  const msg = top.value as unknown[];
  edit(msg);
  return Buffer.from(encode(new Tagged(18, msg)));
}

const keys = new Map<KeyType, SigningCert>();
t.before(async () => {
  for (const keyType of [...SUPPORTED_KEY_TYPES, 'rsa-1024'] as const) keys.set(keyType, await makeSigningCert({ keyType }));
});

for (const keyType of SUPPORTED_KEY_TYPES) {
  const want = EXPECTED[keyType];
  t.test(`${keyType}: ${want.alg}`, async (t) => {
    const cert = keys.get(keyType)!;
    const other = await makeSigningCert({ keyType });
    for (const [format, sign, mediaType] of [
      ['JWS', signJws, JWS],
      ['COSE', signCose, COSE],
    ] as const) {
      const good = sign(payload, cert.privateKey, cert.chain);
      const env = parseEnvelope(good, mediaType);
      t.equal(env.signerInfo.signatureAlgorithm, want.alg, `${format} alg`);
      t.same(
        verifyEnvelopeSignature(env),
        { algorithm: want.alg, keySpec: { type: want.type, size: want.size } },
        `${format} verifies`,
      );
      t.same(Buffer.from(env.payload.content), Buffer.from(payload), `${format} payload bytes`);
      if (want.type === 'EC') t.equal(env.signerInfo.signature.length, 2 * Math.ceil(want.size / 8), `${format} r||s length`);

      for (const alg of want.wrong) {
        const forged = sign(payload, cert.privateKey, cert.chain, { alg });
        t.equal(codeOf(parseVerify(forged, mediaType)), 'ALGORITHM_MISMATCH', `${format} ${alg} with ${keyType}`);
      }
      // Signed by another key of the same spec, presenting this certificate.
      t.equal(
        codeOf(parseVerify(sign(payload, other.privateKey, cert.chain), mediaType)),
        'SIGNATURE_INVALID',
        `${format} wrong key`,
      );
      // Unknown critical header, correctly signed.
      const crit = sign(payload, cert.privateKey, cert.chain, {
        extendedAttributes: [{ key: 'com.example.mustUnderstand', value: 'x', critical: true }],
      });
      t.equal(
        codeOf(() => parseEnvelope(crit, mediaType)),
        'UNKNOWN_CRITICAL_HEADER',
        `${format} unknown critical header`,
      );
    }

    // Tampered payload / protected header / signature.
    const jws = signJws(payload, cert.privateKey, cert.chain);
    const otherPayload = Buffer.from(
      targetPayload({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'cd'.repeat(32)}`, size: 1234 }),
    ).toString('base64url');
    t.equal(
      codeOf(
        parseVerify(
          editJws(jws, (d) => {
            d.payload = otherPayload;
          }),
          JWS,
        ),
      ),
      'SIGNATURE_INVALID',
      'JWS tampered payload',
    );
    const laterHeader = (d: Record<string, string>) => {
      const h = JSON.parse(Buffer.from(d.protected!, 'base64url').toString());
      h['io.cncf.notary.signingTime'] = '2099-01-01T00:00:00Z';
      d.protected = Buffer.from(JSON.stringify(h)).toString('base64url');
    };
    t.equal(codeOf(parseVerify(editJws(jws, laterHeader), JWS)), 'SIGNATURE_INVALID', 'JWS tampered protected header');
    const flipped = (d: Record<string, string>) => {
      const sig = Buffer.from(d.signature!, 'base64url');
      sig[sig.length >> 1]! ^= 1;
      d.signature = sig.toString('base64url');
    };
    t.equal(codeOf(parseVerify(editJws(jws, flipped), JWS)), 'SIGNATURE_INVALID', 'JWS flipped signature bit');
    t.equal(
      codeOf(
        parseVerify(
          editJws(jws, (d) => {
            d.signature = Buffer.from(d.signature!, 'base64url').subarray(1).toString('base64url');
          }),
          JWS,
        ),
      ),
      'SIGNATURE_INVALID',
      'JWS truncated signature',
    );

    const cose = signCose(payload, cert.privateKey, cert.chain);
    t.equal(
      codeOf(
        parseVerify(
          editCose(cose, (m) => {
            m[2] = Buffer.from(otherPayload, 'base64url');
          }),
          COSE,
        ),
      ),
      'SIGNATURE_INVALID',
      'COSE tampered payload',
    );
    const laterCose = (m: unknown[]) => {
      const h = decode(m[0] as Uint8Array, { useMaps: true, tags: { 1: (d) => new Tagged(1, d()) } }) as Map<unknown, unknown>;
      h.set('io.cncf.notary.signingTime', new Tagged(1, 4070908800));
      m[0] = encode(h);
    };
    t.equal(codeOf(parseVerify(editCose(cose, laterCose), COSE)), 'SIGNATURE_INVALID', 'COSE tampered protected header');
    t.equal(
      codeOf(
        parseVerify(
          editCose(cose, (m) => {
            (m[3] as Uint8Array)[0]! ^= 0x80;
          }),
          COSE,
        ),
      ),
      'SIGNATURE_INVALID',
      'COSE flipped signature bit',
    );
    t.equal(
      codeOf(
        parseVerify(
          editCose(cose, (m) => {
            m[3] = (m[3] as Uint8Array).subarray(1);
          }),
          COSE,
        ),
      ),
      'SIGNATURE_INVALID',
      'COSE truncated signature',
    );
  });
}

t.test('unsupported keys and certificates', async (t) => {
  const small = keys.get('rsa-1024')!;
  for (const [sign, mediaType] of [
    [signJws, JWS],
    [signCose, COSE],
  ] as const) {
    // A 1024-bit key has no Notation algorithm; claim PS256 and sign with it.
    const env = sign(payload, small.privateKey, small.chain, { alg: 'PS256' });
    t.equal(codeOf(parseVerify(env, mediaType)), 'UNSUPPORTED_KEY', `${mediaType} RSA-1024`);
    const p256 = keys.get('ec-p256')!;
    const garbage = sign(payload, p256.privateKey, [Buffer.from('30030201', 'hex')]);
    t.equal(codeOf(parseVerify(garbage, mediaType)), 'INVALID_CERTIFICATE', `${mediaType} unparseable leaf`);
    const pem = sign(payload, p256.privateKey, [
      Buffer.from(`-----BEGIN CERTIFICATE-----\n${p256.certificate.toString('base64')}\n-----END CERTIFICATE-----\n`),
    ]);
    t.equal(codeOf(parseVerify(pem, mediaType)), 'INVALID_CERTIFICATE', `${mediaType} PEM instead of DER`);
  }
});

t.test('chains are carried leaf first, unvalidated', async (t) => {
  const root = await makeSigningCert({ keyType: 'ec-p384', ca: true, subject: 'CN=root' });
  const leaf = await makeSigningCert({ keyType: 'ec-p256', issuer: root, subject: 'CN=leaf' });
  for (const [sign, mediaType] of [
    [signJws, JWS],
    [signCose, COSE],
  ] as const) {
    const env = parseEnvelope(sign(payload, leaf.privateKey, leaf.chain), mediaType);
    t.same(
      env.signerInfo.certificateChain.map((c) => Buffer.from(c)),
      [leaf.certificate, root.certificate],
    );
    t.same(verifyEnvelopeSignature(env).algorithm, 'ES256');
    // The root's key must not be the one checked: a chain in the wrong order fails.
    t.equal(
      codeOf(parseVerify(sign(payload, leaf.privateKey, [root.certificate, leaf.certificate]), mediaType)),
      'ALGORITHM_MISMATCH',
    );
  }
});
