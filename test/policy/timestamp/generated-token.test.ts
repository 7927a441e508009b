/**
 * Tokens made in the test (make-token.ts) for the checks the upstream vectors do not isolate: the CMS signed
 * attributes (RFC 5652 § 5.3/§ 11), SigningCertificateV2 (RFC 5035), TSA chain validity at genTime and its
 * timestamping profile, accuracy (RFC 3161 § 2.4.2) and the version gates of tspclient-go.
 */
import t from 'tap';
import { verifyTimestampToken } from '../../../verifiers/notation/timestamp/verify.ts';
import { parseTstInfo } from '../../../verifiers/notation/timestamp/tstinfo.ts';
import { parseTimestampToken } from '../../../verifiers/notation/timestamp/token.ts';
import { EKU_OIDS, makeChain } from '../x509/make-certs.ts';
import type { MadeChain } from '../x509/make-certs.ts';
import { BASELINE_POLICY, makeToken } from './make-token.ts';
import type { TokenSpec } from './make-token.ts';

const message = new TextEncoder().encode('raw signature bytes');
const tsaLeaf = { cn: 'Test TSA', eku: [EKU_OIDS.timeStamping], ekuCritical: true } as const;

async function tsa(spec: Parameters<typeof makeChain>[0] = {}): Promise<MadeChain> {
  return makeChain({ leaf: tsaLeaf, ...spec, intermediates: spec.intermediates ?? [{ cn: 'Test TSA CA', eku: [EKU_OIDS.timeStamping] }] });
}

t.test('a well-formed token and its authentic time', async (t) => {
  const chain = await tsa();
  const root = chain.chain[2]!;
  const verify = (over: Partial<TokenSpec> = {}) => verifyTimestampToken(makeToken({ tsa: chain.issued, message, ...over }), { signature: message, trustedRoots: [root] });
  t.match(verify(), { ok: true, genTime: new Date('2025-06-01T12:00:00Z'), accuracyMs: 1000 });
  t.match(verify({ genTime: new Date('2025-06-01T12:00:00.25Z'), accuracy: { millis: 500, micros: 1 } }), { ok: true, genTime: new Date('2025-06-01T12:00:00.250Z'), accuracyMs: 501 }, 'fractional genTime, millis + micros (rounded up)');
  t.match(verify({ accuracy: null }), { ok: true, accuracyMs: 0 }, 'no accuracy: zero, as tspclient-go…');
  t.match(verify({ accuracy: null, policy: BASELINE_POLICY }), { ok: true, accuracyMs: 1000 }, '…except 1 s under the ETSI baseline policy');
  t.match(verify({ signingTime: new Date('2025-06-01T12:00:00Z') }), { ok: true }, 'signing-time attribute inside the chain validity');
  t.match(verifyTimestampToken(makeToken({ tsa: chain.issued, message }), { signature: new Uint8Array(3), trustedRoots: [root] }), { ok: false, code: 'imprint-mismatch' });
  t.match(verifyTimestampToken(makeToken({ tsa: chain.issued, message }), { signature: message, trustedRoots: [(await tsa()).chain[2]!] }), { ok: false, code: 'untrusted' });
});

