// Revocation by OCSP with CRL fallback, end to end through PolicyEngine.decide, with a loopback OCSP responder
// reached by the production HttpOcspSource (POST application/ocsp-request):
//  - a chain made here (leaf with an AIA OCSP URL, optionally a CRL distribution point): good, revoked, unknown,
//    forged signature, delegated responder with and without id-kp-OCSPSigning, stale answer, responder down →
//    CRL fallback or inconclusive; OCSP is preferred over a CRL that disagrees; no OcspSource = CRL-only as before;
//  - the notation e2e OCSP chain (config/ocsp: LeafCert → RootCA, responder OCSPResponder, ocsp.key);
//  - the notation e2e CRL chain, whose intermediate names an unreachable OCSP responder: "fallback to CRL".
import t from 'tap';
import { createPrivateKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OcspSource } from '../../../oci/discovery/fetcher.ts';
import { parseCertificates } from '../../../pki/certificate.ts';
import { HttpOcspSource } from '../../../registry/ocsp-source.ts';
import { signJws, targetPayload } from '../envelope/make-signed.ts';
import { issue, makeChain, makeCrl } from '../x509/make-certs.ts';
import { makeOcspResponse, type OcspSpec } from '../x509/make-ocsp.ts';
import { startOcspServer } from '../x509/make-ocsp.ts';
import { LoopbackCrlSource, startCrlServer } from './crl-server.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { FIXED_CLOCK, VECTORS, attachSignature, engineFor, notationDir, targetOf } from './fixtures.ts';
import { closedUrl } from '../../harness/ports.ts';

const E2E_LAYOUT = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e');
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const FAST = { timeoutMs: 1_000, maxBytes: 20_480, cacheMs: 60_000, failureCacheMs: 60_000 };

const policy = (level: string) => ({ version: '1.0', trustPolicies: [{ name: 'ocsp', registryScopes: ['*'], signatureVerification: { level }, trustStores: ['ca:ocsp'], trustedIdentities: ['*'] }] });

/** A fresh registry holding the e2e image signed with `key` over `chain`, and a decide() under `policy(level)`. */
function signedRegistry(key: KeyObject, chain: readonly Uint8Array[]): MemoryRegistry {
  const registry = MemoryRegistry.fromLayout(E2E_LAYOUT);
  const subject = registry.resolve('v1');
  const descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length };
  attachSignature(registry, signJws(targetPayload(descriptor), key, [...chain]), 'application/jose+json', descriptor);
  return registry;
}

/** Rewrites responder URLs (the vectors' fixed ports) to the loopback server. */
const rewriting = (source: OcspSource, from: string, to: string): OcspSource => ({ fetchOcsp: (u, r, o) => source.fetchOcsp(u.replace(from, to), r, o) });

