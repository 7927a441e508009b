/**
 * COSE_Sign1 envelope rules (signature-envelope-cose.md, RFC 9052), each with
 * a correctly signed envelope that breaks exactly one rule, plus the CBOR
 * decoder's strictness and bounds.
 */
import t from 'tap';
import { decode, encode, Tagged } from 'cborg';
import { LIMITS, parseEnvelope, verifyEnvelopeSignature } from '../../../verifiers/notation/envelope/index.ts';
import { codeOf } from './helpers.ts';
import { makeSigningCert, rawSign, signCose, targetPayload, type SignOptions, type SigningCert } from './make-signed.ts';

const COSE = 'application/cose';
const payload = targetPayload({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1,
});
const T0 = new Date('2025-03-01T10:00:00Z');
const T0_SECONDS = T0.getTime() / 1000;

let cert: SigningCert;
t.before(async () => {
  cert = await makeSigningCert({ keyType: 'ec-p384' });
});

const sign = (opts: SignOptions = {}) => signCose(payload, cert.privateKey, cert.chain, { signingTime: T0, ...opts });
const parse = (bytes: Uint8Array) => () => verifyEnvelopeSignature(parseEnvelope(bytes, COSE));
const setHeader =
  (key: string | number, value: unknown): SignOptions['editProtected'] =>
  (h) => {
    if (value === undefined) h.delete(key);
    else h.set(key, value);
  };
/** Decode our own envelope (tags kept) and re-encode after `fn`. */
function edit(bytes: Uint8Array, fn: (msg: unknown[]) => unknown): Buffer {
  const top = decode(bytes, { useMaps: true, tags: { 18: (d) => new Tagged(18, d()) } }) as Tagged;
  const replaced = fn(top.value as unknown[]);
  return Buffer.from(encode(replaced === undefined ? top : replaced));
}
/** Sign an arbitrary protected-header byte string (valid signature over it). */
function signRawProtected(
  protectedBytes: Uint8Array,
  unprotected = new Map<unknown, unknown>([[33, [cert.certificate]]]),
): Buffer {
  const signature = rawSign('ES384', cert.privateKey, encode(['Signature1', protectedBytes, new Uint8Array(0), payload]));
  return Buffer.from(encode(new Tagged(18, [protectedBytes, unprotected, payload, signature])));
}
function hex(h: string): Uint8Array {
  return Buffer.from(h.replace(/\s+/g, ''), 'hex');
}

t.test('a valid envelope: typed fields and Sig_structure', async (t) => {
  const env = parseEnvelope(
    sign({
      expiry: new Date('2026-03-01T10:00:00Z'),
      timestampSignature: Buffer.from('tst'),
      signingAgent: 'agent/1',
      extendedAttributes: [
        { key: 'io.example.bytes', value: new Uint8Array([1, 2]) },
        { key: -70000, value: 'int label' },
      ],
    }),
    COSE,
  );
  t.equal(env.mediaType, COSE);
  t.same(env.signerInfo, {
    signingScheme: 'notary.x509',
    signingTime: T0,
    expiry: new Date('2026-03-01T10:00:00Z'),
    signatureAlgorithm: 'ES384',
    signature: env.signerInfo.signature,
    certificateChain: [cert.certificate],
    signingAgent: 'agent/1',
    timestampSignature: new Uint8Array(Buffer.from('tst')),
    extendedAttributes: [
      { key: -70000, value: 'int label', critical: false },
      { key: 'io.example.bytes', value: new Uint8Array([1, 2]), critical: false },
    ],
    critical: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
  });
  const top = decode(sign(), { useMaps: true, tags: { 18: (d) => d() } }) as Uint8Array[];
  t.same(
    Buffer.from(parseEnvelope(sign(), COSE).signingInput),
    Buffer.from(encode(['Signature1', top[0]!, new Uint8Array(0), payload])),
  );
  verifyEnvelopeSignature(env);
  const sa = parseEnvelope(sign({ signingScheme: 'notary.x509.signingAuthority' }), COSE);
  t.equal(sa.signerInfo.authenticSigningTime?.getTime(), T0.getTime());
});

t.test('the signature covers the protected bytes as received, not a re-encoding', async (t) => {
  // Same header as notation writes, but map entries in a non-canonical order.
  const entries: [unknown, unknown][] = [
    ['io.cncf.notary.signingScheme', 'notary.x509'],
    ['io.cncf.notary.signingTime', new Tagged(1, T0_SECONDS)],
    [3, 'application/vnd.cncf.notary.payload.v1+json'],
    [2, ['io.cncf.notary.signingScheme']],
    [1, -35],
  ];
  const parts = [Uint8Array.of(0xa0 | entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])];
  const reordered = Buffer.concat(parts);
  t.notSame(reordered, Buffer.from(encode(new Map(entries))), 'differs from canonical encoding');
  const env = parseEnvelope(signRawProtected(reordered), COSE);
  t.same(verifyEnvelopeSignature(env).algorithm, 'ES384');
});

