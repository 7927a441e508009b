/**
 * JWS envelope rules (signature-envelope-jws.md, RFC 7515), each with a
 * correctly signed envelope that breaks exactly one rule.
 */
import t from 'tap';
import { LIMITS, parseEnvelope, verifyEnvelopeSignature } from '../../../verifiers/notation/envelope/index.ts';
import { codeOf } from './helpers.ts';
import { makeSigningCert, signJws, targetPayload, type SignOptions, type SigningCert } from './make-signed.ts';

const JWS = 'application/jose+json';
const payload = targetPayload({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 1,
});
const T0 = new Date('2025-03-01T10:00:00Z');

let cert: SigningCert;
t.before(async () => {
  cert = await makeSigningCert({ keyType: 'ec-p256' });
});

const sign = (opts: SignOptions = {}) => signJws(payload, cert.privateKey, cert.chain, { signingTime: T0, ...opts });
const parse = (bytes: Uint8Array | string) => () =>
  verifyEnvelopeSignature(parseEnvelope(typeof bytes === 'string' ? Buffer.from(bytes) : bytes, JWS));
const edit = (bytes: Uint8Array, fn: (doc: Record<string, unknown>) => void): Buffer => {
  const doc = JSON.parse(Buffer.from(bytes).toString());
  fn(doc);
  return Buffer.from(JSON.stringify(doc));
};
const setHeader =
  (key: string, value: unknown): SignOptions['editProtected'] =>
  (h) => {
    if (value === undefined) h.delete(key);
    else h.set(key, value);
  };

t.test('a valid envelope: typed fields', async (t) => {
  const env = parseEnvelope(
    sign({
      expiry: new Date('2026-03-01T10:00:00Z'),
      timestampSignature: Buffer.from('tst'),
      signingAgent: 'agent/1',
      extendedAttributes: [{ key: 'io.example.note', value: { a: [1, 2] } }],
    }),
    JWS,
  );
  t.equal(env.mediaType, JWS);
  t.equal(env.payload.contentType, 'application/vnd.cncf.notary.payload.v1+json');
  t.same(env.signerInfo, {
    signingScheme: 'notary.x509',
    signingTime: T0,
    expiry: new Date('2026-03-01T10:00:00Z'),
    signatureAlgorithm: 'ES256',
    signature: env.signerInfo.signature,
    certificateChain: [cert.certificate],
    signingAgent: 'agent/1',
    timestampSignature: Buffer.from('tst'),
    extendedAttributes: [{ key: 'io.example.note', value: { a: [1, 2] }, critical: false }],
    critical: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
  });
  const doc = JSON.parse(sign().toString());
  t.same(Buffer.from(env.signingInput).toString().split('.').length, 2);
  t.equal(Buffer.from(parseEnvelope(sign(), JWS).signingInput).toString(), `${doc.protected}.${doc.payload}`);
  verifyEnvelopeSignature(env);

  const sa = parseEnvelope(sign({ signingScheme: 'notary.x509.signingAuthority' }), JWS);
  t.equal(sa.signerInfo.authenticSigningTime?.getTime(), T0.getTime());
  t.equal(sa.signerInfo.signingTime, undefined);
  t.same(sa.signerInfo.critical, ['io.cncf.notary.signingScheme', 'io.cncf.notary.authenticSigningTime']);
});