t.test('a chain made here, leaf with an OCSP responder', async (t) => {
  const ocsp = await startOcspServer();
  const crls = await startCrlServer();
  t.teardown(() => Promise.all([ocsp.close(), crls.close()]));
  const only = await makeChain({ leaf: { cn: 'OCSP Leaf', eku: ['1.3.6.1.5.5.7.3.3'], ocspUrl: `${ocsp.url}/ocsp` }, intermediates: [{ cn: 'OCSP CA' }] });
  const both = await makeChain({ leaf: { cn: 'Both Leaf', eku: ['1.3.6.1.5.5.7.3.3'], ocspUrl: `${ocsp.url}/ocsp`, crlUrl: `${crls.url}/both.crl` }, intermediates: [{ cn: 'Both CA' }] });
  const respond = (made: typeof only, spec: Partial<OcspSpec> = {}) => {
    ocsp.handler = () => makeOcspResponse({ cert: made.chain[0]!, issuer: made.chain[1]!, signer: made.issued[1]!, ...spec }, FIXED_CLOCK);
  };
  const decide = async (made: typeof only, level = 'strict', withOcsp = true) => {
    const registry = signedRegistry(KeyObject.from(made.issued[0]!.keys.privateKey), made.chain);
    const dir = notationDir(t, { policy: policy(level), stores: { 'ca:ocsp': [made.chain.at(-1)!] } });
    const ocspSource = new HttpOcspSource(FAST);
    const crlSource = new LoopbackCrlSource((u) => u);
    const engine = await engineFor(dir, registry, { crlSource, ...(withOcsp ? { ocspSource } : {}) });
    const d = await engine.decide(targetOf(registry, 'localhost:5000', 'ocsp', 'v1'));
    await ocspSource.close();
    return { d, revocation: d.checks.find((c) => c.check === 'revocation'), crlFetches: crlSource.fetches, ocspFetches: ocspSource.fetches };
  };

  await t.test('good: allowed, one POST application/ocsp-request', async (t) => {
    respond(only);
    ocsp.requests.length = 0;
    const { d, revocation } = await decide(only);
    t.ok(d.allow, d.message);
    t.equal(revocation?.result, 'passed');
    t.equal(ocsp.requests.length, 1);
    t.equal(ocsp.requests[0]!.contentType, 'application/ocsp-request');
    t.equal(ocsp.requests[0]!.path, '/ocsp');
  });

  await t.test('revoked: strict denies "is revoked" naming the responder and reason; permissive logs', async (t) => {
    respond(only, { status: 'revoked', reason: 1 });
    const { d, revocation } = await decide(only);
    t.notOk(d.allow);
    t.equal(d.reason, 'revoked');
    t.equal(revocation?.result, 'failed');
    t.match(revocation?.message ?? '', /keyCompromise.*OCSP responder/);
    t.ok((await decide(only, 'permissive')).d.allow);
  });

  await t.test('no usable answer and no CRL: inconclusive', async (t) => {
    const stranger = await makeChain({ intermediates: [{ cn: 'OCSP CA' }] }); // same name, other key
    const noEku = await issue({ cn: 'Plain Leaf Cert', eku: ['1.3.6.1.5.5.7.3.3'] }, only.issued[1]!, false);
    const cases: [string, Partial<OcspSpec>, RegExp][] = [
      ['unknown', { status: 'unknown' }, /status unknown/],
      ['forged signature', { signer: { der: only.chain[1]!, keys: stranger.issued[1]!.keys } }, /signature does not verify/],
      ['delegated without OCSPSigning', { signer: noEku, include: [noEku.der] }, /OCSPSigning/],
      ['stale', { nextUpdate: new Date(FIXED_CLOCK.getTime() - 1000), thisUpdate: new Date(FIXED_CLOCK.getTime() - 3600_000) }, /expired OCSP response/],
    ];
    for (const [name, spec, message] of cases) {
      respond(only, spec);
      ocsp.requests.length = 0;
      const { d, revocation } = await decide(only);
      t.equal(d.reason, 'revocation_inconclusive', name);
      t.equal(revocation?.result, 'inconclusive', name);
      t.match(d.message, message, name);
      if (name === 'stale') t.equal(ocsp.requests.length, 2, 'a stale answer is asked for again once');
    }
  });

  await t.test('delegated responder with OCSPSigning: its answer counts', async (t) => {
    const responder = await issue({ cn: 'Delegated Responder', eku: [OCSP_SIGNING] }, only.issued[1]!, false);
    respond(only, { signer: responder, include: [responder.der], status: 'revoked' });
    t.equal((await decide(only)).d.reason, 'revoked');
    respond(only, { signer: responder, include: [responder.der] });
    t.ok((await decide(only)).d.allow);
  });

  await t.test('responder down: CRL fallback when the certificate has a distribution point, else inconclusive', async (t) => {
    ocsp.handler = () => undefined; // HTTP 500
    const down = await decide(only);
    t.equal(down.d.reason, 'revocation_inconclusive');
    t.match(down.d.message, /HTTP 500/);
    crls.files.set('/both.crl', await makeCrl({ issuer: both.issued[1]! }));
    const fallback = await decide(both);
    t.ok(fallback.d.allow, fallback.d.message);
    t.equal(fallback.crlFetches.length, 1, 'the CRL was consulted');
    crls.files.set('/both.crl', await makeCrl({ issuer: both.issued[1]!, entries: [{ serial: parseCertificates(both.chain[0]!)[0]!.serialHex, reason: 1 }] }));
    t.equal((await decide(both)).d.reason, 'revoked', 'revoked by the fallback CRL');
    crls.files.delete('/both.crl');
    const neither = await decide(both);
    t.equal(neither.d.reason, 'revocation_inconclusive');
    t.match(neither.d.message, /HTTP 500; fallback to CRL.*HTTP 404/);
  });

  await t.test('OCSP is preferred: a good answer is final, the CRL is not fetched', async (t) => {
    respond(both);
    crls.files.set('/both.crl', await makeCrl({ issuer: both.issued[1]!, entries: [{ serial: parseCertificates(both.chain[0]!)[0]!.serialHex, reason: 1 }] }));
    const r = await decide(both);
    t.ok(r.d.allow, r.d.message);
    t.equal(r.crlFetches.length, 0);
  });

  await t.test('no OcspSource: CRL only, as before', async (t) => {
    respond(only, { status: 'revoked' });
    ocsp.requests.length = 0;
    const { d } = await decide(only, 'strict', false);
    t.equal(d.reason, 'revocation_inconclusive');
    t.match(d.message, /OCSP is not supported/);
    t.equal(ocsp.requests.length, 0);
  });
});

