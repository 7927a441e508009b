/**
 * Every certificate case of test/vectors/README.md § 4 (notation-core-go `x509/*_test.go`, `revocation/crl`),
 * with upstream's expected verdicts and error texts.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseCertificates } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { validateSigningChain } from '../../../pki/chain.ts';
import type { ChainOptions } from '../../../pki/chain.ts';
import { deltaCrlUrl } from '../../../pki/extensions.ts';
import { X509ParseError } from '../../../pki/errors.ts';
import { validateCaCertificate, validateLeafCertificate } from '../../../pki/profile.ts';

const V = new URL('../../vectors/notation-core-go/', import.meta.url).pathname;
const CS = `${V}extracted-from-go-tests/x509/codesigning_cert_validations_test/`;
const TS = `${V}extracted-from-go-tests/x509/timestamp_cert_validations_test/`;
const load = (path: string): Certificate[] => parseCertificates(readFileSync(path));
const cs = (name: string): Certificate => load(`${CS}${name}.pem`)[0]!;
const NOW = new Date('2026-01-01T00:00:00Z');
const codeSigning = (chain: Certificate[], extra: Partial<ChainOptions> = {}) => validateSigningChain(chain, { purpose: 'codeSigning', now: NOW, ...extra });
const timestamping = (chain: Certificate[]) => validateSigningChain(chain, { purpose: 'timestamping', now: NOW });

const leaf = cs('codeSigningLeafPem');
const int2 = cs('intermediateCertPem2');
const int1 = cs('intermediateCertPem1');
const root = cs('rootCertPem');

t.test('code-signing chains (codesigning_cert_validations_test.go)', async (t) => {
  t.same(codeSigning([leaf, int2, int1, root]), { ok: true, chain: [leaf, int2, int1, root] }, 'valid 4-certificate chain');
  t.match(codeSigning([leaf, int2, int1, root], { validAt: new Date('2021-07-07T20:48:42Z') }), {
    ok: false,
    code: 'not-yet-valid',
    message: 'certificate with subject "CN=CodeSigningLeaf" was invalid at signing time of 2021-07-07 20:48:42 +0000 UTC. Certificate is valid from [2022-06-30 19:20:03 +0000 UTC] to [3021-10-31 19:20:03 +0000 UTC]',
  });
  t.match(codeSigning([leaf]), { ok: false, code: 'invalid-self-signed', message: 'invalid self-signed certificate. subject: "CN=CodeSigningLeaf". Error: crypto/rsa: verification error' });
  t.match(codeSigning([leaf, int2, int1]), {
    ok: false,
    code: 'root-not-self-signed',
    message: 'root certificate with subject "CN=Intermediate1" is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: crypto/rsa: verification error',
  });
  t.match(codeSigning([leaf, int1, int2, root]), {
    ok: false,
    code: 'not-issued-by',
    message: 'invalid certificates or certificate with subject "CN=CodeSigningLeaf" is not issued by "CN=Intermediate1". Error: crypto/rsa: verification error',
  });
  t.match(codeSigning([leaf, cs('unrelatedCertPem'), int1, root]), {
    ok: false,
    code: 'not-issued-by',
    message: 'invalid certificates or certificate with subject "CN=CodeSigningLeaf" is not issued by "CN=Hello". Error: x509: invalid signature: parent certificate cannot sign this kind of certificate',
  });
  t.match(codeSigning([root, root, root]), { ok: false, code: 'leaf-self-signed', message: 'leaf certificate with subject "CN=Root" is self-signed. Certificate chain must not contain self-signed leaf certificate' });
  t.match(codeSigning([leaf, int2, int1, root, root]), {
    ok: false,
    code: 'intermediate-self-signed',
    message: 'intermediate certificate with subject "CN=Root" is self-signed. Certificate chain must not contain self-signed intermediate certificate',
    index: 3,
  });
  t.match(codeSigning([cs('codeSigningLeafInvalidPathLenPem'), cs('intermediateCertInvalidPathLenPem'), int2, int1, root]), {
    ok: false,
    code: 'path-length',
    message: 'certificate with subject "CN=Intermediate2": expected path length of 1 but certificate has path length 0 instead',
  });
  t.match(codeSigning([]), { ok: false, code: 'empty-chain', message: 'certificate chain must contain at least one certificate' });
  t.same(codeSigning(load(`${V}x509/testdata/openssl-minimum-self-signed.pem`)).ok, true, 'openssl minimum self-signed leaf');
});

t.test('CA certificate checks', async (t) => {
  t.same(validateCaCertificate(root, 2, 'codeSigning'), { ok: true });
  t.match(validateCaCertificate(root, 3, 'codeSigning'), { code: 'path-length', message: 'certificate with subject "CN=Root": expected path length of 3 but certificate has path length 2 instead' });
  const ca: [string, string, string][] = [
    ['noBasicConstraintsCaPem', 'basic-constraints', 'ca field in basic constraints must be present, critical, and set to true'],
    ['basicConstraintsNotCaPem', 'basic-constraints', 'ca field in basic constraints must be present, critical, and set to true'],
    ['kuNotCriticalCertSignCaPem', 'key-usage', 'key usage extension must be marked critical'],
    ['kuMissingCaPem', 'key-usage', 'key usage extension must be present'],
    ['kuNotCertSignCaPem', 'key-usage', 'key usage must have the bit positions for key cert sign set'],
  ];
  for (const [name, code, text] of ca) t.same(validateCaCertificate(cs(name), 3, 'codeSigning'), { ok: false, code, message: `certificate with subject "CN=Hello": ${text}` }, name);
});

t.test('leaf certificate checks', async (t) => {
  t.same(validateLeafCertificate(cs('validNoOptionsLeafPem'), 'codeSigning'), { ok: true });
  t.same(validateLeafCertificate(leaf, 'codeSigning'), { ok: true });
  const cases: [string, string, string][] = [
    ['caTrueLeafPem', 'basic-constraints', 'certificate with subject "CN=Hello": if the basic constraints extension is present, the ca field must be set to false'],
    ['kuNoDigitalSignatureLeafPem', 'key-usage', 'the certificate with subject "CN=Hello" is invalid. The key usage must have the bit positions for "Digital Signature" set'],
    ['kuWrongValuesLeafPem', 'key-usage', 'the certificate with subject "CN=Hello" is invalid. The key usage must be "Digital Signature" only, but found "CertSign", "CRLSign"'],
    ['rsaKeyTooSmallLeafPem', 'key-size', 'certificate with subject "CN=Hello": rsa key size 1024 bits is not supported'],
    ['ecdsaKeyTooSmallLeafPem', 'key-size', 'certificate with subject "CN=Hello": ecdsa key size 224 bits is not supported'],
    ['ekuWrongValuesCodeLeafPem', 'extended-key-usage', 'certificate with subject "CN=Hello": extended key usage must not contain ServerAuth eku'],
    ['ekuMissingCodeSigningLeafPem', 'extended-key-usage', 'certificate with subject "CN=Hello": extended key usage must not contain OCSPSigning eku'],
  ];
  for (const [name, code, message] of cases) t.same(validateLeafCertificate(cs(name), 'codeSigning'), { ok: false, code, message }, name);
});

t.test('timestamping leaf checks (timestamp_cert_validations_test.go)', async (t) => {
  const only = (cn: string) => `timestamp signing certificate with subject "CN=${cn}" must have and only have Timestamping as extended key usage`;
  t.same(validateLeafCertificate(cs('validNoOptionsLeafPem'), 'timestamping'), { ok: false, code: 'extended-key-usage', message: only('Hello') });
  const ts = (name: string) => load(`${TS}${name}.pem`)[0]!;
  t.same(validateLeafCertificate(ts('ekuNonCriticalTimeLeafPem'), 'timestamping'), {
    ok: false,
    code: 'extended-key-usage',
    message: 'timestamp signing certificate with subject "CN=TimeStampingLeaf" must have extended key usage extension marked as critical',
  });
  t.same(validateLeafCertificate(ts('ekuWrongValuesTimeLeafPem'), 'timestamping'), { ok: false, code: 'extended-key-usage', message: only('Hello') });
  t.same(validateLeafCertificate(ts('ekuMissingTimestampingLeafPem'), 'timestamping'), { ok: false, code: 'extended-key-usage', message: only('Hello') });
});

t.test('DigiCert timestamping chain (x509/testdata/timestamp_*.crt)', async (t) => {
  const [tl] = load(`${V}x509/testdata/timestamp_leaf.crt`);
  const [ti] = load(`${V}x509/testdata/timestamp_intermediate.crt`);
  const [tr] = load(`${V}x509/testdata/timestamp_root.crt`);
  t.equal(timestamping([tl!, ti!, tr!]).ok, true, '[leaf, intermediate, root] is valid');
  t.match(timestamping([tl!]), { code: 'invalid-self-signed', message: /^invalid self-signed certificate\. .*crypto\/rsa: verification error$/ });
  t.match(timestamping([tl!, ti!]), { code: 'root-not-self-signed', message: /^root certificate with subject "CN=DigiCert Trusted G4 RSA4096 SHA256 TimeStamping CA,O=DigiCert\\\\, Inc\.,C=US" is invalid or not self-signed/ });
  t.match(timestamping([tr!, tr!]), { code: 'leaf-self-signed' });
  t.match(timestamping([tl!, ti!, tr!, tr!]), { code: 'intermediate-self-signed' });
});

t.test('certificate files (x509/cert_test.go)', async (t) => {
  t.equal(load(`${V}x509/testdata/pem.crt`).length, 1);
  t.equal(load(`${V}x509/testdata/multi-pem.crt`).length, 2);
  t.equal(load(`${V}x509/testdata/der.der`).length, 1);
  t.equal(load(`${V}x509/testdata/multi-der.der`).length, 2);
  t.throws(() => load(`${V}x509/testdata/invalid`), X509ParseError);
  try {
    load(`${V}x509/testdata/invalid`);
  } catch (err) {
    t.equal((err as X509ParseError).code, 'malformed');
  }
});

t.test('FreshestCRL (delta CRL) extension parsing (revocation/crl/fetcher_test.go)', async (t) => {
  const d = `${V}revocation/crl/testdata/`;
  const c = (name: string) => load(`${d}${name}`)[0]!;
  t.match(deltaCrlUrl(c('certificateWithDeltaCRL.cer')), { ok: true, url: /cmd=deltacrl/ }, 'one delta URL');
  t.same(deltaCrlUrl(c('certificateWithZeroDeltaCRLURL.cer')), { ok: true, url: null }, 'zero URLs');
  t.same(deltaCrlUrl(c('certificateWithNonURIDeltaCRL.cer')), { ok: true, url: null }, 'non-URI general name is skipped');
  t.same(deltaCrlUrl(c('certificateWithIncompleteFreshestCRL.cer')), { ok: false, message: 'failed to parse Freshest CRL extension: x509: invalid CRL distribution point' });
  t.same(deltaCrlUrl(c('certificateWithIncompleteFreshestCRL2.cer')), { ok: true, url: null }, 'distribution point without a name');
  t.match(deltaCrlUrl(c('certificateWith2DeltaCRL.cer')), { ok: false, message: /multiple delta CRL URLs/ });
  t.match(c('certificateWithDeltaCRL.cer').crlDistributionPoints, [/cmd=crl/], 'CRL distribution points are decoded too');
});
