// Property tests through the whole verifier (fast-check): whatever is done to a validly signed image's envelope
// or signature manifest, decide() never throws, always answers, and never allows unless what the signature
// covers is exactly what was signed — the mutation touched only unsigned parts (JWS JSON whitespace,
// unsigned headers such as the signing agent). Each property starts with its positive control: the unmutated
// signature is allowed by the same engine, so an engine that denied everything would fail.
import t from 'tap';
import fc from 'fast-check';
import { parseEnvelope } from '../../../verifiers/notation/envelope/index.ts';
import type { PolicyEngine } from '../../../policy/engine.ts';
import { makeSigningCert, signCose, signJws, targetPayload } from '../envelope/make-signed.ts';
import { MemoryRegistry, OCI_MANIFEST } from './memory-registry.ts';
import { attachSignature, engineFor, engineWith, notationDir, signatureManifest, targetOf } from './fixtures.ts';

const RUNS = 150;

function image() {
  const registry = new MemoryRegistry();
  const config = Buffer.from('{"fuzz":1}');
  const m = registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: registry.putBlob(config), size: config.length }, layers: [] }, 'v1');
  return { registry, descriptor: { mediaType: m.mediaType, digest: m.digest, size: m.size } };
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Buffer, m: Mutation): Buffer {
  const at = m.at % Math.max(1, bytes.length);
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, at);
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.n)]);
  }
}

/** What the signature covers: signing input and signature value; undefined when it does not parse. */
function covered(bytes: Uint8Array, mediaType: string): string | undefined {
  try {
    const env = parseEnvelope(bytes, mediaType);
    return `${Buffer.from(env.signingInput).toString('base64')}.${Buffer.from(env.signerInfo.signature).toString('base64')}`;
  } catch {
    return undefined;
  }
}

t.test('mutated envelopes never verify unless the signed bytes are intact', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  for (const [mediaType, sign] of [['application/jose+json', signJws], ['application/cose', signCose]] as const) {
    const { registry, descriptor } = image();
    const original = sign(targetPayload(descriptor), cert.privateKey, cert.chain);
    const want = covered(original, mediaType);
    const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'f', registryScopes: ['*'], signatureVerification: { level: 'audit' }, trustStores: ['ca:f'], trustedIdentities: ['*'] }] }, stores: { 'ca:f': [cert.certificate] } });
    let current = registry;
    const engine: PolicyEngine = await engineWith(dir, registry, { fetcherFor: () => current });
    // Positive control: the unmutated signature verifies with this very engine, so every "deny" below is the
    // mutation's doing — an engine that denied everything would fail here instead of passing the property.
    current = image().registry;
    attachSignature(current, original, mediaType, descriptor);
    const control = await engine.decide(targetOf(current, 'fuzz.example', 'app', 'v1'));
    t.equal(control.allow, true, `${mediaType}: the unmutated signature is allowed`);
    t.equal(control.reason, 'verified', `${mediaType}: because it verified (${control.message})`);
    let allowed = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const bytes = mutate(original, m);
        current = image().registry;
        attachSignature(current, bytes, mediaType, descriptor);
        const d = await engine.decide(targetOf(current, 'fuzz.example', 'app', 'v1'));
        if (d.allow) {
          allowed++;
          return covered(bytes, mediaType) === want;
        }
        return typeof d.message === 'string' && d.message.length > 0;
      }),
      { numRuns: RUNS },
    );
    t.pass(`${mediaType}: ${RUNS} mutations, ${allowed} still allowed (unsigned parts only)`);
  }
});

t.test('mutated signature manifests never make a foreign signature verify', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const stranger = await makeSigningCert({ keyType: 'ec-p256' });
  const { registry, descriptor } = image();
  const envelope = signJws(targetPayload(descriptor), stranger.privateKey, stranger.chain);
  const digest = registry.putBlob(envelope);
  const manifest = Buffer.from(JSON.stringify(signatureManifest({ digest, size: envelope.length, mediaType: 'application/jose+json' }, descriptor)));
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'f', registryScopes: ['*'], signatureVerification: { level: 'permissive' }, trustStores: ['ca:f'], trustedIdentities: ['*'] }] }, stores: { 'ca:f': [cert.certificate] } });
  const engine = await engineFor(dir, registry);
  // Positive control: the same manifest shape around a signature by the trusted key verifies with this engine,
  // so the property's "no allow" is about the foreign key, not a manifest the engine could never accept.
  {
    const own = image();
    const trusted = signJws(targetPayload(own.descriptor), cert.privateKey, cert.chain);
    const envelopeDigest = own.registry.putBlob(trusted);
    own.registry.putManifest(Buffer.from(JSON.stringify(signatureManifest({ digest: envelopeDigest, size: trusted.length, mediaType: 'application/jose+json' }, own.descriptor))));
    const control = await (await engineFor(dir, own.registry)).decide(targetOf(own.registry, 'fuzz.example', 'app', 'v1'));
    t.equal(control.allow, true, 'the trusted signature in the same manifest shape is allowed');
    t.equal(control.reason, 'verified', `because it verified (${control.message})`);
  }
  await fc.assert(
    fc.asyncProperty(mutation, async (m) => {
      for (const [d] of [...registry.manifests].filter(([, v]) => v.doc['subject'] !== undefined)) registry.manifests.delete(d);
      const bytes = mutate(manifest, m);
      try {
        registry.putManifest(bytes);
      } catch {
        return true; // not JSON: a registry would not store it as a manifest either
      }
      const d = await engine.decide(targetOf(registry, 'fuzz.example', 'app', 'v1'));
      return !d.allow; // only the stranger's signature exists: nothing may verify
    }),
    { numRuns: RUNS },
  );
  t.pass('no allow');
});
