// Cases the vectors lack (README §10), with signatures made in the test (make-signed.ts, make-certs.ts) and
// verified through PolicyEngine.decide: every supported key in both envelope formats, the image-spec 1.1
// artifactType form, replays onto another digest, unknown critical headers, algorithm substitution, the EKU rule,
// untrusted roots, the signingAuthority scheme, expiry, tampering, and several signatures on one image.
import 'reflect-metadata';
import t from 'tap';
import { KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Decision } from '../../../policy/decision.ts';
import { makeSigningCert, signCose, signJws, targetPayload, SUPPORTED_KEY_TYPES, type SignOptions, type SigningCert } from '../envelope/make-signed.ts';
import { makeChain } from '../x509/make-certs.ts';
import { MemoryRegistry, OCI_INDEX, OCI_MANIFEST } from './memory-registry.ts';
import { attachSignature, engineFor, notationDir, signatureManifest, targetOf, type SignatureForm, type Teardown } from './fixtures.ts';

const JWS = 'application/jose+json';
const COSE = 'application/cose';

/** A registry with one small image tagged v1 (plus more on request). */
function imageRegistry(opts: { referrersApi?: boolean } = {}, content = 'hello'): { registry: MemoryRegistry; descriptor: { mediaType: string; digest: string; size: number } } {
  const registry = new MemoryRegistry(opts);
  const config = Buffer.from(JSON.stringify({ content }));
  const configDigest = registry.putBlob(config);
  const m = registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [] }, 'v1');
  return { registry, descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size } };
}

function sign(format: 'jws' | 'cose', descriptor: object, cert: { privateKey: KeyObject; chain: readonly Uint8Array[] }, opts: SignOptions = {}): Buffer {
  const payload = targetPayload(descriptor as { mediaType: string; digest: string; size: number });
  return format === 'jws' ? signJws(payload, cert.privateKey, cert.chain, opts) : signCose(payload, cert.privateKey, cert.chain, opts);
}

function policy(stores: string[], level = 'strict') {
  return { version: '1.0', trustPolicies: [{ name: 'gen', registryScopes: ['*'], signatureVerification: { level }, trustStores: stores, trustedIdentities: ['*'] }] };
}

async function decide(t: Teardown, registry: MemoryRegistry, stores: Record<string, Uint8Array[]>, level = 'strict', tag = 'v1'): Promise<Decision> {
  const dir = notationDir(t, { policy: policy(Object.keys(stores), level), stores });
  return (await engineFor(dir, registry)).decide(targetOf(registry, 'registry.example', 'gen/app', tag));
}

const certs = new Map<string, SigningCert>();
async function certFor(keyType: (typeof SUPPORTED_KEY_TYPES)[number]): Promise<SigningCert> {
  let c = certs.get(keyType);
  if (c === undefined) certs.set(keyType, (c = await makeSigningCert({ keyType })));
  return c;
}

t.test('ECDSA P-256/384/521 and RSA 2048–4096, JWS and COSE: valid', async (t) => {
  for (const keyType of SUPPORTED_KEY_TYPES) {
    const cert = await certFor(keyType);
    for (const format of ['jws', 'cose'] as const) {
      const { registry, descriptor } = imageRegistry();
      attachSignature(registry, sign(format, descriptor, cert), format === 'jws' ? JWS : COSE, descriptor);
      const d = await decide(t, registry, { 'ca:gen': [cert.certificate] });
      t.ok(d.allow, `${keyType} ${format}: ${d.message}`);
      t.same(d.signatures?.[0]?.envelopeMediaType, format === 'jws' ? JWS : COSE);
    }
  }
});

t.test('image-spec 1.1 form (artifactType + empty config) and legacy form, through the API and the tag schema', async (t) => {
  const cert = await certFor('ec-p256');
  for (const form of ['artifactType', 'legacy'] as SignatureForm[]) {
    for (const api of [true, false]) {
      const { registry, descriptor } = imageRegistry({ referrersApi: api });
      const manifest = attachSignature(registry, sign('cose', descriptor, cert), COSE, descriptor, form);
      if (!api) {
        const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: registry.referrersOf(descriptor.digest) };
        registry.putManifest(index, descriptor.digest.replace(':', '-'));
      }
      const d = await decide(t, registry, { 'ca:gen': [cert.certificate] });
      t.ok(d.allow, `${form}, ${api ? 'referrers API' : 'tag schema'}: ${d.message}`);
      t.equal(d.signatures?.[0]?.manifest, manifest);
    }
  }
});

