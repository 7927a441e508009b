/**
 * CRL checks: the notation e2e CRL chain (README § 2.3, test/e2e/testdata/config/crl) and CRLs signed in the test
 * for the rules of notation-core-go `revocation/internal/crl` (hold / remove, invalidity date, staleness, …).
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseCertificate, parseCertificates } from '../../../pki/certificate.ts';
import { checkCertificateAgainstCrl, CrlParseError, lookupSerial, parseCrl, verifyCrl } from '../../../pki/crl.ts';
import { deltaCrlUrl } from '../../../pki/extensions.ts';
import { KU_FLAGS, makeChain, makeCrl } from './make-certs.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const E2E = `${V}notation/test/e2e/testdata/config/crl/`;
const NOW = new Date('2026-01-01T00:00:00Z');
const [leaf, intermediate, root] = parseCertificates(readFileSync(`${E2E}certchain_with_crl.pem`)) as [ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>, ReturnType<typeof parseCertificate>];
const crl = (name: string) => readFileSync(E2E + name);

t.test('notation e2e CRL chain', async (t) => {
  t.equal(leaf.serialNumber, 0x1000n);
  t.equal(intermediate.serialNumber, 0x1002n);
  t.same(leaf.crlDistributionPoints, ['http://localhost:10086/leaf.crl']);
  t.same(intermediate.crlDistributionPoints, ['http://localhost:10086/intermediate.crl']);
  t.same(intermediate.ocspServers, ['http://localhost.test/ocsp']);
  t.same(checkCertificateAgainstCrl(leaf, intermediate, crl('leaf.crl'), { now: NOW }), { status: 'good' }, 'leaf.crl: not revoked');
  t.same(checkCertificateAgainstCrl(leaf, intermediate, crl('leaf_revoked.crl'), { now: NOW }), {
    status: 'revoked', revokedAt: new Date('2024-11-11T05:30:52Z'), reason: null, invalidityDate: null,
  }, 'leaf_revoked.crl: serial 0x1000 is revoked');
  t.same(checkCertificateAgainstCrl(intermediate, root, crl('intermediate.crl'), { now: NOW }), { status: 'good' });
  t.match(checkCertificateAgainstCrl(intermediate, root, crl('intermediate_revoked.crl'), { now: NOW }), { status: 'revoked', revokedAt: new Date('2024-11-11T05:30:51Z') });
  t.match(checkCertificateAgainstCrl(leaf, root, crl('leaf.crl'), { now: NOW }), { status: 'unknown', code: 'crl-issuer-mismatch' }, 'CRL checked against the wrong CA');

  const stale = parseCrl(crl('leaf_expired.crl'));
  t.same(stale.nextUpdate, new Date('2023-12-25T08:15:42Z'), 'leaf_expired.crl: nextUpdate 2023-12-25');
  t.match(checkCertificateAgainstCrl(leaf, intermediate, crl('leaf_expired.crl'), { now: NOW }), { status: 'unknown' }, 'stale CRL (signed by an older IntermediateCA key) is never "good"');

  const pem = `-----BEGIN X509 CRL-----\n${crl('leaf_revoked.crl').toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
  t.match(checkCertificateAgainstCrl(leaf, intermediate, pem, { now: NOW }), { status: 'revoked' }, 'PEM form');
  t.equal(parseCrl(crl('leaf_revoked.crl')).crlNumber !== null, true);
});

t.test('revoked serial in a CRL signed in the test', async (t) => {
  const { chain, issued } = await makeChain();
  const cert = parseCertificate(chain[0]!);
  const ca = parseCertificate(chain[1]!);
  const serial = cert.serialHex;
  const check = async (spec: Omit<Parameters<typeof makeCrl>[0], 'issuer'>, opts: { signingTime?: Date; now?: Date } = {}) =>
    checkCertificateAgainstCrl(cert, ca, await makeCrl({ issuer: issued[1]!, ...spec }), { now: opts.now ?? NOW, ...(opts.signingTime ? { signingTime: opts.signingTime } : {}) });

  t.same(await check({ entries: [] }), { status: 'good' });
  t.same(await check({ entries: [{ serial: '7777' }] }), { status: 'good' }, 'other serials do not matter');
  t.same(await check({ entries: [{ serial, reason: 1, revoked: new Date('2025-03-01T00:00:00Z') }] }), {
    status: 'revoked', revokedAt: new Date('2025-03-01T00:00:00Z'), reason: 'keyCompromise', invalidityDate: null,
  });
  t.match(await check({ entries: [{ serial, reason: 6 }] }), { status: 'revoked', reason: 'certificateHold' }, 'on hold');
  const held = parseCrl(await makeCrl({ issuer: issued[1]!, entries: [{ serial, reason: 6, revoked: new Date('2025-01-01T00:00:00Z') }] }));
  const released = parseCrl(await makeCrl({ issuer: issued[1]!, entries: [{ serial, reason: 8, revoked: new Date('2025-02-01T00:00:00Z') }], extra: [['2.5.29.27', true, Uint8Array.of(2, 1, 1)]] }));
  t.same(lookupSerial(held, cert.serialNumber, { delta: released }), { status: 'good' }, 'hold released by a later removeFromCRL');
  t.match(lookupSerial(released, cert.serialNumber, { delta: held }), { status: 'good' }, 'the most recent hold/remove entry decides, whatever list it is in');
  const invalid = new Date('2025-06-01T00:00:00Z');
  t.same(await check({ entries: [{ serial, reason: 1, invalidity: invalid }] }, { signingTime: new Date('2025-05-01T00:00:00Z') }), { status: 'good' }, 'signed before the invalidity date');
  t.match(await check({ entries: [{ serial, reason: 1, invalidity: invalid }] }, { signingTime: new Date('2025-07-01T00:00:00Z') }), { status: 'revoked', invalidityDate: invalid });

  t.match(await check({ nextUpdate: new Date('2025-12-31T00:00:00Z') }), { status: 'unknown', code: 'crl-expired', message: /^expired CRL\. Current time/ });
  t.match(await check({ thisUpdate: new Date('2026-06-01T00:00:00Z') }), { status: 'unknown', code: 'crl-not-yet-valid' });
  t.match(await check({ nextUpdate: null }), { status: 'unknown', code: 'crl-no-next-update', message: 'CRL NextUpdate is not set' });
  t.match(await check({ extra: [['1.3.6.1.4.1.55555.7', true, Uint8Array.of(5, 0)]] }), { status: 'unknown', code: 'crl-unsupported-critical-extension' });
  t.same(await check({ extra: [['1.3.6.1.4.1.55555.7', false, Uint8Array.of(5, 0)]] }), { status: 'good' }, 'non-critical unknown CRL extension');

  const impostor = await makeChain(); // same names, different keys
  const forged = await makeCrl({ issuer: impostor.issued[1]!, entries: [] });
  t.match(checkCertificateAgainstCrl(cert, ca, forged, { now: NOW }), { status: 'unknown', code: 'crl-signature', message: /^CRL is not signed by CA "CN=Test Intermediate": x509: ECDSA verification failure/ });
});

t.test('CA without cRLSign, delta CRLs, parsing bounds', async (t) => {
  const noCrlSign = await makeChain({ intermediates: [{ keyUsage: KU_FLAGS.keyCertSign }] });
  const list = await makeCrl({ issuer: noCrlSign.issued[1]!, entries: [] });
  t.match(checkCertificateAgainstCrl(parseCertificate(noCrlSign.chain[0]!), parseCertificate(noCrlSign.chain[1]!), list, { now: NOW }), { status: 'unknown', code: 'crl-signature', message: /cannot sign/ });

  const { chain, issued } = await makeChain();
  const cert = parseCertificate(chain[0]!);
  const ca = parseCertificate(chain[1]!);
  const base = parseCrl(await makeCrl({ issuer: issued[1]!, entries: [] }));
  const deltaIndicator = Uint8Array.of(0x02, 0x01, 0x05);
  const delta = parseCrl(await makeCrl({ issuer: issued[1]!, entries: [{ serial: cert.serialHex, reason: 4 }], extra: [['2.5.29.27', true, deltaIndicator]] }));
  t.equal(delta.deltaOf, 5n);
  t.same(verifyCrl(delta, ca, { now: NOW, delta: true }), { ok: true }, 'deltaCRLIndicator is critical but handled for a delta');
  t.match(verifyCrl(delta, ca, { now: NOW }), { ok: false, code: 'crl-unsupported-critical-extension' }, 'a delta is not a base CRL');
  t.match(verifyCrl(base, ca, { now: NOW, delta: true }), { ok: false, code: 'crl-not-delta' });
  t.same(lookupSerial(base, cert.serialNumber), { status: 'good' });
  t.match(lookupSerial(base, cert.serialNumber, { delta }), { status: 'revoked', reason: 'superseded' }, 'revocation found in the delta');

  const D = `${V}notation-core-go/revocation/crl/testdata/`;
  t.equal(parseCrl(readFileSync(`${D}delta.crl`)).deltaOf, 4n, 'upstream delta.crl');
  t.match(deltaCrlUrl(parseCrl(readFileSync(`${D}crlWithMultipleFreshestCRLs.crl`))), { ok: false, message: /multiple delta CRL URLs/ });

  t.throws(() => parseCrl(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)), CrlParseError);
  t.throws(() => parseCrl('-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----'), { code: 'malformed-crl' });
  t.throws(() => parseCrl(new Uint8Array(32 * 1024 * 1024 + 1)), { code: 'crl-too-large' });
  t.match(checkCertificateAgainstCrl(cert, ca, Uint8Array.of(1, 2, 3), { now: NOW }), { status: 'unknown', code: 'malformed-crl' });
});