t.test('serialization: flattened JSON only', async (t) => {
  const doc = JSON.parse(sign().toString());
  t.equal(codeOf(parse(`${doc.protected}.${doc.payload}.${doc.signature}`)), 'MALFORMED', 'compact');
  t.equal(
    codeOf(
      parse(
        JSON.stringify({
          payload: doc.payload,
          signatures: [{ protected: doc.protected, header: doc.header, signature: doc.signature }],
        }),
      ),
    ),
    'MALFORMED',
    'general',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.extra = 1;
        }),
      ),
    ),
    'MALFORMED',
    'unknown top-level member',
  );
  for (const member of ['payload', 'protected', 'header', 'signature']) {
    t.equal(
      codeOf(
        parse(
          edit(sign(), (d) => {
            delete d[member];
          }),
        ),
      ),
      'MALFORMED',
      `missing ${member}`,
    );
  }
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.header = [];
        }),
      ),
    ),
    'MALFORMED',
    'header array',
  );
  t.equal(codeOf(parse('[]')), 'MALFORMED');
  t.equal(codeOf(parse('')), 'MALFORMED');
  t.equal(codeOf(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), sign()]))), 'MALFORMED', 'BOM');
  t.equal(codeOf(parse(Buffer.from([0x7b, 0xff, 0x7d]))), 'MALFORMED', 'invalid UTF-8');
  t.equal(
    codeOf(() => parseEnvelope(sign(), 'application/json')),
    'UNSUPPORTED_MEDIA_TYPE',
  );
  t.equal(
    codeOf(() => parseEnvelope(sign(), 'application/jose+json; charset=utf-8')),
    'UNSUPPORTED_MEDIA_TYPE',
  );
});

t.test('base64url strictness (RFC 7515 § 2)', async (t) => {
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.payload = `${d.payload}=`;
        }),
      ),
    ),
    'MALFORMED',
    'padded payload',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.signature = String(d.signature).replace(/-/g, '+').replace(/_/g, '/') + '+';
        }),
      ),
    ),
    'MALFORMED',
    'std alphabet',
  );
  const sig = JSON.parse(sign().toString()).signature as string; // 64 bytes → 86 chars, 4 unused bits in the last char
  const last = sig.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.signature = sig.slice(0, -1) + sibling;
        }),
      ),
    ),
    'MALFORMED',
    'non-canonical trailing bits',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.protected = ` ${d.protected}`;
        }),
      ),
    ),
    'MALFORMED',
    'whitespace',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          d.signature = '';
        }),
      ),
    ),
    'MALFORMED',
    'empty signature',
  );
  t.equal(codeOf(parse(signJws(new Uint8Array(0), cert.privateKey, cert.chain))), 'MALFORMED', 'empty payload');
});

t.test('protected header: alg, cty, signing scheme', async (t) => {
  for (const alg of ['none', 'HS256', 'RS256', 'EdDSA', 'ES256K', 'es256', 7]) {
    t.equal(codeOf(parse(sign({ editProtected: setHeader('alg', alg) }))), 'UNSUPPORTED_ALGORITHM', `alg ${alg}`);
  }
  t.equal(codeOf(parse(sign({ editProtected: setHeader('alg', undefined) }))), 'MALFORMED', 'no alg');
  t.equal(codeOf(parse(sign({ contentType: 'application/json' }))), 'UNSUPPORTED_CONTENT_TYPE');
  t.equal(codeOf(parse(sign({ editProtected: setHeader('cty', undefined) }))), 'MALFORMED', 'no cty');
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingScheme', 'notary.default.x509') }))),
    'UNSUPPORTED_SIGNING_SCHEME',
  );
  t.equal(codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingScheme', 1) }))), 'MALFORMED');
  t.equal(codeOf(parse(sign({ encodeProtected: () => '[]' }))), 'MALFORMED', 'header not an object');
  t.equal(codeOf(parse(sign({ encodeProtected: () => '{"alg":' }))), 'MALFORMED', 'header not JSON');
});

