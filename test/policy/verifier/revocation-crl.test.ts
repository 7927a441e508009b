// Revocation by CRL, end to end through PolicyEngine.decide, with CRLs served over HTTP on loopback:
//  - the notation e2e CRL chain (README §2.3, ERRATA 8): LeafCert → IntermediateCA → RootCA with the vectors'
//    CRLs (leaf.crl, leaf_revoked.crl, intermediate_revoked.crl, leaf_expired.crl), signed here with its leaf.key;
//  - a chain made here (make-certs.ts) whose CRL revokes the leaf for keyCompromise.
// Revoked = failed, unreachable = inconclusive; both enforced under strict, logged under permissive, and not run
// at all with `override: {revocation: skip}`.
import t from 'tap';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificates } from '../../../pki/certificate.ts';
import { signJws, targetPayload } from '../envelope/make-signed.ts';
import { makeChain, makeCrl } from '../x509/make-certs.ts';
import { LoopbackCrlSource, startCrlServer } from './crl-server.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { VECTORS, attachSignature, engineFor, notationDir, targetOf } from './fixtures.ts';

const CRL_DIR = join(VECTORS, 'notation/test/e2e/testdata/config/crl');
const E2E_LAYOUT = join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout/e2e');
const crl = (name: string): Uint8Array => readFileSync(join(CRL_DIR, name));

function policy(level: string, override?: Record<string, string>) {
  return { version: '1.0', trustPolicies: [{ name: 'crl', registryScopes: ['*'], signatureVerification: override ? { level, override } : { level }, trustStores: ['ca:crl'], trustedIdentities: ['*'] }] };
}

