/**
 * Chains made in the test (make-certs.ts) for the profile rules the vectors do not isolate: EKU, CA leaf,
 * pathLen, untrusted root, expired intermediate, small RSA keys, unknown critical extensions, tampering.
 */
import t from 'tap';
import { parseCertificate } from '../../../pki/certificate.ts';
import { validateSigningChain } from '../../../pki/chain.ts';
import type { ChainOptions } from '../../../pki/chain.ts';
import { chainsToTrustStore } from '../../../pki/trust.ts';
import { EKU_OIDS, KU_FLAGS, makeChain } from './make-certs.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const codeSigning = (chain: readonly Uint8Array[], extra: Partial<ChainOptions> = {}) => validateSigningChain(chain, { purpose: 'codeSigning', now: NOW, ...extra });

t.test('a well-formed EC P-256 chain validates and chains to its root', async (t) => {
  const { chain } = await makeChain({ leaf: { eku: [EKU_OIDS.codeSigning] } });
  t.equal(codeSigning(chain).ok, true);
  t.match(chainsToTrustStore(chain, [chain[2]!]), { ok: true, chainIndex: 2 }, 'root in the trust store');
  t.match(chainsToTrustStore(chain, [chain[1]!]), { ok: true, chainIndex: 1 }, 'an intermediate in the trust store also counts (notation rule)');
});

t.test('untrusted root', async (t) => {
  const a = await makeChain();
  const b = await makeChain();
  t.equal(codeSigning(a.chain).ok, true, 'chain itself is fine');
  t.same(chainsToTrustStore(a.chain, [b.chain[2]!]), { ok: false, code: 'untrusted', message: "the signature's certificate chain does not contain any trusted certificate" });
  t.same(chainsToTrustStore(a.chain, []), { ok: false, code: 'no-trust-anchors', message: 'no trusted certificates are found to verify authenticity' });
});

t.test('extended key usage of a code-signing leaf', async (t) => {
  const server = await makeChain({ leaf: { eku: [EKU_OIDS.serverAuth] } });
  t.same(codeSigning(server.chain), {
    ok: false, code: 'extended-key-usage', index: 0,
    message: 'certificate with subject "CN=Test Leaf": extended key usage must not contain ServerAuth eku',
  }, 'EKU without codeSigning but with serverAuth is rejected');
  const ts = await makeChain({ leaf: { eku: [EKU_OIDS.timeStamping] } });
  t.match(codeSigning(ts.chain), { code: 'extended-key-usage', message: /must not contain Timestamping eku/ });
  const custom = await makeChain({ leaf: { eku: [EKU_OIDS.custom] } });
  t.equal(codeSigning(custom.chain).ok, true, 'EKU without codeSigning: accepted, as in notation-core-go (spec: "MAY contain")');
  t.match(codeSigning(custom.chain, { requireCodeSigningEku: true }), { code: 'extended-key-usage', message: /must contain CodeSigning eku/ }, 'strict opt-in');
  t.equal(codeSigning((await makeChain({ leaf: { eku: [EKU_OIDS.codeSigning] } })).chain, { requireCodeSigningEku: true }).ok, true);
});

t.test('timestamping chain profile', async (t) => {
  const good = await makeChain({ leaf: { eku: [EKU_OIDS.timeStamping], ekuCritical: true } });
  t.equal(validateSigningChain(good.chain, { purpose: 'timestamping', now: NOW }).ok, true);
  const nonCritical = await makeChain({ leaf: { eku: [EKU_OIDS.timeStamping], ekuCritical: false } });
  t.match(validateSigningChain(nonCritical.chain, { purpose: 'timestamping', now: NOW }), { code: 'extended-key-usage', message: /marked as critical/ });
  const kuNonCritical = await makeChain({ leaf: { eku: [EKU_OIDS.timeStamping], ekuCritical: true, keyUsageCritical: false } });
  t.equal(validateSigningChain(kuNonCritical.chain, { purpose: 'timestamping', now: NOW }).ok, true, 'TSA leaf key usage need not be critical');
  t.match(codeSigning((await makeChain({ leaf: { keyUsageCritical: false } })).chain), { code: 'key-usage', message: /key usage extension must be marked critical/ }, 'code-signing leaf key usage must be');
});

t.test('CA certificate as leaf', async (t) => {
  const { chain } = await makeChain({ leaf: { ca: true, keyUsage: KU_FLAGS.digitalSignature } });
  t.same(codeSigning(chain), {
    ok: false, code: 'basic-constraints', index: 0,
    message: 'certificate with subject "CN=Test Leaf": if the basic constraints extension is present, the ca field must be set to false',
  });
});

t.test('pathLenConstraint', async (t) => {
  const violated = await makeChain({ root: { pathLen: 0 } });
  t.same(codeSigning(violated.chain), {
    ok: false, code: 'path-length', index: 2,
    message: 'certificate with subject "CN=Test Root": expected path length of 1 but certificate has path length 0 instead',
  });
  t.equal(codeSigning((await makeChain({ root: { pathLen: 1 }, intermediates: [{ pathLen: 0 }] })).chain).ok, true, 'exact bounds are fine');
  const two = await makeChain({ root: { pathLen: 1 }, intermediates: [{ cn: 'I2' }, { cn: 'I1' }] });
  t.match(codeSigning(two.chain), { code: 'path-length', index: 3 }, 'two intermediates under pathLen 1');
});