t.test('crit (RFC 7515 § 4.1.11, signature-specification.md § "Signed Attributes")', async (t) => {
  const scheme = 'io.cncf.notary.signingScheme';
  t.equal(codeOf(parse(sign({ crit: [] }))), 'MALFORMED', 'empty');
  t.equal(codeOf(parse(sign({ editProtected: setHeader('crit', undefined) }))), 'MALFORMED', 'missing');
  t.equal(codeOf(parse(sign({ crit: scheme as unknown as string[] }))), 'MALFORMED', 'not an array');
  t.equal(codeOf(parse(sign({ crit: [scheme, scheme] }))), 'MALFORMED', 'duplicate');
  t.equal(codeOf(parse(sign({ crit: [scheme, 'alg'] }))), 'MALFORMED', 'registered name');
  t.equal(codeOf(parse(sign({ crit: [scheme, 'io.example.absent'] }))), 'MALFORMED', 'absent header');
  t.equal(codeOf(parse(sign({ crit: [scheme, 'io.cncf.notary.signingTime'] }))), 'MALFORMED', 'informational signingTime');
  t.equal(
    codeOf(parse(sign({ crit: [] as string[], editProtected: (h) => h.set('crit', [scheme, 5]) }))),
    'MALFORMED',
    'non-string entry',
  );
  t.equal(
    codeOf(parse(sign({ crit: ['io.cncf.notary.expiry'], expiry: new Date('2026-01-01T00:00:00Z') }))),
    'MALFORMED',
    'scheme not critical',
  );
  t.equal(codeOf(parse(sign({ crit: [scheme], expiry: new Date('2026-01-01T00:00:00Z') }))), 'MALFORMED', 'expiry not critical');
  t.equal(
    codeOf(parse(sign({ crit: [scheme], signingScheme: 'notary.x509.signingAuthority' }))),
    'MALFORMED',
    'authenticSigningTime not critical',
  );
  t.equal(codeOf(parse(sign({ crit: Array.from({ length: LIMITS.maxCritical + 1 }, (_, i) => `h${i}`) }))), 'LIMIT_EXCEEDED');
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'b64', value: false, critical: true }] }))),
    'UNKNOWN_CRITICAL_HEADER',
    'RFC 7797 b64',
  );
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'p', critical: true }] }))),
    'UNKNOWN_CRITICAL_HEADER',
    'plugin',
  );
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'p' }] }))),
    'MALFORMED',
    'plugin not critical',
  );
  t.equal(
    codeOf(
      parse(
        sign({ extendedAttributes: [{ key: 'io.cncf.notary.verificationPluginMinVersion', value: '1.0.0', critical: true }] }),
      ),
    ),
    'UNKNOWN_CRITICAL_HEADER',
  );
  // A critical header with a known name is understood: order in crit does not matter.
  t.equal(codeOf(parse(sign({ expiry: new Date('2026-01-01T00:00:00Z'), crit: ['io.cncf.notary.expiry', scheme] }))), 'ok');
});