t.test('notation e2e CRL chain', async (t) => {
  const server = await startCrlServer();
  t.teardown(() => server.close());
  const chain = parseCertificates(readFileSync(join(CRL_DIR, 'certchain_with_crl.pem'))).map((c) => c.der);
  const key = createPrivateKey(readFileSync(join(CRL_DIR, 'leaf.key')));

  /** A registry holding the e2e image signed by LeafCert; a fresh CRL source (cache) per decision. */
  const decide = async (level: string, override?: Record<string, string>) => {
    const registry = MemoryRegistry.fromLayout(E2E_LAYOUT);
    const subject = registry.resolve('v1');
    const descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length };
    attachSignature(registry, signJws(targetPayload(descriptor), key, chain), 'application/jose+json', descriptor);
    const source = new LoopbackCrlSource((u) => u.replace('http://localhost:10086', server.url));
    const dir = notationDir(t, { policy: policy(level, override), stores: { 'ca:crl': [join(CRL_DIR, 'root.crt')] } });
    const engine = await engineFor(dir, registry, { crlSource: source });
    return { d: await engine.decide(targetOf(registry, 'localhost:5000', 'crl', 'v1')), source };
  };
  const serve = (leaf: string | null, intermediate: string | null) => {
    server.files.clear();
    if (leaf) server.files.set('/leaf.crl', crl(leaf));
    if (intermediate) server.files.set('/intermediate.crl', crl(intermediate));
  };

  await t.test('neither revoked: allowed, both CRLs fetched', async (t) => {
    serve('leaf.crl', 'intermediate.crl');
    server.requests.length = 0;
    const { d } = await decide('strict');
    t.ok(d.allow, d.message);
    t.same(d.checks.find((r) => r.check === 'revocation')?.result, 'passed');
    t.same([...server.requests].sort(), ['/intermediate.crl', '/leaf.crl']);
  });

  await t.test('leaf revoked: strict denies "is revoked", permissive logs', async (t) => {
    serve('leaf_revoked.crl', 'intermediate.crl');
    const strict = (await decide('strict')).d;
    t.notOk(strict.allow);
    t.equal(strict.reason, 'revoked');
    t.match(strict.message, /^certificate ".*CN=LeafCert.*" is revoked$/);
    t.equal(strict.checks.at(-1)?.result, 'failed', 'revoked is a failure, not inconclusive');
    const permissive = (await decide('permissive')).d;
    t.ok(permissive.allow, permissive.message);
    t.match(permissive.warnings?.[0] ?? '', /^revocation failure logged/);
  });

  await t.test('intermediate revoked: denied, naming the intermediate', async (t) => {
    serve('leaf.crl', 'intermediate_revoked.crl');
    const { d } = await decide('strict');
    t.notOk(d.allow);
    t.equal(d.reason, 'revoked');
    t.match(d.message, /CN=IntermediateCA/);
  });

  await t.test('CRL server unreachable: inconclusive; strict denies, permissive logs, override skip does not check', async (t) => {
    serve(null, null);
    const strict = (await decide('strict')).d;
    t.notOk(strict.allow);
    t.equal(strict.reason, 'revocation_inconclusive');
    t.match(strict.message, /revocation status of certificate ".*" is unknown: .*HTTP 404/);
    t.equal(strict.checks.at(-1)?.result, 'inconclusive', 'unreachable is inconclusive, not failed');
    const permissive = (await decide('permissive')).d;
    t.ok(permissive.allow);
    t.equal(permissive.checks.at(-1)?.result, 'inconclusive');
    server.requests.length = 0;
    const skipped = (await decide('strict', { revocation: 'skip' })).d;
    t.ok(skipped.allow, skipped.message);
    t.same(skipped.checks.at(-1), { check: 'revocation', action: 'skip', result: 'skipped' });
    t.same(server.requests, [], 'no CRL fetched when revocation is skipped');
  });

  await t.test('stale CRL (leaf_expired.crl, nextUpdate 2023-12-25) is fetched again; still stale → inconclusive', async (t) => {
    serve('leaf_expired.crl', 'intermediate.crl');
    const stale = await decide('strict');
    t.notOk(stale.d.allow);
    t.equal(stale.d.reason, 'revocation_inconclusive');
    t.match(stale.d.message, /expired CRL/);
    t.ok(stale.source.fetches.some((f) => f.url.endsWith('/leaf.crl') && f.refresh), 'asked for a fresh copy');

    // The CA publishes a fresh CRL: the cached stale one is replaced on refresh and the leaf checks out.
    const registry = MemoryRegistry.fromLayout(E2E_LAYOUT);
    const subject = registry.resolve('v1');
    const descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length };
    attachSignature(registry, signJws(targetPayload(descriptor), key, chain), 'application/jose+json', descriptor);
    const source = new LoopbackCrlSource((u) => u.replace('http://localhost:10086', server.url));
    await source.fetchCrl('http://localhost:10086/leaf.crl'); // cache holds the stale list
    serve('leaf.crl', 'intermediate.crl');
    const dir = notationDir(t, { policy: policy('strict'), stores: { 'ca:crl': [join(CRL_DIR, 'root.crt')] } });
    const d = await (await engineFor(dir, registry, { crlSource: source })).decide(targetOf(registry, 'localhost:5000', 'crl', 'v1'));
    t.ok(d.allow, d.message);
  });
});

