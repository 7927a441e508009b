/**
 * The DER decoders that replaced @peculiar/asn1-x509 / asn1-rsa in the certificate, signature and CRL parsers
 * (issue #16): extension-values.ts (RFC 5280 § 4.2.1.2, .3, .9, .12, § 4.2.2.1), rsa-pss-params.ts (RFC 4055
 * § 3.1) and crl.ts's entry extensions (§ 5.3.1, § 5.3.2). Real values from the vectors, checked against OpenSSL
 * (node:crypto X509Certificate) where it exposes the field, then edge and malformed encodings.
 */
import { constants, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseCertificates } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { decodeCrlReason, decodeInvalidityDate, parseCrl } from '../../../pki/crl.ts';
import { DerError } from '../../../pki/der.ts';
import {
  decodeAuthorityInfoAccess, decodeBasicConstraints, decodeExtKeyUsage, decodeKeyUsage, decodeSubjectKeyIdentifier,
} from '../../../pki/extension-values.ts';
import { EKU, KU, OID } from '../../../pki/extensions.ts';
import { decodePssParams } from '../../../pki/rsa-pss-params.ts';
import { publicKeyInfo, verifySignature } from '../../../pki/signature.ts';

const VECTORS = new URL('../../vectors/', import.meta.url);
const hx = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));

/** DER TLV builder for the crafted inputs (short and one-octet long lengths are all these need). */
function tlv(id: number, ...content: (Uint8Array | string)[]): Uint8Array {
  const body = Buffer.concat(content.map((c) => (typeof c === 'string' ? hx(c) : c)));
  const header = body.length < 0x80 ? [id, body.length] : body.length < 0x100 ? [id, 0x81, body.length] : [id, 0x82, body.length >> 8, body.length & 0xff];
  return Uint8Array.from([...header, ...body]);
}
const seq = (...c: (Uint8Array | string)[]) => tlv(0x30, ...c);
const withTrailing = (v: Uint8Array) => Uint8Array.from([...v, 0x00]);

const CHAIN = parseCertificates(readFileSync(new URL('notation/test/e2e/testdata/config/crl/certchain_with_crl.pem', VECTORS)));

t.test('real certificates: the notation e2e CRL chain', async (t) => {
  const [leaf, intermediate, root] = CHAIN as [Certificate, Certificate, Certificate];
  t.same(leaf.keyUsage, { bits: KU.digitalSignature, critical: true });
  t.same(intermediate.keyUsage, { bits: KU.keyCertSign | KU.cRLSign, critical: true });
  t.same(leaf.basicConstraints, { ca: false, pathLen: null, critical: true });
  t.same(intermediate.basicConstraints, { ca: true, pathLen: 0, critical: true });
  t.same(root.basicConstraints, { ca: true, pathLen: null, critical: true });
  t.equal(toHex(leaf.subjectKeyId), 'fe40590b95f9f61f7faff9e911ed89628b6a5db6');
  t.equal(toHex(root.subjectKeyId), 'acad82afc0e80afee8f79e8c62fedd2ba7216f10');
  t.same(intermediate.ocspServers, ['http://localhost.test/ocsp']);
  t.same(leaf.ocspServers, []);
});

t.test('every certificate in the vectors agrees with OpenSSL on EKU, cA and AIA', async (t) => {
  const files = ['notation', 'notation-go', 'notation-core-go', 'sigstore', 'notary'].flatMap((dir) => listCertFiles(new URL(`${dir}/`, VECTORS)));
  let certs = 0;
  let withAia = 0;
  for (const file of files) {
    let parsed: Certificate[];
    try {
      parsed = parseCertificates(readFileSync(file));
    } catch {
      continue; // keys, CRLs, deliberately broken certificates
    }
    for (const c of parsed) {
      const x = new X509Certificate(c.der);
      certs++;
      if (c.extKeyUsage) t.same([...c.extKeyUsage.oids].sort(), [...(x.keyUsage ?? [])].sort(), `${c.subject.string}: EKU`);
      // OpenSSL's `ca` (X509_check_ca) also wants keyCertSign when Key Usage is present.
      const canSign = c.keyUsage === null || (c.keyUsage.bits & KU.keyCertSign) !== 0;
      if (c.basicConstraints && canSign) t.equal(c.basicConstraints.ca, x.ca, `${c.subject.string}: cA`);
      const aia = x.infoAccess;
      if (aia !== undefined) {
        withAia++;
        const uris = (kind: string) => [...aia.matchAll(new RegExp(`^${kind} - URI:(.*)$`, 'gm'))].map((m) => m[1]);
        t.same(c.ocspServers, uris('OCSP'), `${c.subject.string}: AIA OCSP`);
        t.same(c.issuingCertificateUrls, uris('CA Issuers'), `${c.subject.string}: AIA caIssuers`);
      }
    }
  }
  t.ok(certs >= 50 && withAia >= 2, `${certs} certificates, ${withAia} with AIA`);
});