t.test('a signature replayed onto another digest does not verify it', async (t) => {
  const cert = await certFor('ec-p256');
  const a = imageRegistry({ referrersApi: false }, 'image A');
  const envelope = sign('jws', a.descriptor, cert);
  const sigA = attachSignature(a.registry, envelope, JWS, a.descriptor);
  // Image B in the same repository; its referrers tag lists A's signature manifest (subject A).
  const configB = Buffer.from('{"b":1}');
  const b = a.registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: a.registry.putBlob(configB), size: configB.length }, layers: [] }, 'b');
  const listed = a.registry.referrersOf(a.descriptor.digest);
  a.registry.putManifest({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: listed }, b.digest.replace(':', '-'));
  const d1 = await decide(t, a.registry, { 'ca:gen': [cert.certificate] }, 'strict', 'b');
  t.notOk(d1.allow, d1.message);
  t.equal(d1.reason, 'signature_invalid');
  t.match(d1.message, `has subject ${a.descriptor.digest}, not ${b.digest}`);
  t.equal(d1.signatures?.[0]?.manifest, sigA);

  // A signature manifest that claims B as subject but carries A's envelope: the signed payload names A.
  const bDesc = { mediaType: b.mediaType, digest: b.digest, size: b.size };
  a.registry.putManifest(signatureManifest({ digest: a.registry.putBlob(envelope), size: envelope.length, mediaType: JWS }, bDesc));
  a.registry.referrersApi = true;
  const d2 = await decide(t, a.registry, { 'ca:gen': [cert.certificate] }, 'strict', 'b');
  t.notOk(d2.allow, d2.message);
  t.equal(d2.reason, 'signature_invalid');
  t.match(d2.message, `the signature is for ${a.descriptor.digest}, not ${b.digest}`);
  const audit = await decide(t, a.registry, { 'ca:gen': [cert.certificate] }, 'audit', 'b');
  t.notOk(audit.allow, 'integrity is enforced even at audit');
});

t.test('integrity failures: unknown critical header, wrong algorithm for the key, tampered signature', async (t) => {
  const rsa = await certFor('rsa-2048');
  const ec = await certFor('ec-p256');
  const cases: [string, Buffer, string, SigningCert, RegExp][] = [];
  for (const format of ['jws', 'cose'] as const) {
    const { descriptor } = imageRegistry();
    const mt = format === 'jws' ? JWS : COSE;
    cases.push([`${format}: unknown critical header`, sign(format, descriptor, ec, { extendedAttributes: [{ key: 'com.example.mustUnderstand', value: 'x', critical: true }] }), mt, ec, /unknown critical header "com.example.mustUnderstand"/]);
    cases.push([`${format}: PS384 claimed for an RSA-2048 key`, sign(format, descriptor, rsa, { alg: 'PS384' }), mt, rsa, /does not match the signing key/]);
    cases.push([`${format}: ES384 claimed for a P-256 key`, sign(format, descriptor, ec, { alg: 'ES384' }), mt, ec, /does not match the signing key/]);
  }
  const { descriptor } = imageRegistry();
  const good = JSON.parse(sign('jws', descriptor, ec).toString()) as { signature: string };
  const flipped = Buffer.from(good.signature, 'base64url');
  flipped[5]! ^= 1;
  cases.push(['jws: one signature bit flipped', Buffer.from(JSON.stringify({ ...JSON.parse(sign('jws', descriptor, ec).toString()), signature: flipped.toString('base64url') })), JWS, ec, /signature does not verify/]);
  for (const [name, envelope, mediaType, cert, says] of cases) {
    const { registry, descriptor: d } = imageRegistry();
    attachSignature(registry, envelope, mediaType, d);
    for (const level of ['strict', 'audit']) {
      const decision = await decide(t, registry, { 'ca:gen': [cert.certificate] }, level);
      t.notOk(decision.allow, `${name} (${level}): ${decision.message}`);
      t.equal(decision.reason, 'signature_invalid');
      t.match(decision.message, says);
    }
  }
});

