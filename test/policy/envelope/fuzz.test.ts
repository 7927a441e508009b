/**
 * Property tests over both parsers: arbitrary bytes, mutations of valid
 * envelopes and structurally plausible headers never throw anything but
 * EnvelopeError, never hang, and a mutated envelope only verifies when
 * the signed bytes are unchanged.
 */
import t from 'tap';
import fc from 'fast-check';
import { encode, Tagged } from 'cborg';
import { readFileSync } from 'node:fs';
import { EnvelopeError, parseEnvelope, parseTargetArtifact, verifyEnvelopeSignature } from '../../../verifiers/notation/envelope/index.ts';
import type { SignatureEnvelope } from '../../../verifiers/notation/envelope/index.ts';
import { makeSigningCert, rawSign, signCose, signJws, targetPayload, type SigningCert } from './make-signed.ts';

const JWS = 'application/jose+json';
const COSE = 'application/cose';
const payload = targetPayload({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1,
});

type Outcome = { env?: SignatureEnvelope; verified: boolean };

/** Runs the whole pipeline; rethrows anything that is not an EnvelopeError (a hang fails by the test's timeout). */
function run(bytes: Uint8Array, mediaType: string): Outcome {
  const outcome: Outcome = { verified: false };
  try {
    outcome.env = parseEnvelope(bytes, mediaType);
    try {
      parseTargetArtifact(outcome.env.payload.content);
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
    }
    verifyEnvelopeSignature(outcome.env);
    outcome.verified = true;
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw err;
  }
  return outcome;
}

let cert: SigningCert;
const seeds: { bytes: Buffer; mediaType: string }[] = [];
t.before(async () => {
  cert = await makeSigningCert({ keyType: 'ec-p256' });
  const vectors = new URL('../../vectors/', import.meta.url);
  seeds.push(
    {
      bytes: signJws(payload, cert.privateKey, cert.chain, {
        expiry: new Date('2100-01-01T00:00:00Z'),
        timestampSignature: Buffer.from('tst'),
      }),
      mediaType: JWS,
    },
    {
      bytes: signCose(payload, cert.privateKey, cert.chain, {
        expiry: new Date('2100-01-01T00:00:00Z'),
        timestampSignature: Buffer.from('tst'),
      }),
      mediaType: COSE,
    },
    {
      bytes: readFileSync(new URL('notation-go/verifier/testdata/timestamp/sigEnv/coseWithTimestamp.sig', vectors)),
      mediaType: COSE,
    },
    { bytes: readFileSync(new URL('notation-go/internal/mock/testdata/sa_valid_sig_env.json', vectors)), mediaType: JWS },
  );
});

t.test('arbitrary bytes', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom(JWS, COSE), (bytes, mediaType) => {
      if (run(bytes, mediaType).verified) throw new Error('random bytes verified');
    }),
    { numRuns: 3000 },
  );
  t.pass('no crash');
});

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Buffer, m: Mutation): Buffer {
  const at = m.at % (input.length + 1);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(input);
      if (at < out.length) out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = Buffer.from(input);
      if (at < out.length) out[at] = m.value;
      return out;
    }
    case 'delete':
      return Buffer.concat([input.subarray(0, at), input.subarray(at + m.length)]);
    case 'insert':
      return Buffer.concat([input.subarray(0, at), m.bytes, input.subarray(at)]);
    case 'truncate':
      return input.subarray(0, at);
  }
}

t.test('mutations of valid envelopes', async (t) => {
  const originals = seeds.map((s) => run(s.bytes, s.mediaType));
  t.ok(
    originals.every((o) => o.verified),
    'seeds verify',
  );
  fc.assert(
    fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, mutations) => {
      const seed = seeds[i]!;
      const bytes = mutations.reduce(mutate, seed.bytes);
      const outcome = run(bytes, seed.mediaType);
      if (outcome.verified) {
        // Only unsigned parts may have changed.
        const original = originals[i]!.env!;
        if (!Buffer.from(outcome.env!.signingInput).equals(Buffer.from(original.signingInput)))
          throw new Error('verified with different signed bytes');
        if (!Buffer.from(outcome.env!.payload.content).equals(Buffer.from(original.payload.content)))
          throw new Error('verified with different payload');
      }
    }),
    { numRuns: 4000 },
  );
  t.pass('no crash, no forgery');
});