function listCertFiles(dir: URL): URL[] {
  const out: URL[] = [];
  const walk = (d: URL, depth: number) => {
    for (const e of readdirSyncSafe(d)) {
      if (e.isDirectory() && depth < 12) walk(new URL(`${e.name}/`, d), depth + 1);
      else if (/\.(pem|crt|cer|der)$/.test(e.name)) out.push(new URL(e.name, d));
    }
  };
  walk(dir, 0);
  return out;
}
function readdirSyncSafe(d: URL) {
  try {
    return readdirSync(d, { withFileTypes: true });
  } catch {
    return [];
  }
}

t.test('KeyUsage bit numbering (§ 4.2.1.3) and malformed BIT STRINGs', async (t) => {
  t.equal(decodeKeyUsage(hx('03020780')), KU.digitalSignature, 'bit 0, 7 unused bits');
  t.equal(decodeKeyUsage(hx('03020186')), KU.digitalSignature | KU.keyCertSign | KU.cRLSign, 'bits 0, 5, 6');
  t.equal(decodeKeyUsage(hx('0303070080')), KU.decipherOnly, 'bit 8 in the second octet');
  t.equal(decodeKeyUsage(hx('030200ff')), 0xff, 'bits 0–7, no unused bits');
  t.equal(decodeKeyUsage(hx('03020000')), 0, 'present, all zero');
  t.ok(Number.isNaN(decodeKeyUsage(hx('030100'))), 'no value octets: NaN, as BitString.toNumber() gave');
  t.equal(decodeKeyUsage(hx('030500ffffffff')), 2 ** 32 - 1, 'four value octets');
  for (const [bad, why] of [
    ['030107', 'unused bits without value octets'], ['03020880', 'more than 7 unused bits'], ['03020781', 'a set padding bit'],
    ['0302078000', 'trailing bytes'], ['04020780', 'OCTET STRING tag'], ['230403020780', 'constructed BIT STRING'],
    ['030600ffffffffff', 'more than four value octets'], ['0381020780', 'non-minimal length'], ['0300', 'empty content'],
  ] as const) t.throws(() => decodeKeyUsage(hx(bad)), DerError, why);
});

t.test('ExtKeyUsage (§ 4.2.1.12)', async (t) => {
  t.same(decodeExtKeyUsage(hx('300a06082b06010505070303')), [EKU.codeSigning]);
  t.same(decodeExtKeyUsage(hx('3000')), [], 'empty SEQUENCE is accepted, as Go does');
  t.same(decodeExtKeyUsage(seq(...Array.from({ length: 100 }, () => '06012a'))).length, 100, '100 purposes');
  t.throws(() => decodeExtKeyUsage(seq(...Array.from({ length: 101 }, () => '06012a'))), DerError, 'more than 100 purposes');
  for (const bad of ['300000', '300404020101', '3100', '300506032a8001', '30020600']) t.throws(() => decodeExtKeyUsage(hx(bad)), DerError, bad);
});

