/**
 * parseTargetArtifact: signature-specification.md § "Payload" and image-spec descriptor rules.
 */
import t from 'tap';
import { LIMITS, parseTargetArtifact } from '../../../verifiers/notation/envelope/index.ts';
import { codeOf } from './helpers.ts';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const target = (overrides: Record<string, unknown> = {}) =>
  json({ targetArtifact: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: 517, ...overrides } });

t.test('valid descriptors', async (t) => {
  t.same(parseTargetArtifact(target()), { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: DIGEST, size: 517 });
  const full = parseTargetArtifact(
    target({
      artifactType: 'application/vnd.example+json',
      annotations: { 'io.wabbit-networks.buildId': '123' },
      urls: ['x'],
      platform: {},
    }),
  );
  t.same(full, {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: DIGEST,
    size: 517,
    artifactType: 'application/vnd.example+json',
    annotations: { 'io.wabbit-networks.buildId': '123' },
  });
  t.ok(Object.isFrozen(full.annotations));
  t.same(parseTargetArtifact(target({ annotations: null })).annotations, undefined);
  t.same(parseTargetArtifact(target({ size: 0 })).size, 0);
  t.equal(parseTargetArtifact(target({ digest: `sha512:${'ab'.repeat(64)}` })).digest, `sha512:${'ab'.repeat(64)}`);
  t.equal(
    parseTargetArtifact(target({ digest: 'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8' })).digest.split(
      ':',
    )[0],
    'multihash+base58',
    'unregistered algorithm: grammar only',
  );
  t.equal(
    parseTargetArtifact(json({ targetArtifact: { mediaType: 'application/octet-stream', digest: DIGEST, size: 1 }, extra: true }))
      .size,
    1,
    'unknown members ignored',
  );
  const proto = parseTargetArtifact(target({ annotations: JSON.parse('{"__proto__":"x"}') }));
  t.equal(Object.keys(proto.annotations ?? {}).length, 1);
});

t.test('invalid payloads', async (t) => {
  const bad: [string, Uint8Array][] = [
    ['not JSON', Buffer.from('{')],
    ['array', json([])],
    ['no targetArtifact', json({ target: {} })],
    ['case-sensitive member', json({ TargetArtifact: { mediaType: 'a/b', digest: DIGEST, size: 1 } })],
    ['missing mediaType', target({ mediaType: undefined })],
    ['empty mediaType', target({ mediaType: '' })],
    ['mediaType without subtype', target({ mediaType: 'application' })],
    ['mediaType with parameters', target({ mediaType: 'text/plain; charset=utf-8' })],
    ['missing digest', target({ digest: undefined })],
    ['upper-case sha256', target({ digest: DIGEST.toUpperCase() })],
    ['sha256 upper-case hex', target({ digest: `sha256:${'AB'.repeat(32)}` })],
    ['short sha256', target({ digest: 'sha256:abc' })],
    ['no algorithm', target({ digest: 'abc' })],
    ['size string', target({ size: '517' })],
    ['size negative', target({ size: -1 })],
    ['size fractional', target({ size: 1.5 })],
    ['size unsafe', target({ size: 2 ** 53 })],
    ['annotations array', target({ annotations: ['a'] })],
    ['annotation number', target({ annotations: { a: 1 } })],
    ['artifactType number', target({ artifactType: 3 })],
    ['invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x7d])],
  ];
  for (const [name, bytes] of bad)
    t.equal(
      codeOf(() => parseTargetArtifact(bytes)),
      'MALFORMED_PAYLOAD',
      name,
    );
  const many = Object.fromEntries(Array.from({ length: LIMITS.maxAnnotations + 1 }, (_, i) => [`k${i}`, 'v']));
  t.equal(
    codeOf(() => parseTargetArtifact(target({ annotations: many }))),
    'LIMIT_EXCEEDED',
  );
  t.equal(
    codeOf(() => parseTargetArtifact(Buffer.from('['.repeat(100_000)))),
    'LIMIT_EXCEEDED',
  );
});
