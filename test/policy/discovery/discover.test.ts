// Signature discovery (oci/discovery): Referrers API with pagination and its bounds, the tag-schema fallback,
// client-side filtering, per-signature manifest checks, and fetch failures that stay typed all the way to the
// Decision — never "no signature", never an allow.
import t from 'tap';
import { DEFAULT_DISCOVERY_LIMITS, discoverSignatures } from '../../../verifiers/notation/discovery/discover.ts';
import { FetchError, type ArtifactFetcher } from '../../../oci/discovery/fetcher.ts';
import { fetchSignature } from '../../../verifiers/notation/discovery/signature-manifest.ts';
import { SIGNATURE_ARTIFACT_TYPE } from '../../../oci/discovery/referrers-index.ts';
import { makeSigningCert, signJws, targetPayload } from '../envelope/make-signed.ts';
import { MemoryRegistry, OCI_INDEX, OCI_MANIFEST } from '../verifier/memory-registry.ts';
import { attachSignature, engineWith, notationDir, targetOf } from '../verifier/fixtures.ts';

const JWS = 'application/jose+json';

function image(opts: { referrersApi?: boolean; pageSize?: number } = {}) {
  const registry = new MemoryRegistry(opts);
  const config = Buffer.from('{"x":1}');
  const m = registry.putManifest({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: registry.putBlob(config), size: config.length }, layers: [] }, 'v1');
  const descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  return { registry, descriptor, target: targetOf(registry, 'registry.example', 'app', 'v1') };
}

/** n distinct (garbage) signature manifests on the image. */
function garbage(registry: MemoryRegistry, descriptor: { mediaType: string; digest: string; size: number }, n: number): string[] {
  return Array.from({ length: n }, (_, i) => attachSignature(registry, Buffer.from(`not an envelope ${i}`), JWS, descriptor));
}

t.test('Referrers API pages are followed and bounded', async (t) => {
  const { registry, descriptor, target } = image({ pageSize: 2 });
  const sigs = garbage(registry, descriptor, 5);
  const all = await discoverSignatures(registry, target);
  t.ok(all.ok && all.source === 'referrers-api');
  if (all.ok) t.same(new Set(all.signatures.map((s) => s.digest)), new Set(sigs));
  t.equal(registry.calls.referrers, 3, 'three pages');

  registry.calls.referrers = 0;
  const bounded = await discoverSignatures(registry, target, { ...DEFAULT_DISCOVERY_LIMITS, maxPages: 2 });
  t.ok(bounded.ok && bounded.truncated && bounded.signatures.length === 4, 'stops after maxPages, says truncated');
  t.equal(registry.calls.referrers, 2);
});

t.test('at most maxSignatures (50) are handed on; more → truncated', async (t) => {
  const { registry, descriptor, target } = image();
  garbage(registry, descriptor, 60);
  const found = await discoverSignatures(registry, target);
  t.ok(found.ok);
  if (found.ok) {
    t.equal(found.signatures.length, 50);
    t.ok(found.truncated);
  }
});

t.test('no Referrers API: the sha256-<hex> tag index; no tag: no signatures (not an error)', async (t) => {
  const { registry, descriptor, target } = image({ referrersApi: false });
  const none = await discoverSignatures(registry, target);
  t.same(none, { ok: true, source: 'referrers-tag', signatures: [], truncated: false });
  const [sig] = garbage(registry, descriptor, 1);
  registry.putManifest({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: registry.referrersOf(descriptor.digest) }, descriptor.digest.replace(':', '-'));
  const found = await discoverSignatures(registry, target);
  t.ok(found.ok && found.source === 'referrers-tag' && found.signatures[0]?.digest === sig);
});