t.test('BasicConstraints (§ 4.2.1.9): cA DEFAULT FALSE, pathLenConstraint', async (t) => {
  t.same(decodeBasicConstraints(hx('3000')), { ca: false, pathLen: null }, 'empty: not a CA');
  t.same(decodeBasicConstraints(hx('30030101ff')), { ca: true, pathLen: null }, 'pathLen absent');
  t.same(decodeBasicConstraints(hx('30060101ff020100')), { ca: true, pathLen: 0 }, 'pathLen 0');
  t.same(decodeBasicConstraints(hx('30080101ff02037fffff')), { ca: true, pathLen: 0x7fffff }, 'largest pathLen');
  t.same(decodeBasicConstraints(hx('3003010100')), { ca: false, pathLen: null }, 'cA FALSE explicitly encoded: accepted, as before');
  t.same(decodeBasicConstraints(hx('3003020102')), { ca: false, pathLen: 2 }, 'pathLen without cA');
  for (const [bad, why] of [
    ['30090101ff02040080 0000', 'pathLen above 2^23 − 1'], ['30060101ff0201ff', 'negative pathLen'], ['30070101ff02020005', 'non-minimal INTEGER'],
    ['30060201000101ff', 'fields out of order'], ['3003010101', 'BOOLEAN 0x01 is not DER'], ['30090101ff020100020100', 'three fields'],
    ['30030101ff00', 'trailing bytes'], ['30060101ff0a0100', 'ENUMERATED for the INTEGER'], ['300401020000', 'two-octet BOOLEAN'], ['3100', 'SET'],
  ] as const) t.throws(() => decodeBasicConstraints(hx(bad)), DerError, why);
});

t.test('SubjectKeyIdentifier (§ 4.2.1.2)', async (t) => {
  t.equal(toHex(decodeSubjectKeyIdentifier(hx(`0414${'ab'.repeat(20)}`))), 'ab'.repeat(20));
  t.equal(toHex(decodeSubjectKeyIdentifier(hx('0400'))), '');
  for (const bad of ['04010100', '240504030102 03', '030100']) t.throws(() => decodeSubjectKeyIdentifier(hx(bad)), DerError, bad);
});

t.test('AuthorityInfoAccess (§ 4.2.2.1)', async (t) => {
  const OCSP = tlv(0x06, '2b06010505073001');
  const CA_ISSUERS = tlv(0x06, '2b06010505073002');
  const uri = (s: string | Uint8Array) => tlv(0x86, typeof s === 'string' ? Buffer.from(s) : s);
  t.same(decodeAuthorityInfoAccess(seq(seq(OCSP, uri('http://o')), seq(CA_ISSUERS, uri('http://c')))), [
    { method: OID.ocsp, uri: 'http://o' }, { method: OID.caIssuers, uri: 'http://c' },
  ]);
  t.same(decodeAuthorityInfoAccess(seq(seq(tlv(0x06, '2b06010505073005'), uri('http://r')))), [{ method: '1.3.6.1.5.5.7.48.5', uri: 'http://r' }], 'unknown access method is returned, callers skip it');
  t.same(decodeAuthorityInfoAccess(seq(seq(CA_ISSUERS, tlv(0x82, 'ab')))), [{ method: OID.caIssuers, uri: null }], 'dNSName: not a URI');
  t.same(decodeAuthorityInfoAccess(seq(seq(CA_ISSUERS, tlv(0xa4, seq())))), [{ method: OID.caIssuers, uri: null }], 'directoryName');
  t.same(decodeAuthorityInfoAccess(seq(seq(OCSP, tlv(0xa0, tlv(0x06, '2a0304'), tlv(0xa0, tlv(0x0c, '61')))))), [{ method: OID.ocsp, uri: null }], 'otherName');
  t.same(decodeAuthorityInfoAccess(seq(seq(OCSP, uri(hx('c3a9'))))), [{ method: OID.ocsp, uri: 'Ã©' }], 'octets read as latin1');
  t.same(decodeAuthorityInfoAccess(hx('3000')), []);
  t.equal(decodeAuthorityInfoAccess(seq(...Array.from({ length: 100 }, () => seq(OCSP, uri('u'))))).length, 100);
  for (const [bad, why] of [
    [seq(...Array.from({ length: 101 }, () => seq(OCSP, uri('u')))), 'more than 100 entries'],
    [withTrailing(seq(seq(OCSP, uri('http://a')))), 'trailing bytes'], [seq(seq(OCSP, uri('x'), uri('y'))), 'three fields'],
    [seq(seq(OCSP)), 'no location'], [seq(seq(uri('http://a'), OCSP)), 'swapped'], [seq(seq(OCSP, tlv(0x89, '61'))), 'no such GeneralName [9]'],
    [seq(seq(OCSP, tlv(0x0c, '61'))), 'a universal tag'], [seq(tlv(0x31, OCSP, uri('a'))), 'SET'],
    [seq(seq(OCSP, tlv(0xa0, tlv(0x86, '2a0304'), tlv(0xa0, tlv(0x0c, '61'))))), 'otherName without its OID'],
    [seq(seq(OCSP, tlv(0xa4, tlv(0x16, '61')))), 'directoryName that is not a Name'], [seq(seq(OCSP, hx('a0 03 06 05 2a'))), 'broken nesting inside a skipped name'],
  ] as const) t.throws(() => decodeAuthorityInfoAccess(bad), DerError, why);
});