t.test('notation e2e OCSP chain: LeafCert → RootCA, delegated responder OCSPResponder', async (t) => {
  const dir = join(VECTORS, 'notation/test/e2e/testdata/config/ocsp');
  const ocsp = await startOcspServer();
  t.teardown(() => ocsp.close());
  const chain = parseCertificates(readFileSync(join(dir, 'certchain_with_ocsp.pem'))).map((c) => c.der);
  const responder = parseCertificates(readFileSync(join(dir, 'ocsp.crt')))[0]!.der;
  const signer = { der: responder, keys: { privateKey: createPrivateKey(readFileSync(join(dir, 'ocsp.key'))) } };
  const registry = signedRegistry(createPrivateKey(readFileSync(join(dir, 'leaf.key'))), chain);
  const decide = async (status: 'good' | 'revoked') => {
    ocsp.handler = () => makeOcspResponse({ cert: chain[0]!, issuer: chain[1]!, signer, include: [responder], status }, FIXED_CLOCK);
    const source = new HttpOcspSource(FAST);
    const cfg = notationDir(t, { policy: policy('strict'), stores: { 'ca:ocsp': [join(dir, 'root.crt')] } });
    const engine = await engineFor(cfg, registry, { ocspSource: rewriting(source, 'http://localhost:10087', ocsp.url) });
    const d = await engine.decide(targetOf(registry, 'localhost:5000', 'ocsp', 'v1'));
    await source.close();
    return d;
  };
  const good = await decide('good');
  t.ok(good.allow, good.message);
  const revoked = await decide('revoked');
  t.equal(revoked.reason, 'revoked');
  t.match(revoked.message, /CN=LeafCert/);
});

t.test('notation e2e CRL chain: the intermediate\'s OCSP responder is unreachable → fallback to CRL', async (t) => {
  const dir = join(VECTORS, 'notation/test/e2e/testdata/config/crl');
  const server = await startCrlServer();
  t.teardown(() => server.close());
  const chain = parseCertificates(readFileSync(join(dir, 'certchain_with_crl.pem'))).map((c) => c.der);
  const registry = signedRegistry(createPrivateKey(readFileSync(join(dir, 'leaf.key'))), chain);
  // The responder named in the certificate is down: a port we just released refuses connections.
  const unreachable = await closedUrl();
  const decide = async (intermediateCrl: string) => {
    server.files.set('/leaf.crl', readFileSync(join(dir, 'leaf.crl')));
    server.files.set('/intermediate.crl', readFileSync(join(dir, intermediateCrl)));
    const source = new HttpOcspSource(FAST);
    const cfg = notationDir(t, { policy: policy('strict'), stores: { 'ca:ocsp': [join(dir, 'root.crt')] } });
    const engine = await engineFor(cfg, registry, {
      crlSource: new LoopbackCrlSource((u) => u.replace('http://localhost:10086', server.url)),
      ocspSource: rewriting(source, 'http://localhost.test', unreachable),
    });
    const d = await engine.decide(targetOf(registry, 'localhost:5000', 'crl', 'v1'));
    await source.close();
    return { d, ocspFetches: source.fetches };
  };
  const ok = await decide('intermediate.crl');
  t.ok(ok.d.allow, ok.d.message);
  t.equal(ok.ocspFetches, 1, 'the OCSP responder was tried first');
  const revoked = await decide('intermediate_revoked.crl');
  t.equal(revoked.d.reason, 'revoked');
  t.match(revoked.d.message, /CN=IntermediateCA/);
});