t.test('client-side filtering: only image manifests of the signature artifact type, once each', async (t) => {
  const { registry, descriptor, target } = image();
  const [sig] = garbage(registry, descriptor, 1);
  const size = registry.manifests.get(sig!)!.bytes.length;
  const lying: ArtifactFetcher = {
    ...registry,
    manifest: registry.manifest.bind(registry),
    blob: registry.blob.bind(registry),
    referrers: async () => ({
      supported: true,
      next: undefined,
      bytes: Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: sig, size, artifactType: SIGNATURE_ARTIFACT_TYPE },
          { mediaType: OCI_MANIFEST, digest: sig, size, artifactType: SIGNATURE_ARTIFACT_TYPE },
          { mediaType: OCI_MANIFEST, digest: `sha256:${'a'.repeat(64)}`, size: 10, artifactType: 'application/spdx+json' },
          { mediaType: OCI_INDEX, digest: `sha256:${'b'.repeat(64)}`, size: 10, artifactType: SIGNATURE_ARTIFACT_TYPE },
          { mediaType: OCI_MANIFEST, digest: `sha256:${'c'.repeat(64)}`, size: 10 },
        ],
      })),
    }),
  };
  const found = await discoverSignatures(lying, target);
  t.ok(found.ok);
  if (found.ok) t.same(found.signatures.map((s) => s.digest), [sig]);
});

t.test('fetch failures are typed, and a malformed index is the registry\'s fault', async (t) => {
  const { registry, target } = image();
  for (const code of ['UPSTREAM_UNAVAILABLE', 'RATE_LIMITED', 'UPSTREAM_DENIED'] as const) {
    registry.fail = (kind) => (kind === 'referrers' ? new FetchError(code, `boom ${code}`) : undefined);
    t.same(await discoverSignatures(registry, target), { ok: false, code, message: `boom ${code}` });
  }
  registry.fail = () => undefined;
  registry.referrersApi = false;
  registry.fail = (kind) => (kind === 'manifest' ? new FetchError('UPSTREAM_UNAVAILABLE', 'tag lookup failed') : undefined);
  t.match(await discoverSignatures(registry, target), { ok: false, code: 'UPSTREAM_UNAVAILABLE' }, 'the tag fallback too');
  registry.fail = undefined;
  registry.putManifest(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":"nope"}'), target.digest.text.replace(':', '-'));
  t.match(await discoverSignatures(registry, target), { ok: false, code: 'INVALID_RESPONSE' });
  const thrower: ArtifactFetcher = { referrers: () => Promise.reject(new TypeError('bug')), manifest: registry.manifest.bind(registry), blob: registry.blob.bind(registry) };
  t.match(await discoverSignatures(thrower, target), { ok: false, code: 'INVALID_RESPONSE', message: /bug/ }, 'even an unexpected exception');
  const huge: ArtifactFetcher = { ...thrower, referrers: async () => ({ supported: true, next: undefined, bytes: Buffer.alloc(DEFAULT_DISCOVERY_LIMITS.maxManifestBytes + 1) }) };
  t.match(await discoverSignatures(huge, target), { ok: false, code: 'TOO_LARGE' });
});

t.test('signature manifest checks: layers, media types, subject, sizes, missing blobs', async (t) => {
  const { registry, descriptor, target } = image();
  const envelope = registry.putBlob(Buffer.from('{}'));
  const base = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: SIGNATURE_ARTIFACT_TYPE, digest: envelope, size: 2 }, subject: descriptor };
  const layer = { mediaType: JWS, digest: envelope, size: 2 };
  const check = async (doc: object, kind: string, says: RegExp) => {
    const m = registry.putManifest(doc);
    const got = await fetchSignature(registry, target, { digest: m.digest, mediaType: OCI_MANIFEST, size: m.size, artifactType: SIGNATURE_ARTIFACT_TYPE }, DEFAULT_DISCOVERY_LIMITS);
    t.match(got, { ok: false, kind, message: says }, String(says));
  };
  await check({ ...base, layers: [] }, 'invalid', /exactly one signature envelope layer, it has 0/);
  await check({ ...base, layers: [layer, layer] }, 'invalid', /exactly one signature envelope layer, it has 2/);
  await check({ ...base, layers: [{ ...layer, mediaType: 'application/octet-stream' }] }, 'invalid', /not a signature envelope/);
  await check({ ...base, subject: { ...descriptor, digest: `sha256:${'0'.repeat(64)}` }, layers: [layer] }, 'invalid', /has subject sha256:0+, not/);
  await check({ ...base, config: { ...base.config, mediaType: 'application/vnd.oci.image.config.v1+json' }, layers: [layer] }, 'invalid', /not a Notary Project signature/);
  await check({ ...base, layers: [{ ...layer, size: 33 * 1024 * 1024 }] }, 'limit', /more than 33554432/);
  await check({ ...base, layers: [{ ...layer, digest: `sha256:${'f'.repeat(64)}` }] }, 'fetch', /unknown/);
  const artifactForm = { ...base, artifactType: SIGNATURE_ARTIFACT_TYPE, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: envelope, size: 2 }, layers: [layer] };
  const m = registry.putManifest(artifactForm);
  t.match(await fetchSignature(registry, target, { digest: m.digest, mediaType: OCI_MANIFEST, size: m.size, artifactType: SIGNATURE_ARTIFACT_TYPE }, DEFAULT_DISCOVERY_LIMITS), { ok: true, form: 'artifactType', envelopeMediaType: JWS });
});