const SHA256 = tlv(0x06, '608648016503040201');
const SHA384 = tlv(0x06, '608648016503040202');
const MGF1 = tlv(0x06, '2a864886f70d010108');
const NULL = hx('0500');
function pss(fields: { hash?: Uint8Array; mgf?: Uint8Array; salt?: number; trailer?: number }): Uint8Array {
  const f: Uint8Array[] = [];
  if (fields.hash) f.push(tlv(0xa0, fields.hash));
  if (fields.mgf) f.push(tlv(0xa1, fields.mgf));
  if (fields.salt !== undefined) f.push(tlv(0xa2, tlv(0x02, Uint8Array.of(fields.salt))));
  if (fields.trailer !== undefined) f.push(tlv(0xa3, tlv(0x02, Uint8Array.of(fields.trailer))));
  return seq(...f);
}
const SHA256_PSS = { hash: seq(SHA256, NULL), mgf: seq(MGF1, seq(SHA256, NULL)), salt: 32 };

t.test('RSASSA-PSS-params (RFC 4055 § 3.1)', async (t) => {
  // The encoding OpenSSL writes for rsa_pss_saltlen:32 with SHA-256.
  const openssl = hx('3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120');
  t.same(Buffer.from(pss(SHA256_PSS)), Buffer.from(openssl), 'the builder matches OpenSSL');
  const sha256 = { hashOid: '2.16.840.1.101.3.4.2.1', maskGenOid: '1.2.840.113549.1.1.8', maskGenHashOid: '2.16.840.1.101.3.4.2.1', saltLength: 32, trailerField: 1 };
  t.same(decodePssParams(openssl), sha256);
  t.same(decodePssParams(pss({ ...SHA256_PSS, trailer: 1 })), sha256, 'all four fields present (explicit trailer 1 accepted, as before)');
  t.same(decodePssParams(pss({ hash: seq(SHA256), mgf: seq(MGF1, seq(SHA256)), salt: 32 })), sha256, 'hash parameters absent instead of NULL');
  t.same(decodePssParams(hx('3000')), { hashOid: '1.3.14.3.2.26', maskGenOid: '1.2.840.113549.1.1.8', maskGenHashOid: '1.3.14.3.2.26', saltLength: 20, trailerField: 1 }, 'all defaults');
  t.match(decodePssParams(pss({ hash: seq(SHA384, NULL) })), { hashOid: '2.16.840.1.101.3.4.2.2', maskGenHashOid: '1.3.14.3.2.26', saltLength: 20 }, 'only the hash');
  t.match(decodePssParams(pss({ ...SHA256_PSS, mgf: seq(tlv(0x06, '2a0304'), NULL) })), { maskGenOid: '1.2.3.4', maskGenHashOid: null }, 'another MGF');
  for (const [bad, why] of [
    [withTrailing(openssl), 'trailing bytes'], [seq(tlv(0xa1, seq(MGF1, seq(SHA256))), tlv(0xa0, seq(SHA256))), 'fields out of order'],
    [seq(tlv(0xa2, '020120'), tlv(0xa2, '020120')), 'a field twice'], [seq(tlv(0xa4, '020101')), 'no field [4]'],
    [seq(tlv(0x80, seq(SHA256))), 'an IMPLICIT (primitive) tag'], [seq(tlv(0xa2, '0a0120')), 'saltLength ENUMERATED'],
    [seq(tlv(0xa2, '02020020')), 'non-minimal saltLength'], [seq(tlv(0xa0, seq(SHA256), seq(SHA256))), 'two elements in [0]'],
    [pss({ ...SHA256_PSS, mgf: seq(MGF1) }), 'MGF1 without its hash'], [hx('0500'), 'NULL'],
  ] as const) t.throws(() => decodePssParams(bad), DerError, why);
});