t.test('signing time, authentic signing time, expiry', async (t) => {
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.signingTime', undefined) }))),
    'MALFORMED',
    'x509 without signingTime',
  );
  t.equal(
    codeOf(parse(sign({ editProtected: setHeader('io.cncf.notary.authenticSigningTime', '2025-01-01T00:00:00Z') }))),
    'MALFORMED',
    'x509 with authenticSigningTime',
  );
  t.equal(
    codeOf(
      parse(
        sign({
          signingScheme: 'notary.x509.signingAuthority',
          editProtected: setHeader('io.cncf.notary.signingTime', '2025-01-01T00:00:00Z'),
        }),
      ),
    ),
    'MALFORMED',
    'SA with signingTime',
  );
  t.equal(codeOf(parse(sign({ expiry: T0 }))), 'MALFORMED', 'expiry = signing time');
  t.equal(codeOf(parse(sign({ expiry: new Date(T0.getTime() - 1000) }))), 'MALFORMED', 'expiry before signing time');
  const at = (value: unknown) => parse(sign({ editProtected: setHeader('io.cncf.notary.signingTime', value) }));
  for (const bad of [
    '2025-03-01t10:00:00Z',
    '2025-03-01T10:00:00z',
    '2025-03-01T10:00:00',
    '2025-03-01 10:00:00Z',
    '2025-02-30T10:00:00Z',
    '2025-03-01T24:00:00Z',
    '2025-03-01T10:00:60Z',
    '2025-03-01T10:00:00+24:00',
    '2025-3-01T10:00:00Z',
    '0000-12-31T23:59:59Z',
    1740823200,
    null,
  ]) {
    t.equal(codeOf(at(bad)), 'MALFORMED', `signingTime ${JSON.stringify(bad)}`);
  }
  for (const [good, iso] of [
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['2023-06-27T13:30:33+08:00', '2023-06-27T05:30:33.000Z'],
    ['2023-01-19T12:57:04-08:00', '2023-01-19T20:57:04.000Z'],
    ['2025-03-01T10:00:00.123456789Z', '2025-03-01T10:00:00.123Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ] as const) {
    const env = parseEnvelope(sign({ editProtected: setHeader('io.cncf.notary.signingTime', good) }), JWS);
    t.equal(env.signerInfo.signingTime?.toISOString(), iso, good);
  }
});

t.test('unprotected header', async (t) => {
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          delete (d.header as Record<string, unknown>).x5c;
        }),
      ),
    ),
    'MALFORMED',
    'no x5c',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).x5c = [];
        }),
      ),
    ),
    'MALFORMED',
    'empty x5c',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).x5c = cert.certificate.toString('base64');
        }),
      ),
    ),
    'MALFORMED',
    'x5c string',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).x5c = [cert.certificate.toString('base64url')];
        }),
      ),
    ),
    'MALFORMED',
    'x5c base64url',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).x5c = [''];
        }),
      ),
    ),
    'MALFORMED',
    'x5c empty cert',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).x5c = Array(LIMITS.maxChainLength + 1).fill(cert.certificate.toString('base64'));
        }),
      ),
    ),
    'LIMIT_EXCEEDED',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).alg = 'ES256';
        }),
      ),
    ),
    'MALFORMED',
    'name in both headers',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>).crit = ['x'];
        }),
      ),
    ),
    'MALFORMED',
    'unprotected crit',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>)['io.cncf.notary.timestampSignature'] = 5;
        }),
      ),
    ),
    'MALFORMED',
    'timestamp type',
  );
  t.equal(
    codeOf(
      parse(
        edit(sign(), (d) => {
          (d.header as Record<string, unknown>)['io.cncf.notary.timestampSignature'] = 'a-b_';
        }),
      ),
    ),
    'MALFORMED',
    'timestamp base64url',
  );
  const empty = parseEnvelope(sign({ timestampSignature: new Uint8Array(0) }), JWS);
  t.equal(empty.signerInfo.timestampSignature, undefined, 'empty timestamp = absent');
  // Unknown unprotected members are ignored; the signing agent is never validated.
  const lenient = parseEnvelope(
    edit(sign(), (d) => {
      const h = d.header as Record<string, unknown>;
      h['io.cncf.notary.signingAgent'] = { not: 'a string' };
      h['io.example.unsigned'] = [1];
    }),
    JWS,
  );
  t.equal(lenient.signerInfo.signingAgent, undefined);
  verifyEnvelopeSignature(lenient);
  // "__proto__" / "constructor" names are plain data.
  const proto = sign({
    extendedAttributes: [
      { key: '__proto__', value: { polluted: true } },
      { key: 'constructor', value: 1 },
    ],
  });
  t.same(
    parseEnvelope(proto, JWS)
      .signerInfo.extendedAttributes.map((a) => a.key)
      .sort(),
    ['__proto__', 'constructor'],
  );
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('bounds', async (t) => {
  t.equal(
    codeOf(() => parseEnvelope(new Uint8Array(LIMITS.maxEnvelopeBytes + 1), JWS)),
    'LIMIT_EXCEEDED',
    'size',
  );
  const deep = `{"payload":${'['.repeat(LIMITS.maxDepth)}${']'.repeat(LIMITS.maxDepth)}}`;
  t.equal(codeOf(parse(deep)), 'LIMIT_EXCEEDED', 'depth');
  const bomb = '['.repeat(5_000_000);
  t.equal(codeOf(parse(bomb)), 'LIMIT_EXCEEDED', 'deep bomb');
  const wide = `{"payload":[${'[],'.repeat(LIMITS.maxItems)}[]]}`;
  t.equal(codeOf(parse(wide)), 'LIMIT_EXCEEDED', 'items');
  t.equal(
    codeOf(parse(sign({ extendedAttributes: [{ key: 'deep', value: JSON.parse('['.repeat(20) + ']'.repeat(20)) }] }))),
    'LIMIT_EXCEEDED',
    'deep protected header',
  );
  // Brackets inside strings are data, not structure.
  t.equal(codeOf(parse(sign({ extendedAttributes: [{ key: 'text', value: '['.repeat(1000) + '"\\' }] }))), 'ok');
});