t.test('COSE_Sign1 structure', async (t) => {
  t.equal(codeOf(parse(edit(sign(), (m) => m))), 'MALFORMED', 'untagged');
  t.equal(codeOf(parse(edit(sign(), (m) => new Tagged(98, m)))), 'MALFORMED', 'tag 98 (COSE_Sign)');
  t.equal(codeOf(parse(edit(sign(), (m) => new Tagged(17, m)))), 'MALFORMED', 'tag 17 (COSE_Mac0)');
  t.equal(codeOf(parse(edit(sign(), (m) => new Tagged(18, m.slice(0, 3))))), 'MALFORMED', '3 items');
  t.equal(codeOf(parse(edit(sign(), (m) => new Tagged(18, new Tagged(18, m))))), 'MALFORMED', 'nested tag 18');
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          m[2] = null;
        }),
      ),
    ),
    'MALFORMED',
    'detached payload',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          m[0] = new Uint8Array(0);
        }),
      ),
    ),
    'MALFORMED',
    'empty protected',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          m[0] = new Map();
        }),
      ),
    ),
    'MALFORMED',
    'protected as map, not bstr',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          m[1] = [];
        }),
      ),
    ),
    'MALFORMED',
    'unprotected not a map',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          m[3] = new Uint8Array(0);
        }),
      ),
    ),
    'MALFORMED',
    'empty signature',
  );
  t.equal(codeOf(parse(signCose(new Uint8Array(0), cert.privateKey, cert.chain))), 'MALFORMED', 'empty payload');
  t.equal(codeOf(parse(Buffer.concat([sign(), Buffer.from([0])]))), 'MALFORMED', 'trailing bytes');
  t.equal(codeOf(parse(sign().subarray(0, 100))), 'MALFORMED', 'truncated');
  t.equal(codeOf(parse(new Uint8Array(0))), 'MALFORMED', 'empty');
  t.equal(codeOf(parse(Buffer.from('{"payload":""}'))), 'MALFORMED', 'JSON');
});

t.test('CBOR strictness', async (t) => {
  const good = sign();
  // Indefinite-length outer array: 0xd2 0x9f … 0xff.
  const indefinite = Buffer.concat([Buffer.from([0xd2, 0x9f]), good.subarray(2), Buffer.from([0xff])]);
  t.equal(good[1], 0x84);
  t.equal(codeOf(parse(indefinite)), 'MALFORMED', 'indefinite length');
  // Non-shortest array length: 0x98 0x04 instead of 0x84.
  t.equal(codeOf(parse(Buffer.concat([Buffer.from([0xd2, 0x98, 0x04]), good.subarray(2)]))), 'MALFORMED', 'non-minimal length');
  // Duplicate labels in the protected header (RFC 9052 § 3), correctly signed.
  const dup = sign({
    encodeProtected: (h) => {
      const bytes = Buffer.from(encode(h));
      const extra = Buffer.concat([Buffer.from(encode(1)), Buffer.from(encode(-35))]);
      return Buffer.concat([Uint8Array.of(bytes[0]! + 1), bytes.subarray(1), extra]);
    },
  });
  t.equal(codeOf(parse(dup)), 'MALFORMED', 'duplicate protected label');
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          (m[1] as Map<unknown, unknown>).set(1, -35);
        }),
      ),
    ),
    'MALFORMED',
    'label in both buckets',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          (m[1] as Map<unknown, unknown>).set(2, ['x']);
        }),
      ),
    ),
    'MALFORMED',
    'crit unprotected',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          (m[1] as Map<unknown, unknown>).set(new Uint8Array([1]), 1);
        }),
      ),
    ),
    'MALFORMED',
    'bstr label',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          (m[1] as Map<unknown, unknown>).set('x', new Tagged(32, 'http://x'));
        }),
      ),
    ),
    'MALFORMED',
    'unknown tag',
  );
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'x', value: new Tagged(0, '2025-01-01T00:00:00Z') }] }))),
    'MALFORMED',
    'tag 0 in protected',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          (m[1] as Map<unknown, unknown>).set('u', undefined);
        }),
      ),
    ),
    'MALFORMED',
    'undefined',
  );
});