t.test('certificate profile: a leaf whose EKU excludes code signing fails; a leaf without EKU passes', async (t) => {
  const serverAuth = await makeSigningCert({
    keyType: 'ec-p256',
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    ],
  });
  const noEku = await makeSigningCert({
    keyType: 'ec-p256',
    extensions: [new x509.BasicConstraintsExtension(false, undefined, false), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const bad = imageRegistry();
  attachSignature(bad.registry, sign('jws', bad.descriptor, serverAuth), JWS, bad.descriptor);
  const d = await decide(t, bad.registry, { 'ca:gen': [serverAuth.certificate] });
  t.notOk(d.allow);
  t.equal(d.reason, 'certificate_invalid');
  t.match(d.message, /extended key usage must not contain ServerAuth eku/);
  const good = imageRegistry();
  attachSignature(good.registry, sign('jws', good.descriptor, noEku), JWS, good.descriptor);
  t.ok((await decide(t, good.registry, { 'ca:gen': [noEku.certificate] })).allow, 'EKU is optional (notation-core-go)');
});

t.test('chains: trusted root or intermediate verifies; a chain to an untrusted root does not', async (t) => {
  const made = await makeChain({ leaf: { cn: 'Gen Leaf', eku: ['1.3.6.1.5.5.7.3.3'] } });
  const other = await makeChain();
  const key = KeyObject.from(made.issued[0]!.keys.privateKey);
  const { registry, descriptor } = imageRegistry();
  attachSignature(registry, sign('cose', descriptor, { privateKey: key, chain: made.chain }), COSE, descriptor);
  t.ok((await decide(t, registry, { 'ca:gen': [made.chain.at(-1)!] })).allow, 'trusted root');
  t.ok((await decide(t, registry, { 'ca:gen': [made.chain[1]!] })).allow, 'trusted intermediate');
  const d = await decide(t, registry, { 'ca:gen': [other.chain.at(-1)!] });
  t.notOk(d.allow);
  t.equal(d.reason, 'untrusted');
  t.equal(d.message, 'certificate chain not trusted by store ca:gen');
});

t.test('notary.x509.signingAuthority: verified against signingAuthority stores only', async (t) => {
  const cert = await certFor('ec-p384');
  const { registry, descriptor } = imageRegistry();
  attachSignature(registry, sign('jws', descriptor, cert, { signingScheme: 'notary.x509.signingAuthority' }), JWS, descriptor);
  t.ok((await decide(t, registry, { 'signingAuthority:gen': [cert.certificate] })).allow);
  const d = await decide(t, registry, { 'ca:gen': [cert.certificate] });
  t.notOk(d.allow);
  t.equal(d.reason, 'untrusted');
  t.equal(d.checks.at(-1)?.result, 'inconclusive', 'no trusted certificates of that type: inconclusive');
});

t.test('expiry: a future expiry verifies, a past one is denied with the time', async (t) => {
  const cert = await certFor('ec-p256');
  const future = imageRegistry();
  attachSignature(future.registry, sign('cose', future.descriptor, cert, { expiry: new Date('2030-01-01T00:00:00Z'), signingTime: new Date('2025-01-01T00:00:00Z') }), COSE, future.descriptor);
  t.ok((await decide(t, future.registry, { 'ca:gen': [cert.certificate] })).allow);
  const past = imageRegistry();
  attachSignature(past.registry, sign('cose', past.descriptor, cert, { expiry: new Date('2025-06-01T00:00:00Z'), signingTime: new Date('2025-01-01T00:00:00Z') }), COSE, past.descriptor);
  const d = await decide(t, past.registry, { 'ca:gen': [cert.certificate] });
  t.notOk(d.allow);
  t.equal(d.message, 'signature expired at 2025-06-01T00:00:00Z');
});

t.test('several signatures: the first good one allows; all bad → the furthest-reaching failure is reported', async (t) => {
  const trusted = await certFor('ec-p256');
  const stranger = await makeSigningCert({ keyType: 'ec-p256' });
  const { registry, descriptor } = imageRegistry();
  // A non-signature referrer (an SBOM) is never tried.
  registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 }, layers: [], subject: descriptor });
  attachSignature(registry, Buffer.from('garbage'), JWS, descriptor);
  attachSignature(registry, sign('jws', descriptor, stranger), JWS, descriptor);
  attachSignature(registry, sign('jws', descriptor, trusted, { expiry: new Date('2025-01-01T00:00:00Z'), signingTime: new Date('2024-01-01T00:00:00Z') }), JWS, descriptor);
  const denied = await decide(t, registry, { 'ca:gen': [trusted.certificate] });
  t.notOk(denied.allow);
  t.equal(denied.signatures?.length, 3, 'three signatures tried, the SBOM ignored');
  t.equal(denied.reason, 'expired', 'the expired-but-trusted one says the most');
  t.match(denied.message, /signature expired at 2025-01-01T00:00:00Z \(2 other signatures also failed\)/);

  attachSignature(registry, sign('jws', descriptor, trusted), JWS, descriptor);
  const allowed = await decide(t, registry, { 'ca:gen': [trusted.certificate] });
  t.ok(allowed.allow, allowed.message);
  t.equal(allowed.signatures?.filter((s) => s.verified).length, 1);
});