t.test('through the verifier: failures become denials with their reason, never "no signature" or an allow', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'audit' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const { registry, descriptor, target } = image();
  attachSignature(registry, signJws(targetPayload(descriptor), cert.privateKey, cert.chain), JWS, descriptor);
  t.ok((await (await engineWith(dir, registry)).decide(target)).allow, 'baseline: allowed');

  const reasons: [string, (kind: string) => FetchError | undefined, string][] = [
    ['referrers down', (k) => (k === 'referrers' ? new FetchError('UPSTREAM_UNAVAILABLE', 'connect ECONNREFUSED') : undefined), 'upstream_unavailable'],
    ['rate limited', (k) => (k === 'referrers' ? new FetchError('RATE_LIMITED', 'upstream rate limited') : undefined), 'upstream_rate_limited'],
    ['envelope blob fails', (k) => (k === 'blob' ? new FetchError('UPSTREAM_UNAVAILABLE', 'reset') : undefined), 'upstream_unavailable'],
    ['signature manifest digest mismatch', (k) => (k === 'manifest' ? new FetchError('DIGEST_MISMATCH', 'bytes do not match') : undefined), 'upstream_invalid'],
  ];
  for (const [name, fail, reason] of reasons) {
    registry.fail = fail;
    const d = await (await engineWith(dir, registry)).decide(target);
    t.notOk(d.allow, `${name}: ${d.message}`);
    t.equal(d.reason, reason, name);
  }
  registry.fail = undefined;

  const hang: ArtifactFetcher = { referrers: () => new Promise(() => {}), manifest: registry.manifest.bind(registry), blob: registry.blob.bind(registry) };
  const slow = await (await engineWith(dir, registry, { fetcherFor: () => hang, timeoutMs: 50 })).decide(target);
  t.match(slow, { allow: false, reason: 'verification_timeout' });

  const nowhere = await (await engineWith(dir, registry, { fetcherFor: () => undefined })).decide(target);
  t.match(nowhere, { allow: false, reason: 'upstream_unavailable', message: 'registry registry.example is not configured' });
});

t.test('more than 50 signatures, none valid among the first 50: too_many_signatures', async (t) => {
  const cert = await makeSigningCert({ keyType: 'ec-p256' });
  const dir = notationDir(t, { policy: { version: '1.0', trustPolicies: [{ name: 'd', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:d'], trustedIdentities: ['*'] }] }, stores: { 'ca:d': [cert.certificate] } });
  const { registry, descriptor, target } = image();
  garbage(registry, descriptor, 55);
  const d = await (await engineWith(dir, registry)).decide(target);
  t.notOk(d.allow);
  t.equal(d.reason, 'too_many_signatures');
  t.equal(d.signatures?.length, 50, 'exactly 50 tried');
  t.match(d.message, /none of the first 50 signatures verified/);
});

t.test('ReferrersSupport: a registry without the API is not asked again until the memo expires', async (t) => {
  const { ReferrersSupport } = await import('../../../verifiers/notation/discovery/discover.ts');
  let now = 0;
  const support = new ReferrersSupport(1000, () => now);
  const { registry, target } = image({ referrersApi: false });
  await discoverSignatures(registry, target, DEFAULT_DISCOVERY_LIMITS, support);
  await discoverSignatures(registry, target, DEFAULT_DISCOVERY_LIMITS, support);
  t.equal(registry.calls.referrers, 1, 'asked once');
  t.equal(registry.calls.manifest, 2, 'the tag index both times');
  now = 1500;
  registry.referrersApi = true;
  const found = await discoverSignatures(registry, target, DEFAULT_DISCOVERY_LIMITS, support);
  t.equal(registry.calls.referrers, 2, 'asked again after expiry');
  t.ok(found.ok && found.source === 'referrers-api', 'and uses the API once it is there');
});