t.test('protected header: alg, content type, times', async (t) => {
  for (const alg of [-8, -257, -36 - 100, 'ES256', -37.5]) {
    t.equal(codeOf(parse(sign({ editProtected: setHeader(1, alg) }))), 'UNSUPPORTED_ALGORITHM', `alg ${alg}`);
  }
  t.equal(codeOf(parse(sign({ editProtected: setHeader(1, undefined) }))), 'MALFORMED', 'no alg');
  t.equal(codeOf(parse(sign({ contentType: 'application/json' }))), 'UNSUPPORTED_CONTENT_TYPE');
  t.equal(codeOf(parse(sign({ editProtected: setHeader(3, 50) }))), 'UNSUPPORTED_CONTENT_TYPE', 'CoAP content-format');
  t.equal(codeOf(parse(sign({ editProtected: setHeader(3, undefined) }))), 'MALFORMED', 'no content type (hash envelope)');
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingScheme', 'notary.x509.other') }))),
    'UNSUPPORTED_SIGNING_SCHEME',
  );
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingTime', T0_SECONDS) }))),
    'MALFORMED',
    'untagged time',
  );
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingTime', new Tagged(1, String(T0_SECONDS))) }))),
    'MALFORMED',
    'tag 1 of text',
  );
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingTime', new Tagged(1, 2 ** 60)) }))),
    'MALFORMED',
    'out of range',
  );
  const fractional = parseEnvelope(
    sign({ editProtected: setHeader('io.cncf.notary.signingTime', new Tagged(1, T0_SECONDS + 0.5)) }),
    COSE,
  );
  t.equal(fractional.signerInfo.signingTime?.getTime(), T0.getTime() + 500, 'float seconds');
  t.equal(codeOf(parse(sign({ expiry: new Date(T0.getTime() - 1000) }))), 'MALFORMED', 'expiry before signing time');
  t.equal(
    codeOf(
      parse(
        sign({
          signingScheme: 'notary.x509.signingAuthority',
          editProtected: setHeader('io.cncf.notary.signingTime', new Tagged(1, T0_SECONDS)),
        }),
      ),
    ),
    'MALFORMED',
    'SA with signingTime',
  );
});

t.test('crit with integer labels', async (t) => {
  const scheme = 'io.cncf.notary.signingScheme';
  t.equal(codeOf(parse(sign({ crit: [scheme, 1] }))), 'MALFORMED', 'alg (0..8 reserved)');
  t.equal(
    codeOf(parse(sign({ crit: [scheme, 4], extendedAttributes: [{ key: 4, value: new Uint8Array([1]) }] }))),
    'MALFORMED',
    'kid (0..8 reserved)',
  );
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 258, value: -16, critical: true }] }))),
    'UNKNOWN_CRITICAL_HEADER',
    'payload hash alg',
  );
  t.equal(codeOf(parse(sign({ crit: [scheme, 99] }))), 'MALFORMED', 'absent integer label');
  t.equal(codeOf(parse(sign({ editProtected: setHeader(2, scheme) }))), 'MALFORMED', 'crit not an array');
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'p', critical: true }] }))),
    'UNKNOWN_CRITICAL_HEADER',
  );
});

t.test('x5chain (RFC 9360 § 2)', async (t) => {
  const root = await makeSigningCert({ keyType: 'ec-p256', ca: true });
  const unprot = (m: unknown[]) => m[1] as Map<unknown, unknown>;
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).delete(33);
        }),
      ),
    ),
    'MALFORMED',
    'missing',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set(33, []);
        }),
      ),
    ),
    'MALFORMED',
    'empty array',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set(33, [cert.certificate.toString('base64')]);
        }),
      ),
    ),
    'MALFORMED',
    'text, not bstr',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set(33, Array(LIMITS.maxChainLength + 1).fill(cert.certificate));
        }),
      ),
    ),
    'LIMIT_EXCEEDED',
  );
  const single = parseEnvelope(
    edit(sign(), (m) => {
      unprot(m).set(33, cert.certificate);
    }),
    COSE,
  );
  t.same(single.signerInfo.certificateChain, [new Uint8Array(cert.certificate)], 'single bstr');
  verifyEnvelopeSignature(single);
  const chain = parseEnvelope(
    edit(sign(), (m) => {
      unprot(m).set(33, [cert.certificate, root.certificate]);
    }),
    COSE,
  );
  t.equal(chain.signerInfo.certificateChain.length, 2);
  // In the protected bucket (signature-envelope-cose.md allows it).
  const inProtected = signCose(payload, cert.privateKey, [], {
    signingTime: T0,
    editProtected: setHeader(33, [cert.certificate]),
  });
  const parsed = parseEnvelope(
    edit(inProtected, (m) => {
      unprot(m).delete(33);
    }),
    COSE,
  );
  t.same(parsed.signerInfo.certificateChain, [new Uint8Array(cert.certificate)]);
  verifyEnvelopeSignature(parsed);
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set('io.cncf.notary.timestampSignature', 'text');
        }),
      ),
    ),
    'MALFORMED',
    'timestamp not bstr',
  );
  t.equal(
    parseEnvelope(sign({ timestampSignature: new Uint8Array(0) }), COSE).signerInfo.timestampSignature,
    undefined,
    'empty timestamp = absent',
  );
  const agent = parseEnvelope(
    edit(sign(), (m) => {
      unprot(m).set('io.cncf.notary.signingAgent', 7);
    }),
    COSE,
  );
  t.equal(agent.signerInfo.signingAgent, undefined, 'non-text agent ignored');
});

