/**
 * RFC 3161 countersignatures of the vectors (README § 3.2, § 2.1, § 2.4, § 4): the notation-go
 * `TestAuthenticTimestamp` cases from expected-verdicts.json (kind notation-envelope-authentic-timestamp), the
 * upstream countersignature tokens, and the timestamped e2e envelopes.
 *
 * `authenticTimestampStep` below replays notation-go `verifyTimestamp` on top of the primitives. Its step 5 (TSA
 * chain revocation, online upstream) is stubbed as "good" — the README's network caveat — so the VALID rows hold
 * offline; the stub is the only thing not exercised here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseCertificate, parseCertificates } from '../../../pki/certificate.ts';
import { checkValidity } from '../../../pki/chain.ts';
import { checkTimestampCoversChain, verifyTimestampToken } from '../../../verifiers/notation/timestamp/verify.ts';
import { parseTimestampToken } from '../../../verifiers/notation/timestamp/token.ts';
import { extractEnvelope } from './envelope-extract.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const NG = `${V}notation-go/verifier/testdata/`;
const storeCerts = (root: string, store: string): Uint8Array[] =>
  readdirSync(`${root}${store}`).flatMap((f) => parseCertificates(readFileSync(`${root}${store}/${f}`)).map((c) => c.der));

type Step = { ok: true; genTime?: Date } | { ok: false; code?: string; message: string };

/** notation-go verifier.go `verifyTimestamp`, steps 1–4 (step 5, TSA revocation, stubbed as good). */
function authenticTimestampStep(envelope: Uint8Array, o: { tsaRoots: Uint8Array[] | null; verifyTimestamp: 'always' | 'afterCertExpiry'; now: Date; token?: Uint8Array | null; signature?: Uint8Array }): Step {
  const env = extractEnvelope(envelope);
  const chain = env.x5c.map((c) => parseCertificate(c));
  let perform = o.tsaRoots !== null;
  if (perform && o.verifyTimestamp === 'afterCertExpiry' && !chain.some((c) => o.now > c.notAfter)) perform = false;
  if (!perform) {
    for (const cert of chain) {
      const invalid = checkValidity(cert, o.now, false);
      if (invalid) return invalid;
    }
    return { ok: true };
  }
  const token = o.token === undefined ? env.timestampToken : o.token;
  if (token === null) return { ok: false, message: 'no timestamp countersignature was found in the signature envelope' };
  const ts = verifyTimestampToken(token, { signature: o.signature ?? env.signature, trustedRoots: o.tsaRoots! });
  if (!ts.ok) return ts;
  const covered = checkTimestampCoversChain(ts, chain);
  if (!covered.ok) return covered;
  return { ok: true, genTime: ts.genTime };
}

interface Case { id: string; kind: string; envelope: string; trustPolicyStatement: { trustStores: string[]; signatureVerification: { verifyTimestamp: 'always' | 'afterCertExpiry' } }; clock: string; expected: string; reason: string }
const cases = (JSON.parse(readFileSync(`${V}expected-verdicts.json`, 'utf8')) as { cases: Case[] }).cases.filter((c) => c.kind === 'notation-envelope-authentic-timestamp');

const EXPECTED_MESSAGES: Readonly<Record<string, RegExp>> = {
  'ngts-cose-expired-cert-no-tsa': /^verification time is after certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Jun 2024 07:30:31 \+0000"$/,
  'ngts-before-notbefore': /^timestamp can be before certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Fri, 18 Sep 2099 11:54:34 \+0000"$/,
  'ngts-after-notafter': /^timestamp can be after certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it was expired at "Tue, 18 Sep 2001 11:54:34 \+0000"$/,
  'ngts-no-timestamp': /^no timestamp countersignature was found in the signature envelope$/,
  'ngts-tsa-untrusted': /x509: certificate signed by unknown authority$/,
};