// Plausible header labels and values, to get past the first checks.
const textLabels = [
  'io.cncf.notary.signingScheme',
  'io.cncf.notary.signingTime',
  'io.cncf.notary.authenticSigningTime',
  'io.cncf.notary.expiry',
  'io.cncf.notary.verificationPlugin',
  'io.cncf.notary.timestampSignature',
  'io.cncf.notary.signingAgent',
  'x',
  '__proto__',
];
const jsonValue = fc.oneof(
  fc.constantFrom(
    'notary.x509',
    'notary.x509.signingAuthority',
    '2025-01-01T00:00:00Z',
    '2099-01-01T00:00:00+01:00',
    'ES256',
    'PS256',
    'application/vnd.cncf.notary.payload.v1+json',
  ),
  fc.array(fc.constantFrom(...textLabels, 'alg', 'crit'), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const DELETE = Symbol('delete');

t.test('JWS with arbitrary protected and unprotected headers', async (t) => {
  const header = fc.dictionary(fc.oneof(fc.constantFrom(...textLabels, 'alg', 'cty', 'crit', 'x5c'), fc.string()), jsonValue, {
    maxKeys: 10,
  });
  const edits = fc.array(
    fc.tuple(fc.constantFrom(...textLabels, 'alg', 'cty', 'crit'), fc.oneof(jsonValue, fc.constant(DELETE))),
    { maxLength: 3 },
  );
  const valid = {
    alg: 'ES256',
    cty: 'application/vnd.cncf.notary.payload.v1+json',
    crit: ['io.cncf.notary.signingScheme'],
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': '2025-01-01T00:00:00Z',
  };
  const protectedHeader = fc.oneof(
    header,
    edits.map((list) => {
      const h: Record<string, unknown> = { ...valid };
      for (const [k, v] of list) {
        if (v === DELETE) delete h[k];
        else h[k] = v;
      }
      return h;
    }),
  );
  let verified = 0;
  fc.assert(
    fc.property(protectedHeader, header, fc.boolean(), (prot, unprot, withChain) => {
      const protectedText = Buffer.from(JSON.stringify(prot)).toString('base64url');
      const payloadText = Buffer.from(payload).toString('base64url');
      const signature = rawSign('ES256', cert.privateKey, Buffer.from(`${protectedText}.${payloadText}`)).toString('base64url');
      const h = withChain ? { ...unprot, x5c: [cert.certificate.toString('base64')] } : unprot;
      if (
        run(Buffer.from(JSON.stringify({ payload: payloadText, protected: protectedText, header: h, signature })), JWS).verified
      )
        verified++;
    }),
    { numRuns: 3000 },
  );
  t.ok(verified > 0, `no crash; ${verified} of 3000 verified`);
});

t.test('COSE with arbitrary CBOR headers', async (t) => {
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(
        fc.integer(),
        fc.string(),
        fc.uint8Array({ maxLength: 8 }),
        fc.boolean(),
        fc.constant(null),
        fc.double({ noNaN: true }),
        fc.constantFrom(-7, -35, -37, -39, ...textLabels, 'notary.x509', 'application/vnd.cncf.notary.payload.v1+json'),
      ),
      fc.array(tie('tree'), { maxLength: 4 }),
      fc
        .array(fc.tuple(fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom(...textLabels)), tie('tree')), {
          maxLength: 4,
        })
        .map((e) => new Map(e)),
      fc.tuple(fc.constantFrom(0, 1, 18, 32, 55799), tie('tree')).map(([tag, v]) => new Tagged(tag, v)),
    ),
  }));
  const label = fc.oneof(fc.integer({ min: -40, max: 40 }), fc.constantFrom(...textLabels));
  const value = fc.oneof(tree, fc.constant(new Tagged(1, 1735689600)), fc.constant(['io.cncf.notary.signingScheme']));
  const headerMap = fc.array(fc.tuple(label, value), { maxLength: 8 });
  const valid: [unknown, unknown][] = [
    [1, -7],
    [2, ['io.cncf.notary.signingScheme']],
    [3, 'application/vnd.cncf.notary.payload.v1+json'],
    ['io.cncf.notary.signingScheme', 'notary.x509'],
    ['io.cncf.notary.signingTime', new Tagged(1, 1735689600)],
  ];
  const edited = fc.array(fc.tuple(label, fc.oneof(value, fc.constant(DELETE))), { maxLength: 3 }).map((list) => {
    const h = new Map<unknown, unknown>(valid);
    for (const [k, v] of list) {
      if (v === DELETE) h.delete(k);
      else h.set(k, v);
    }
    return [...h];
  });
  let verified = 0;
  fc.assert(
    fc.property(fc.oneof(headerMap, edited), headerMap, fc.boolean(), (prot, unprot, withChain) => {
      const protectedBytes = encode(new Map(prot));
      const signature = rawSign('ES256', cert.privateKey, encode(['Signature1', protectedBytes, new Uint8Array(0), payload]));
      const u = new Map<unknown, unknown>(unprot);
      if (withChain) u.set(33, [cert.certificate]);
      if (run(Buffer.from(encode(new Tagged(18, [protectedBytes, u, payload, signature]))), COSE).verified) verified++;
    }),
    { numRuns: 3000 },
  );
  t.ok(verified > 0, `no crash; ${verified} of 3000 verified`);
});

t.test('arbitrary payloads', async (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }),
        fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify({ targetArtifact: v }) ?? '')),
      ),
      (bytes) => {
        try {
          parseTargetArtifact(bytes);
        } catch (err) {
          if (!(err instanceof EnvelopeError)) throw err;
        }
      },
    ),
    { numRuns: 3000 },
  );
  t.pass('no crash');
});
