/**
 * OCSP primitive (pki/ocsp.ts, ocsp-check.ts): requests (RFC 6960 § 4.1) and BasicOCSPResponses
 * (§ 4.2) signed in the test — by the issuer, by delegated responders with and without id-kp-OCSPSigning
 * (§ 4.2.2.2), by strangers — plus the notation e2e OCSP vectors (config/ocsp: LeafCert → RootCA, delegated
 * responder OCSPResponder), answered by our builder and by `openssl ocsp` as upstream does. A fast-check property: arbitrary bytes never escape the parser as anything but OcspError.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import fc from 'fast-check';
import t from 'tap';
import { parseCertificate, parseCertificates } from '../../../pki/certificate.ts';
import { buildOcspRequest, certIdHashes, checkOcspResponse, MAX_OCSP_RESPONSE_BYTES, OcspError, parseOcspResponse } from '../../../pki/ocsp.ts';
import { EKU_OIDS, issue, makeChain } from './make-certs.ts';
import { errorResponse, makeOcspResponse } from './make-ocsp.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const made = await makeChain({ leaf: { ocspUrl: 'http://ocsp.test/' } });
const [leaf, ica] = [parseCertificate(made.chain[0]!), parseCertificate(made.chain[1]!)];
const base = { cert: made.chain[0]!, issuer: made.chain[1]!, signer: made.issued[1]! };
const check = (bytes: Uint8Array, now = NOW) => checkOcspResponse(bytes, leaf, ica, { now });

t.test('request: one CertID with SHA-256 (default) or SHA-1 hashes of issuer name and key, and the serial', async (t) => {
  t.same(leaf.ocspServers, ['http://ocsp.test/']);
  for (const hash of ['sha256', 'sha1'] as const) {
    const req = AsnConvert.parse(buildOcspRequest(leaf, ica, { hash }), OCSPRequest);
    t.equal(req.tbsRequest.requestList.length, 1);
    const id = req.tbsRequest.requestList[0]!.reqCert;
    const want = certIdHashes(leaf, ica, hash);
    t.same(new Uint8Array(id.issuerNameHash.buffer), new Uint8Array(want.nameHash));
    t.same(new Uint8Array(id.issuerKeyHash.buffer), new Uint8Array(want.keyHash));
    t.equal(BigInt(`0x${Buffer.from(id.serialNumber).toString('hex')}`), leaf.serialNumber);
    t.equal(req.optionalSignature, undefined, 'unsigned');
  }
  t.throws(() => buildOcspRequest(leaf, ica, { hash: 'md5' as 'sha1' }), OcspError);
});

t.test('statuses from the issuer: good, revoked (time, reason), unknown', async (t) => {
  const good = check(makeOcspResponse(base, NOW));
  t.match(good, { ok: true, delegated: false, status: { status: 'good' } });
  const revokedAt = new Date('2025-06-01T00:00:00Z');
  const revoked = check(makeOcspResponse({ ...base, status: 'revoked', revokedAt, reason: 1, invalidity: new Date('2025-05-01T00:00:00Z') }, NOW));
  t.match(revoked, { ok: true, status: { status: 'revoked', revokedAt, reason: 'keyCompromise', invalidityDate: new Date('2025-05-01T00:00:00Z') } });
  t.match(check(makeOcspResponse({ ...base, status: 'revoked' }, NOW)), { ok: true, status: { status: 'revoked', reason: null } });
  t.match(check(makeOcspResponse({ ...base, status: 'unknown' }, NOW)), { ok: true, status: { status: 'unknown' } });
  t.match(check(makeOcspResponse({ ...base, responderBy: 'key', hash: 'sha1' }, NOW)), { ok: true, status: { status: 'good' } }, 'ResponderID byKey, SHA-1 CertID');
  t.match(check(makeOcspResponse({ ...base, hash: 'sha384' }, NOW)), { ok: true });
});

t.test('signer: wrong key, stranger, delegated responder with / without OCSPSigning', async (t) => {
  const stranger = await makeChain({ intermediates: [{ cn: 'Stranger CA' }] });
  // Named as the issuer but signed with another key.
  const forged = { der: made.chain[1]!, keys: stranger.issued[1]!.keys };
  t.match(check(makeOcspResponse({ ...base, signer: forged }, NOW)), { ok: false, code: 'ocsp-signature' });
  // A stranger CA names itself and includes its certificate.
  t.match(check(makeOcspResponse({ ...base, signer: stranger.issued[1]!, include: [stranger.chain[1]!] }, NOW)), { ok: false, code: 'ocsp-responder' });
  t.match(check(makeOcspResponse({ ...base, signer: stranger.issued[1]! }, NOW)), { ok: false, code: 'ocsp-responder', message: /neither/ });

  const delegated = await issue({ cn: 'OCSP Responder', eku: [OCSP_SIGNING] }, made.issued[1]!, false);
  const ok = check(makeOcspResponse({ ...base, signer: delegated, include: [delegated.der], status: 'revoked' }, NOW));
  t.match(ok, { ok: true, delegated: true, status: { status: 'revoked' } });
  t.match(check(makeOcspResponse({ ...base, signer: delegated, include: [delegated.der], responderBy: 'key' }, NOW)), { ok: true, delegated: true });
  t.match(check(makeOcspResponse({ ...base, signer: delegated }, NOW)), { ok: false, code: 'ocsp-responder' }, 'responder cert not included');

  const noEku = await issue({ cn: 'Not A Responder', eku: [EKU_OIDS.codeSigning] }, made.issued[1]!, false);
  t.match(check(makeOcspResponse({ ...base, signer: noEku, include: [noEku.der] }, NOW)), { ok: false, code: 'ocsp-responder', message: /OCSPSigning/ });
  const noEkuAtAll = await issue({ cn: 'No EKU' }, made.issued[1]!, false);
  t.match(check(makeOcspResponse({ ...base, signer: noEkuAtAll, include: [noEkuAtAll.der] }, NOW)), { ok: false, code: 'ocsp-responder' });
  // Issued by the root, not by the leaf's issuer (§ 4.2.2.2: "issued directly by the CA").
  const byRoot = await issue({ cn: 'Root Responder', eku: [OCSP_SIGNING] }, made.issued[2]!, false);
  t.match(check(makeOcspResponse({ ...base, signer: byRoot, include: [byRoot.der] }, NOW)), { ok: false, code: 'ocsp-responder', message: /not issued by/ });
  const expired = await issue({ cn: 'Old Responder', eku: [OCSP_SIGNING], notAfter: new Date('2025-01-01T00:00:00Z') }, made.issued[1]!, false);
  t.match(check(makeOcspResponse({ ...base, signer: expired, include: [expired.der] }, NOW)), { ok: false, code: 'ocsp-responder', message: /not valid/ });
});

t.test('freshness and matching', async (t) => {
  t.match(check(makeOcspResponse({ ...base, nextUpdate: new Date('2025-12-31T23:00:00Z') }, NOW)), { ok: false, code: 'ocsp-expired' });
  t.match(check(makeOcspResponse({ ...base, nextUpdate: NOW }, NOW)), { ok: false, code: 'ocsp-expired' }, 'nextUpdate must be after now');
  t.match(check(makeOcspResponse({ ...base, nextUpdate: null }, NOW)), { ok: false, code: 'ocsp-no-next-update' });
  t.match(check(makeOcspResponse({ ...base, thisUpdate: new Date(NOW.getTime() + 3600_000) }, NOW)), { ok: false, code: 'ocsp-not-yet-valid' });
  t.match(check(makeOcspResponse({ ...base, thisUpdate: new Date(NOW.getTime() + 60_000) }, NOW)), { ok: true }, 'within the clock skew');
  t.match(check(makeOcspResponse({ ...base, serial: leaf.serialNumber + 1n }, NOW)), { ok: false, code: 'ocsp-no-matching-response' });
  const other = await makeChain();
  t.match(check(makeOcspResponse({ ...base, issuer: other.chain[1]! }, NOW)), { ok: false, code: 'ocsp-no-matching-response' }, 'CertID of another issuer');
  const critical = new Extension({ extnID: '1.3.6.1.4.1.55555.9', critical: true, extnValue: new OctetString(new Uint8Array([5, 0])) });
  t.match(check(makeOcspResponse({ ...base, responseExtensions: [critical] }, NOW)), { ok: false, code: 'ocsp-unsupported-critical-extension' });
  const nonce = new Extension({ extnID: '1.3.6.1.5.5.7.48.1.2', critical: true, extnValue: new OctetString(new Uint8Array([4, 1, 7])) });
  t.match(check(makeOcspResponse({ ...base, responseExtensions: [nonce] }, NOW)), { ok: true });
});

t.test('unsuccessful, malformed and oversized responses', async (t) => {
  for (const [status, name] of [[1, 'malformedRequest'], [2, 'internalError'], [3, 'tryLater'], [5, 'sigRequired'], [6, 'unauthorized']] as const) {
    t.match(check(new Uint8Array(AsnConvert.serialize(errorResponse(status)))), { ok: false, code: 'ocsp-unsuccessful', message: new RegExp(name) });
  }
  t.match(check(new Uint8Array(AsnConvert.serialize(errorResponse(0)))), { ok: false, code: 'ocsp-malformed' });
  t.match(check(new Uint8Array([0x30, 0x03, 0x0a, 0x01])), { ok: false, code: 'ocsp-malformed' });
  t.match(check(new Uint8Array(MAX_OCSP_RESPONSE_BYTES + 1)), { ok: false, code: 'ocsp-too-large' });
  const good = makeOcspResponse(base, NOW);
  const flipped = new Uint8Array(good);
  flipped[flipped.length - 10]! ^= 0x01; // inside the signature
  t.match(check(flipped), { ok: false, code: /ocsp-signature|ocsp-malformed/ });
});

t.test('notation e2e OCSP vectors: LeafCert → RootCA, delegated responder OCSPResponder', async (t) => {
  const dir = new URL('../../vectors/notation/test/e2e/testdata/config/ocsp/', import.meta.url).pathname;
  const [vLeaf, vRoot] = parseCertificates(readFileSync(`${dir}certchain_with_ocsp.pem`)) as [ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>];
  const responder = readFileSync(`${dir}ocsp.crt`);
  const responderDer = parseCertificates(responder)[0]!.der;
  t.same(vLeaf.ocspServers, ['http://localhost:10087']);
  const signer = { der: responderDer, keys: { privateKey: createPrivateKey(readFileSync(`${dir}ocsp.key`)) } };
  const spec = { cert: vLeaf.der, issuer: vRoot.der, signer, include: [responderDer] };
  t.match(checkOcspResponse(makeOcspResponse(spec, NOW), vLeaf, vRoot, { now: NOW }), { ok: true, delegated: true, status: { status: 'good' } });
  t.match(checkOcspResponse(makeOcspResponse({ ...spec, status: 'revoked', reason: 1 }, NOW), vLeaf, vRoot, { now: NOW }), { ok: true, status: { status: 'revoked', reason: 'keyCompromise' } });

  // Upstream answers with `openssl ocsp` live; so does this test (the clock is the real one). openssl is a test
  // peer that `npm test`'s pretest installs (test/harness/ensure-peers.ts), so without it this fails, not skips.
  await t.test('openssl ocsp responder', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'ocsp-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    writeFileSync(join(tmp, 'req.der'), buildOcspRequest(vLeaf, vRoot));
    const answer = (index: string) => {
      writeFileSync(join(tmp, 'index.txt'), index);
      execFileSync('openssl', ['ocsp', '-index', join(tmp, 'index.txt'), '-CA', `${dir}root.crt`, '-rsigner', `${dir}ocsp.crt`, '-rkey', `${dir}ocsp.key`, '-reqin', join(tmp, 'req.der'), '-respout', join(tmp, 'resp.der'), '-ndays', '1'], { stdio: 'ignore' });
      return new Uint8Array(readFileSync(join(tmp, 'resp.der')));
    };
    const serial = vLeaf.serialHex.toUpperCase();
    const subject = '/C=US/ST=State/L=City/O=Organization/OU=OrgUnit/CN=LeafCert';
    const now = new Date();
    t.match(checkOcspResponse(answer(`V\t21250121012109Z\t\t${serial}\tunknown\t${subject}\n`), vLeaf, vRoot, { now }), { ok: true, delegated: true, status: { status: 'good' } });
    t.match(checkOcspResponse(answer(`R\t21250121012109Z\t250301000000Z,keyCompromise\t${serial}\tunknown\t${subject}\n`), vLeaf, vRoot, { now }), { ok: true, status: { status: 'revoked', reason: 'keyCompromise', revokedAt: new Date('2025-03-01T00:00:00Z') } });
    t.match(checkOcspResponse(answer(''), vLeaf, vRoot, { now }), { ok: true, status: { status: 'unknown' } });
  });
});

t.test('property: arbitrary bytes and mutated responses only ever fail with OcspError', async (t) => {
  const good = makeOcspResponse(base, NOW);
  const runs = Number(process.env['FUZZ_RUNS'] ?? 400);
  const parseOnly = (bytes: Uint8Array) => {
    try {
      parseOcspResponse(bytes);
    } catch (err) {
      if (!(err instanceof OcspError)) throw err;
    }
    const r = check(bytes);
    if (r.ok !== true && r.ok !== false) throw new Error('not an OcspCheck');
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), parseOnly), { numRuns: runs });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (flips, cut) => {
      const m = new Uint8Array(good);
      for (const [i, v] of flips) m[i] = v;
      parseOnly(m);
      parseOnly(m.subarray(0, cut));
    }),
    { numRuns: runs },
  );
  t.pass('no untyped error escaped');
});
