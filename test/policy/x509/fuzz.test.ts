/**
 * Property tests (fast-check): arbitrary DER-ish bytes — random TLV trees, and real certificates / CRLs /
 * timestamp tokens with bytes flipped, truncated or spliced — go into every parser. The only acceptable outcomes
 * are a value or the module's typed error (never a TypeError/RangeError escaping; a hang fails by the test's
 * timeout, with no stopwatch per call), and the verification entry points never throw at all.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { parseCertificate, parseCertificates } from '../../../pki/certificate.ts';
import { validateSigningChain } from '../../../pki/chain.ts';
import { checkCertificateAgainstCrl, CrlParseError, parseCrl } from '../../../pki/crl.ts';
import { X509ParseError } from '../../../pki/errors.ts';
import { TimestampParseError } from '../../../verifiers/notation/timestamp/errors.ts';
import { parseTimestampToken } from '../../../verifiers/notation/timestamp/token.ts';
import { parseTstInfo } from '../../../verifiers/notation/timestamp/tstinfo.ts';
import { verifyTimestampToken } from '../../../verifiers/notation/timestamp/verify.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const NOW = new Date('2026-01-01T00:00:00Z');
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 400);

const certDer = parseCertificates(readFileSync(`${V}notation/test/e2e/testdata/config/crl/certchain_with_crl.pem`)).map((c) => c.der);
const crlDer = new Uint8Array(readFileSync(`${V}notation/test/e2e/testdata/config/crl/leaf_revoked.crl`));
const tokenDer = new Uint8Array(readFileSync(`${V}notation-go/verifier/testdata/timestamp/countersignature/TimeStampToken.p7s`));
const r6 = parseCertificates(readFileSync(`${V}notation-go/verifier/testdata/truststore/x509/tsa/test-timestamp/globalsignRoot.cer`));
const [leaf, intermediate] = [parseCertificate(certDer[0]!), parseCertificate(certDer[1]!)];

/** Random DER-shaped trees: SEQUENCE/SET/context wrappers around INTEGER/OID/OCTET/BIT/strings/garbage. */
const tlv: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x01, 0x86), fc.uint8Array({ maxLength: 40 })).map(([id, body]) => wrap(id, body)),
    fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa3, 0xa4), fc.array(tie('node'), { maxLength: 6 })).map(([id, kids]) => wrap(id, concat(kids))),
    fc.uint8Array({ maxLength: 16 }),
  ),
})).node;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}
function wrap(id: number, body: Uint8Array): Uint8Array {
  const len = body.length < 0x80 ? [body.length] : body.length < 0x100 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return concat([Uint8Array.of(id, ...len), body]);
}

/** A real DER object with a few bytes flipped, a truncation, or a random tree spliced in. */
function mutated(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
      const copy = Uint8Array.from(base);
      for (const [at, x] of flips) copy[at]! ^= x;
      return copy;
    }),
    fc.nat(base.length - 1).map((n) => base.subarray(0, n)),
    fc.tuple(fc.nat(base.length - 1), tlv).map(([at, extra]) => concat([base.subarray(0, at), extra, base.subarray(at)])),
  );
}

function onlyTyped(fn: () => unknown, ...types: (abstract new (...args: never[]) => Error)[]): void {
  try {
    fn();
  } catch (err) {
    if (!types.some((ty) => err instanceof ty)) throw err;
  }
}

const anyBytes = fc.oneof(tlv, fc.uint8Array({ maxLength: 300 }));

t.test('certificate parsers', async (t) => {
  fc.assert(fc.property(fc.oneof(anyBytes, mutated(certDer[0]!), mutated(certDer[2]!)), (bytes) => {
    onlyTyped(() => parseCertificate(bytes), X509ParseError);
    onlyTyped(() => parseCertificates(bytes), X509ParseError);
    const r = validateSigningChain([bytes, certDer[1]!, certDer[2]!], { purpose: 'codeSigning', now: NOW });
    if (!r.ok && typeof r.code !== 'string') throw new Error('untyped outcome');
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    onlyTyped(() => parseCertificates(`-----BEGIN CERTIFICATE-----\n${text}\n-----END CERTIFICATE-----`), X509ParseError);
  }), { numRuns: RUNS / 4 });
  t.pass('only X509ParseError escapes');
});

t.test('CRL parser and check', async (t) => {
  fc.assert(fc.property(fc.oneof(anyBytes, mutated(crlDer)), (bytes) => {
    onlyTyped(() => parseCrl(bytes), CrlParseError);
    const status = checkCertificateAgainstCrl(leaf, intermediate, bytes, { now: NOW });
    if (!['good', 'revoked', 'unknown'].includes(status.status)) throw new Error('untyped status');
  }), { numRuns: RUNS });
  t.pass('only CrlParseError escapes; the check never throws');
});

t.test('timestamp token parser and verifier', async (t) => {
  const signature = new TextEncoder().encode('notation');
  fc.assert(fc.property(fc.oneof(anyBytes, mutated(tokenDer)), (bytes) => {
    onlyTyped(() => parseTstInfo(parseTimestampToken(bytes).content), TimestampParseError);
    const r = verifyTimestampToken(bytes, { signature, trustedRoots: r6 });
    if (!r.ok && typeof r.code !== 'string') throw new Error('untyped outcome');
  }), { numRuns: RUNS });
  t.pass('only TimestampParseError escapes; verification never throws');
});