t.test('CMS signer checks', async (t) => {
  const chain = await tsa();
  const verify = (over: Partial<TokenSpec>) => verifyTimestampToken(makeToken({ tsa: chain.issued, message, ...over }), { signature: message, trustedRoots: [chain.chain[2]!] });
  t.match(verify({ tamperSignature: true }), { ok: false, code: 'signature-invalid' });
  t.match(verify({ signingCertificateV2: 'missing' }), { ok: false, code: 'signing-certificate-attribute', message: /failed to get SigningCertificateV2 from signed attributes$/ });
  t.match(verify({ signingCertificateV2: 'wrong-hash' }), { ok: false, code: 'signing-certificate-attribute', message: /signing certificate hash does not match CertHash in signed attribute$/ });
  t.match(verify({ messageDigest: new Uint8Array(32) }), { ok: false, code: 'signed-attributes', message: /mismatch message digest$/ });
  t.match(verify({ contentTypeAttr: '1.2.840.113549.1.7.1' }), { ok: false, code: 'signed-attributes', message: /mismatch content type/ });
  t.match(verify({ signingTime: new Date('2020-01-01T00:00:00Z') }), { ok: false, code: 'signed-attributes', message: /is outside certificate's validity period$/ });
  t.match(verify({ certs: [chain.chain[1]!] }), { ok: false, code: 'signer-certificate-not-found' }, 'signer certificate not embedded');
  t.match(verify({ signerInfoVersion: 3 }), { ok: false, code: 'unsupported-version', message: /only version 1 is supported; got 3$/ });
  t.match(verify({ signedDataVersion: 1 }), { ok: false, code: 'unsupported-version', message: /unsupported signed data version: got 1, want 3$/ });
  t.match(verify({ eContentType: '1.2.840.113549.1.7.1' }), { ok: false, code: 'content-type' });
});

t.test('TSA chain at genTime and the timestamping profile', async (t) => {
  const genTime = new Date('2025-06-01T12:00:00Z');
  const run = (chain: MadeChain) => verifyTimestampToken(makeToken({ tsa: chain.issued, message, genTime }), { signature: message, trustedRoots: [chain.chain[chain.chain.length - 1]!] });
  t.match(run(await tsa({ leaf: { ...tsaLeaf, notAfter: new Date('2025-05-01T00:00:00Z') } })), {
    ok: false, code: 'tsa-certificate-invalid', message: /current time 2025-06-01T12:00:00Z is after 2025-05-01T00:00:00Z$/,
  }, 'TSA certificate expired at genTime');
  t.match(run(await tsa({ intermediates: [{ cn: 'Future CA', eku: [EKU_OIDS.timeStamping], notBefore: new Date('2025-07-01T00:00:00Z') }] })), { ok: false, code: 'tsa-certificate-invalid' }, 'intermediate not yet valid at genTime');
  t.match(run(await tsa({ leaf: { ...tsaLeaf, notAfter: new Date('2025-12-31T00:00:00Z') } })), { ok: true }, 'TSA certificate long expired now, valid at genTime: still authentic');
  t.match(run(await tsa({ leaf: { ...tsaLeaf, ekuCritical: false } })), { ok: false, code: 'tsa-certificate-invalid', message: /must have extended key usage extension marked as critical$/ });
  t.match(run(await tsa({ leaf: { cn: 'Code Signer', eku: [EKU_OIDS.codeSigning], ekuCritical: true } })), { ok: false, code: 'tsa-certificate-invalid', message: /incompatible key usage/ });
  t.match(run(await tsa({ intermediates: [{ cn: 'Code CA', eku: [EKU_OIDS.codeSigning] }] })), { ok: false, code: 'tsa-certificate-invalid', message: /incompatible key usage/ }, 'an intermediate EKU must allow timeStamping');
  t.match(run(await tsa({ root: { pathLen: 0 } })), { ok: false }, 'pathLenConstraint along the TSA chain');
  const direct = await makeChain({ leaf: tsaLeaf, intermediates: [] });
  t.match(run(direct), { ok: true, tsaChain: [{ subject: { string: 'CN=Test TSA' } }, { subject: { string: 'CN=Test Root' } }] }, 'leaf issued directly by the trusted root');
});

t.test('parsed token view', async (t) => {
  const chain = await tsa();
  const token = parseTimestampToken(makeToken({ tsa: chain.issued, message, signingTime: new Date('2025-06-01T12:00:00Z') }));
  t.equal(token.certificates.length, 3);
  t.same(token.signerInfos[0]!.signedAttributes!.map((a) => a.oid), ['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.4', '1.2.840.113549.1.9.16.2.47', '1.2.840.113549.1.9.5']);
  t.match(parseTstInfo(token.content), { version: 1, serialNumber: 0x1234n, nonce: null, ordering: false });
});