t.test('expired intermediate', async (t) => {
  const { chain } = await makeChain({ intermediates: [{ cn: 'Old Intermediate', notAfter: new Date('2025-06-30T00:00:00Z') }] });
  t.same(codeSigning(chain), {
    ok: false, code: 'expired', index: 1,
    message: 'verification time is after certificate "CN=Old Intermediate" validity period, it was expired at "Mon, 30 Jun 2025 00:00:00 +0000"',
  });
  t.equal(codeSigning(chain, { validAt: new Date('2025-01-01T00:00:00Z') }).ok, true, 'valid at an (authentic) earlier time');
  t.equal(codeSigning(chain, { validAt: null }).ok, true, 'validity left to a later step');
  t.match(codeSigning(chain, { validAt: new Date('2025-07-01T00:00:00Z') }), { code: 'expired', message: /^certificate with subject "CN=Old Intermediate" was invalid at signing time of 2025-07-01 00:00:00 \+0000 UTC/ });
});

t.test('RSA key sizes', async (t) => {
  const small = await makeChain({ leaf: { rsaBits: 1024 } });
  t.same(codeSigning(small.chain), { ok: false, code: 'key-size', index: 0, message: 'certificate with subject "CN=Test Leaf": rsa key size 1024 bits is not supported' });
  const rsa = await makeChain({ leaf: { rsaBits: 2048 }, intermediates: [{ rsaBits: 2048 }], root: { rsaBits: 2048 } });
  t.equal(codeSigning(rsa.chain).ok, true, 'RSA-2048 chain with PKCS #1 v1.5 signatures');
  t.equal(parseCertificate(rsa.chain[0]!).publicKey.bits, 2048);
});

t.test('unknown critical extensions (RFC 5280 § 4.2)', async (t) => {
  const ext = [['1.3.6.1.4.1.55555.9', true, Uint8Array.of(0x05, 0x00)]] as const;
  const { chain } = await makeChain({ leaf: { extra: ext } });
  t.same(codeSigning(chain), { ok: false, code: 'unhandled-critical-extension', index: 0, message: 'certificate with subject "CN=Test Leaf" has unhandled critical extension(s) 1.3.6.1.4.1.55555.9' });
  t.equal(codeSigning(chain, { unknownCriticalExtensions: 'ignore' }).ok, true, 'notation-core-go behaviour on request');
  const nonCritical = await makeChain({ intermediates: [{ extra: [['1.3.6.1.4.1.55555.9', false, Uint8Array.of(0x05, 0x00)]] }] });
  t.equal(codeSigning(nonCritical.chain).ok, true, 'non-critical unknown extensions are ignored');
});

t.test('issuer that may not sign certificates, tampered signature, bounds', async (t) => {
  const noCertSign = await makeChain({ intermediates: [{ keyUsage: KU_FLAGS.digitalSignature }] });
  t.match(codeSigning(noCertSign.chain), { code: 'not-issued-by', index: 0, message: /parent certificate cannot sign this kind of certificate$/ });
  const noKu = await makeChain({ leaf: { keyUsage: null } });
  t.match(codeSigning(noKu.chain), { code: 'key-usage', message: /key usage extension must be present$/ });
  const { chain } = await makeChain();
  const tampered = Uint8Array.from(chain[0]!);
  tampered[tampered.length - 5]! ^= 0x01;
  t.match(codeSigning([tampered, chain[1]!, chain[2]!]), { ok: false, index: 0 }, 'a flipped signature byte breaks the chain');
  t.match(codeSigning(Array.from({ length: 11 }, () => chain[0]!)), { code: 'too-large' }, 'chain length ≤ 10');
  t.match(codeSigning([Uint8Array.of(1, 2, 3)]), { code: 'malformed', index: 0 });
});

t.test('key usage bits (RFC 5280 § 4.2.1.3 bit order, nine bits)', async (t) => {
  const leafWith = async (keyUsage: number) => parseCertificate((await makeChain({ leaf: { keyUsage } })).chain[0]!);
  const decipher = await leafWith(KU_FLAGS.digitalSignature | KU_FLAGS.decipherOnly);
  t.same(decipher.keyUsage, { bits: 0x101, critical: true }, 'decipherOnly is bit 8, in the second octet');
  t.match(codeSigning([decipher.der]), { code: 'invalid-self-signed' }, 'leaf alone is not self-signed');
  const { validateLeafKeyUsage } = await import('../../../pki/profile.ts');
  t.match(validateLeafKeyUsage(decipher, 'codeSigning'), { message: /but found "DecipherOnly"$/ });
  t.same(validateLeafKeyUsage(await leafWith(KU_FLAGS.digitalSignature | KU_FLAGS.nonRepudiation), 'codeSigning'), { ok: true }, 'nonRepudiation (contentCommitment) is allowed');
  t.match(validateLeafKeyUsage(await leafWith(KU_FLAGS.digitalSignature | KU_FLAGS.keyAgreement | KU_FLAGS.encipherOnly), 'codeSigning'), { message: /but found "KeyAgreement", "EncipherOnly"$/ });
});