t.test('bounds: depth and item counts, no recursion overflow', async (t) => {
  const unprot = (m: unknown[]) => m[1] as Map<unknown, unknown>;
  let nested: unknown = 1;
  for (let i = 0; i < LIMITS.maxDepth; i++) nested = [nested];
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set('deep', nested);
        }),
      ),
    ),
    'LIMIT_EXCEEDED',
    'depth',
  );
  // 10^6 nested one-element arrays inside a tag 18: would overflow a recursive decoder.
  const bomb = Buffer.concat([Buffer.from([0xd2]), Buffer.alloc(1_000_000, 0x81), Buffer.from([0x01])]);
  t.equal(codeOf(parse(bomb)), 'LIMIT_EXCEEDED', 'array bomb');
  // Declared lengths far beyond the data.
  t.equal(codeOf(parse(Buffer.from([0xd2, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0]))), 'LIMIT_EXCEEDED', '2^32 items');
  t.equal(codeOf(parse(Buffer.from([0xd2, 0xba, 0xff, 0xff, 0xff, 0xff]))), 'LIMIT_EXCEEDED', 'huge map');
  t.equal(codeOf(parse(Buffer.from([0xd2, 0x84, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0]))), 'MALFORMED', 'bstr longer than input');
  const wide = Array.from({ length: LIMITS.maxItems }, () => 0);
  t.equal(
    codeOf(
      parse(
        edit(sign(), (m) => {
          unprot(m).set('wide', wide);
        }),
      ),
    ),
    'LIMIT_EXCEEDED',
    'items',
  );
  t.equal(
    codeOf(() => parseEnvelope(new Uint8Array(LIMITS.maxEnvelopeBytes + 1), COSE)),
    'LIMIT_EXCEEDED',
    'size',
  );
});

t.test('notation-core-go COSE conformance: the protected header encoding matches byte for byte', async (t) => {
  // signature/cose/testdata/conformance.json (README § 4): PS384, signingTime/expiry as tag 1,
  // one critical and one plain extended attribute, signing agent unprotected.
  const vector = JSON.parse(
    await import('node:fs').then((fs) =>
      fs.readFileSync(
        new URL('../../vectors/notation-core-go/signature/cose/testdata/conformance.json', import.meta.url),
        'utf8',
      ),
    ),
  );
  const rsa = await makeSigningCert({ keyType: 'rsa-3072' });
  const opts: SignOptions = {
    signingTime: new Date(vector.signingTime * 1000),
    expiry: new Date(vector.expiry * 1000),
    extendedAttributes: [
      { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
      { key: 'signedKey1', value: 'signedValue1' },
    ],
    signingAgent: 'NotationConformanceTest/1.0.0',
  };
  const ours = signCose(Buffer.from(vector.payload, 'hex'), rsa.privateKey, rsa.chain, opts);
  const [protectedBytes] = decode(ours, { useMaps: true, tags: { 18: (d) => d() } }) as Uint8Array[];
  t.equal(
    Buffer.from(protectedBytes!).toString('hex').toUpperCase(),
    vector.protectedHeaders.cborHex,
    'helper encodes like go-cose',
  );
  t.equal(codeOf(parse(ours)), 'UNKNOWN_CRITICAL_HEADER');
  // Without the critical extended attribute the same header parses to the conformance values.
  const plain = parseEnvelope(
    signCose(Buffer.from(vector.payload, 'hex'), rsa.privateKey, rsa.chain, {
      ...opts,
      extendedAttributes: [
        { key: 'signedCritKey1', value: 'signedCritValue1' },
        { key: 'signedKey1', value: 'signedValue1' },
      ],
    }),
    COSE,
  );
  t.equal(plain.signerInfo.signingTime?.getTime(), vector.signingTime * 1000);
  t.equal(plain.signerInfo.expiry?.getTime(), vector.expiry * 1000);
  t.equal(plain.signerInfo.signatureAlgorithm, 'PS384');
  t.equal(plain.signerInfo.signingAgent, 'NotationConformanceTest/1.0.0');
  t.same(Buffer.from(plain.payload.content).toString(), 'hello COSE');
  verifyEnvelopeSignature(plain);
  t.same(
    Buffer.from(hex(vector.unprotectedHeaders.cborHex)),
    Buffer.from(encode(new Map([['io.cncf.notary.signingAgent', 'NotationConformanceTest/1.0.0']]))),
    'unprotected header encoding',
  );
});