t.test('verifySignature accepts exactly Go\'s PSS parameter sets, on a real RSA-PSS signature', async (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = publicKeyInfo(publicKey.export({ format: 'der', type: 'spki' }));
  const data = Buffer.from('tbs bytes');
  const sig = sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  const RSA_PSS = '1.2.840.113549.1.1.10';
  const verify = (params: Uint8Array | null) => verifySignature({ oid: RSA_PSS, params }, data, sig, key);
  t.equal(verify(pss(SHA256_PSS)), null, 'SHA-256, MGF1-SHA-256, salt 32');
  t.equal(verify(pss({ ...SHA256_PSS, trailer: 1 })), null, 'explicit trailer 1');
  t.equal(verify(pss({ hash: seq(SHA256), mgf: seq(MGF1, seq(SHA256)), salt: 32 })), null, 'hash parameters absent');
  t.match(verify(pss({ ...SHA256_PSS, salt: 20 })), { reason: 'unsupported-algorithm' }, 'salt ≠ hash length');
  t.match(verify(pss({ ...SHA256_PSS, mgf: seq(MGF1, seq(SHA384, NULL)) })), { reason: 'unsupported-algorithm' }, 'MGF hash ≠ hash');
  t.match(verify(pss({ ...SHA256_PSS, trailer: 2 })), { reason: 'unsupported-algorithm' }, 'trailer 2');
  t.match(verify(hx('3000')), { reason: 'unsupported-algorithm' }, 'all defaults: SHA-1');
  t.match(verify(null), { reason: 'unsupported-algorithm' }, 'no parameters');
  t.match(verify(withTrailing(pss(SHA256_PSS))), { reason: 'unsupported-algorithm' }, 'trailing bytes');
  t.match(verify(pss({ hash: seq(SHA384, NULL), mgf: seq(MGF1, seq(SHA384, NULL)), salt: 48 })), { reason: 'bad-signature' }, 'valid SHA-384 parameters, wrong signature');
});

t.test('CRL entry extensions: CRLReason (§ 5.3.1), InvalidityDate (§ 5.3.2)', async (t) => {
  const crl = parseCrl(readFileSync(new URL('notation/test/e2e/testdata/config/crl/leaf_revoked.crl', VECTORS)));
  const entries = [...crl.entries.values()].flat();
  t.ok(entries.length >= 1 && entries.every((e) => e.reasonCode === null || Number.isInteger(e.reasonCode)), 'the vector CRL parses');
  t.equal(decodeCrlReason(hx('0a0101')), 1, 'keyCompromise');
  t.equal(decodeCrlReason(hx('0a0106')), 6, 'certificateHold');
  t.equal(decodeCrlReason(hx('0a0107')), 7, 'unused value 7 is kept (named by nobody)');
  t.equal(decodeCrlReason(hx('0a0163')), 99, 'out of the list');
  t.equal(decodeCrlReason(hx('0a01ff')), -1, 'negative');
  for (const bad of ['0a020001', '020101', '0a010100', '0a00']) t.throws(() => decodeCrlReason(hx(bad)), DerError, bad);
  const gt = (s: string, id = 0x18) => tlv(id, Buffer.from(s, 'latin1'));
  t.same(decodeInvalidityDate(gt('20260101000000Z')), new Date('2026-01-01T00:00:00Z'));
  t.same(decodeInvalidityDate(gt('20260101000000.123Z')), new Date('2026-01-01T00:00:00.123Z'));
  for (const [bad, why] of [
    [gt('20260101000000'), 'local time'], [gt('20260101000000+0100'), 'offset'], [gt('260101000000Z', 0x17), 'UTCTime'],
    [withTrailing(gt('20260101000000Z')), 'trailing bytes'], [gt('20261301000000Z'), 'month 13'], [gt('20260229000000Z'), '29 February 2026'],
    [gt('20260101000000.Z'), 'empty fraction'], [gt('202601010000Z'), 'no seconds'],
  ] as const) t.throws(() => decodeInvalidityDate(bad), DerError, why);
});