t.test('a chain made here: leaf revoked for keyCompromise, CRL on loopback', async (t) => {
  const server = await startCrlServer();
  t.teardown(() => server.close());
  const made = await makeChain({
    leaf: { cn: 'Revoked Leaf', serial: '0bad', eku: ['1.3.6.1.5.5.7.3.3'], crlUrl: `${server.url}/gen-leaf.crl` },
    intermediates: [{ cn: 'Gen Intermediate' }],
  });
  const [leafKeys, issuer] = [made.issued[0]!, made.issued[1]!];
  server.files.set('/gen-leaf.crl', await makeCrl({ issuer, entries: [{ serial: '0bad', reason: 1 }] }));
  const registry = MemoryRegistry.fromLayout(E2E_LAYOUT);
  const subject = registry.resolve('v1');
  const descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length };
  const { KeyObject } = await import('node:crypto');
  attachSignature(registry, signJws(targetPayload(descriptor), KeyObject.from(leafKeys.keys.privateKey), made.chain), 'application/jose+json', descriptor);
  const dir = notationDir(t, { policy: policy('strict'), stores: { 'ca:crl': [made.chain.at(-1)!] } });
  const source = new LoopbackCrlSource((u) => u);
  const d = await (await engineFor(dir, registry, { crlSource: source })).decide(targetOf(registry, 'localhost:5000', 'gen', 'v1'));
  t.notOk(d.allow);
  t.equal(d.reason, 'revoked');
  t.match(d.checks.at(-1)?.message ?? '', /keyCompromise/);

  server.files.set('/gen-leaf.crl', await makeCrl({ issuer, entries: [] }));
  const fresh = new LoopbackCrlSource((u) => u);
  const ok = await (await engineFor(dir, registry, { crlSource: fresh })).decide(targetOf(registry, 'localhost:5000', 'gen', 'v1'));
  t.ok(ok.allow, ok.message);
});

t.test('an untrusted chain never makes the gate fetch its CRL (no blind SSRF under audit or a logged authenticity)', async (t) => {
  const server = await startCrlServer();
  t.teardown(() => server.close());
  const attacker = await makeChain({
    leaf: { cn: 'Attacker Leaf', serial: '0a77', eku: ['1.3.6.1.5.5.7.3.3'], crlUrl: `${server.url}/attacker-chosen.crl` },
    intermediates: [{ cn: 'Attacker Intermediate' }],
  });
  const trusted = await makeChain({ leaf: { cn: 'Trusted Leaf', serial: '01', eku: ['1.3.6.1.5.5.7.3.3'] }, intermediates: [] });
  server.files.set('/attacker-chosen.crl', await makeCrl({ issuer: attacker.issued[1]!, entries: [] }));
  const registry = MemoryRegistry.fromLayout(E2E_LAYOUT);
  const subject = registry.resolve('v1');
  const descriptor = { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length };
  const { KeyObject } = await import('node:crypto');
  attachSignature(registry, signJws(targetPayload(descriptor), KeyObject.from(attacker.issued[0]!.keys.privateKey), attacker.chain), 'application/jose+json', descriptor);
  const decide = async (level: string, override?: Record<string, string>) => {
    const dir = notationDir(t, { policy: policy(level, override), stores: { 'ca:crl': [trusted.chain.at(-1)!] } });
    return (await engineFor(dir, registry, { crlSource: new LoopbackCrlSource((u) => u) })).decide(targetOf(registry, 'localhost:5000', 'ssrf', 'v1'));
  };

  const audit = await decide('audit');
  t.ok(audit.allow, 'audit serves (and logs) the untrusted signature');
  t.same(audit.checks.find((c) => c.check === 'authenticity')?.result, 'failed');
  t.same(audit.checks.find((c) => c.check === 'revocation')?.result, 'inconclusive', 'revocation not run for an untrusted chain');
  t.same(server.requests, [], 'no request to the URL the untrusted certificate names');

  // strict with authenticity only logged: revocation stays enforced, and an unchecked chain cannot pass it.
  const logged = await decide('strict', { authenticity: 'log' });
  t.notOk(logged.allow, 'an unauthenticated chain never passes an enforced revocation check');
  t.equal(logged.reason, 'revocation_inconclusive');
  t.same(server.requests, [], 'still no request');

  // Control: once the chain is trusted, the same CRL URL is fetched (so the assertions above can fail).
  const dir = notationDir(t, { policy: policy('audit'), stores: { 'ca:crl': [attacker.chain.at(-1)!] } });
  const ok = await (await engineFor(dir, registry, { crlSource: new LoopbackCrlSource((u) => u) })).decide(targetOf(registry, 'localhost:5000', 'ssrf', 'v1'));
  t.ok(ok.allow, ok.message);
  t.same(server.requests, ['/attacker-chosen.crl'], 'a trusted chain has its CRL checked');
});