t.test('notation-go TestAuthenticTimestamp cases (expected-verdicts.json)', async (t) => {
  t.equal(cases.length, 10);
  for (const c of cases) {
    const tsaStores = c.trustPolicyStatement.trustStores.filter((s) => s.startsWith('tsa:'));
    const tsaRoots = tsaStores.length === 0 ? null : tsaStores.flatMap((s) => storeCerts(`${NG}truststore/x509/tsa/`, s.slice(4)));
    const result = authenticTimestampStep(readFileSync(`${V}${c.envelope}`), { tsaRoots, verifyTimestamp: c.trustPolicyStatement.signatureVerification.verifyTimestamp, now: new Date(c.clock) });
    t.equal(result.ok, c.expected === 'valid', `${c.id}: ${c.expected}${result.ok ? '' : ` (${result.message})`}`);
    const pattern = EXPECTED_MESSAGES[c.id];
    if (pattern && !result.ok) t.match(result.message, pattern, `${c.id}: upstream wording`);
  }
});

t.test('authentic time and accuracy of the GlobalSign tokens', async (t) => {
  const r6 = storeCerts(`${NG}truststore/x509/tsa/`, 'test-timestamp');
  const env = extractEnvelope(readFileSync(`${NG}timestamp/sigEnv/jwsExpiredWithTimestamp.sig`));
  const ts = verifyTimestampToken(env.timestampToken!, { signature: env.signature, trustedRoots: r6 });
  t.match(ts, { ok: true, genTime: new Date('2024-06-18T07:21:42Z'), accuracyMs: 1000, earliest: new Date('2024-06-18T07:21:41Z'), latest: new Date('2024-06-18T07:21:43Z') });
  if (ts.ok) {
    t.same(ts.tsaChain.map((c) => c.subject.string), [
      'CN=Globalsign TSA for Advanced - G4 - 202311,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign Timestamping CA - SHA384 - G4,O=GlobalSign nv-sa,C=BE',
      'CN=GlobalSign,OU=GlobalSign Root CA - R6,O=GlobalSign',
    ], 'TSA chain built to the trusted R6 root');
    t.ok(ts.tsaChain[0]!.ocspServers.length + ts.tsaChain[0]!.crlDistributionPoints.length > 0, 'revocation pointers exposed for step 5');
  }
  const signer = parseCertificate(env.x5c[0]!);
  t.match(checkValidity(signer, new Date('2026-01-01T00:00:00Z'), false), { code: 'expired' }, 'the 10-minute signer is expired now…');
  t.same(ts.ok && checkTimestampCoversChain(ts, [signer]), { ok: true }, '…but was valid at the authentic time');
  t.match(verifyTimestampToken(env.timestampToken!, { signature: env.signature, trustedRoots: [] }), { ok: false, code: 'no-trust-anchors' });
});

t.test('upstream countersignature tokens spliced into withoutTimestamp.sig (README § 3.2, ERRATA 2)', async (t) => {
  const C = `${NG}timestamp/countersignature/`;
  const envelope = readFileSync(`${NG}timestamp/sigEnv/withoutTimestamp.sig`);
  const r6 = storeCerts(`${NG}truststore/x509/tsa/`, 'test-timestamp');
  const step = (file: string, signature?: Uint8Array) =>
    authenticTimestampStep(envelope, { tsaRoots: r6, verifyTimestamp: 'always', now: new Date('2026-01-01T00:00:00Z'), token: readFileSync(C + file), ...(signature ? { signature } : {}) });
  t.match(step('TimeStampTokenWithInvalideContentType.p7s'), { ok: false, code: 'content-type', message: /unexpected content type: 1\.2\.840\.113549\.1\.7\.1\. Expected to be id-ct-TSTInfo \(1\.2\.840\.113549\.1\.9\.16\.1\.4\)/ });
  t.match(step('TimeStampTokenWithInvalidTSTInfo.p7s'), { ok: false, code: 'malformed-tstinfo', message: /cannot unmarshal TSTInfo/ });
  t.match(step('TimeStampToken.p7s'), { ok: false, code: 'imprint-mismatch', message: /invalid TSTInfo: mismatched message$/ });
  t.match(step('TimeStampTokenWithoutCertificate.p7s'), { ok: false, code: 'imprint-mismatch' }, 'spliced unchanged: the imprint check fails first');
  const notation = new TextEncoder().encode('notation');
  t.match(step('TimeStampTokenWithoutCertificate.p7s', notation), { ok: false, code: 'signer-certificate-not-found', message: /signing certificate not found in the timestamp token$/ }, 'upstream signature bytes "notation"');
  t.match(step('TimeStampToken.p7s', new TextEncoder().encode('mismatch')), { ok: false, code: 'imprint-mismatch' });
  t.match(verifyTimestampToken(readFileSync(C + 'TimeStampToken.p7s'), { signature: notation, trustedRoots: r6 }), { ok: true, genTime: new Date('2021-09-17T14:09:10Z'), accuracyMs: 1000 }, 'the 2021 token itself is authentic (R6 → R3 cross-certificate ignored)');
});

t.test('altered CMS signature (README § 2.3, § 4 internal/timestamp)', async (t) => {
  const token = readFileSync(`${V}notation-core-go/internal/timestamp/testdata/TimeStampTokenWithInvalidSignature.p7s`);
  t.same(token.subarray(0, -1), readFileSync(`${NG}timestamp/countersignature/TimeStampToken.p7s`).subarray(0, -1), 'differs from TimeStampToken.p7s in the last byte only');
  const notation = new TextEncoder().encode('notation');
  t.match(verifyTimestampToken(token, { signature: notation, trustedRoots: storeCerts(`${NG}truststore/x509/tsa/`, 'test-timestamp') }), { ok: false, code: 'signature-invalid' });
  t.match(verifyTimestampToken(token, { signature: notation, trustedRoots: parseCertificates(readFileSync(`${V}notation-core-go/internal/timestamp/testdata/tsaRootCert.cer`)).map((c) => c.der) }), {
    ok: false, code: 'untrusted', message: /x509: certificate signed by unknown authority$/,
  }, 'against the DigiCert root: unknown authority');
  t.same(readFileSync(`${V}notation/cmd/notation/internal/display/metadata/testdata/TimeStampTokenWithInvalidSignature.p7s`), token, 'same token in notation');
});

t.test('timestamped e2e envelopes (Microsoft TSA; its root is not in the vectors)', async (t) => {
  const L = `${V}notation/test/e2e/testdata/registry/oci_layout/`;
  const blob = (layout: string, prefix: string) => readFileSync(`${L}${layout}/blobs/sha256/${readdirSync(`${L}${layout}/blobs/sha256`).find((f) => f.startsWith(prefix))}`);
  const e2eTsa = ['globalsignTSARoot.cer', 'DigiCertTSARootSHA384.cer'].flatMap((f) => parseCertificates(readFileSync(`${V}notation/test/e2e/testdata/config/timestamp/${f}`)).map((c) => c.der));
  const sources: [string, Uint8Array][] = [
    ['e2e-with-timestamped-signature', blob('e2e-with-timestamped-signature', '603ff134')],
    ['signatures/blob.jws.sig', readFileSync(`${V}notation/test/e2e/testdata/signatures/blob.jws.sig`)],
    ['signatures/blob.cose.sig', readFileSync(`${V}notation/test/e2e/testdata/signatures/blob.cose.sig`)],
  ];
  for (const [name, bytes] of sources) {
    const env = extractEnvelope(bytes);
    const token = parseTimestampToken(env.timestampToken!);
    t.match(token.certificates.map((c) => c.subject.string).join('|'), /Microsoft Public RSA Time Stamping/, `${name}: Microsoft TSA token parses`);
    const r = verifyTimestampToken(token, { signature: env.signature, trustedRoots: e2eTsa });
    t.match(r, { ok: false, code: 'untrusted' }, `${name}: imprint matches the signature, TSA root untrusted with tsa:e2e`);
    t.match(verifyTimestampToken(token, { signature: new Uint8Array(8), trustedRoots: e2eTsa }), { ok: false, code: 'imprint-mismatch' }, `${name}: imprint is over the raw signature bytes`);
  }
  const first = parseTimestampToken(extractEnvelope(sources[0]![1]).timestampToken!);
  const { parseTstInfo } = await import('../../../verifiers/notation/timestamp/tstinfo.ts');
  t.match(parseTstInfo(first.content), { genTime: new Date('2025-01-21T09:17:46.641Z'), accuracyMs: 500 }, 'genTime 09:17:46.641Z ± 500 ms (README § 2.1)');

  const invalid = extractEnvelope(blob('e2e-with-invalid-timestamped-signature', '8d2e70ff'));
  t.same(Buffer.from(invalid.timestampToken!).toString(), 'invalid\n');
  t.match(verifyTimestampToken(invalid.timestampToken!, { signature: invalid.signature, trustedRoots: e2eTsa }), { ok: false, code: 'malformed-token', message: /^failed to parse timestamp countersignature: / });
});
