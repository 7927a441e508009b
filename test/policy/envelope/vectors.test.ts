/**
 * Every Notation envelope in test/vectors parses and verifies, or fails with the
 * code test/vectors/README.md implies (§ 2.1, § 2.4, § 3.1, § 3.2, § 3.4, § 4, § 8).
 */
import t from 'tap';
import type { Test } from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseEnvelope, parseTargetArtifact, verifyEnvelopeSignature } from '../../../verifiers/notation/envelope/index.ts';
import type { SignatureEnvelope, EnvelopeErrorCode } from '../../../verifiers/notation/envelope/index.ts';
import { codeOf } from './helpers.ts';

const VECTORS = path.resolve(import.meta.dirname, '../../vectors');
const JWS = 'application/jose+json';
const COSE = 'application/cose';

function read(rel: string): Buffer {
  return readFileSync(path.join(VECTORS, rel));
}

function verified(t: Test, rel: string, mediaType: string): SignatureEnvelope {
  const env = parseEnvelope(read(rel), mediaType);
  t.doesNotThrow(() => verifyEnvelopeSignature(env), `${rel} verifies`);
  return env;
}

t.test('notation e2e OCI layouts: every signature manifest layer', async (t) => {
  const layouts = path.join(VECTORS, 'notation/test/e2e/testdata/registry/oci_layout');
  const seen: string[] = [];
  for (const layout of readdirSync(layouts).sort()) {
    const blobs = path.join(layouts, layout, 'blobs/sha256');
    for (const name of readdirSync(blobs).sort()) {
      const bytes = readFileSync(path.join(blobs, name));
      let manifest: {
        config?: { mediaType?: string };
        artifactType?: string;
        layers?: { mediaType: string; digest: string }[];
        subject?: { mediaType: string; digest: string; size: number };
        annotations?: Record<string, string>;
      };
      try {
        manifest = JSON.parse(bytes.toString('utf8'));
      } catch {
        continue;
      }
      const isSignature =
        manifest.config?.mediaType === 'application/vnd.cncf.notary.signature' ||
        manifest.artifactType === 'application/vnd.cncf.notary.signature';
      if (!isSignature) continue;
      const layer = manifest.layers?.[0];
      t.ok(layer, `${layout}/${name} has a layer`);
      if (layer === undefined) continue;
      const blob = readFileSync(path.join(blobs, layer.digest.replace('sha256:', '')));
      seen.push(`${layout}:${name.slice(0, 8)}`);
      if (layout === 'e2e-invalid-signature') {
        // README § 2.1: the layer is a tar with "invalid signature\n" — not an envelope.
        t.equal(
          codeOf(() => parseEnvelope(blob, layer.mediaType)),
          'UNSUPPORTED_MEDIA_TYPE',
        );
        t.equal(
          codeOf(() => parseEnvelope(blob, JWS)),
          'MALFORMED',
        );
        t.equal(
          codeOf(() => parseEnvelope(blob, COSE)),
          'MALFORMED',
        );
        continue;
      }
      t.equal(layer.mediaType, JWS);
      const env = parseEnvelope(blob, layer.mediaType);
      t.same(
        verifyEnvelopeSignature(env),
        { algorithm: 'PS256', keySpec: { type: 'RSA', size: 2048 } },
        `${layout} envelope verifies`,
      );
      // Payload descriptor = the signed subject (notation-go verifier content.Equal).
      const target = parseTargetArtifact(env.payload.content);
      t.same(
        { mediaType: target.mediaType, digest: target.digest, size: target.size },
        manifest.subject,
        `${layout} payload matches subject`,
      );
      // Chain = the manifest's io.cncf.notary.x509chain.thumbprint#S256 annotation.
      const thumbprints = env.signerInfo.certificateChain.map((c) => createHash('sha256').update(c).digest('hex'));
      t.same(
        thumbprints,
        JSON.parse(manifest.annotations?.['io.cncf.notary.x509chain.thumbprint#S256'] ?? '[]'),
        `${layout} chain thumbprints`,
      );
      if (layout === 'e2e-expired-signature') {
        t.equal(env.signerInfo.expiry?.toISOString(), '2023-06-27T05:21:21.000Z');
        t.equal(env.signerInfo.signingTime?.toISOString(), '2023-06-27T05:20:21.000Z');
        t.same(env.signerInfo.critical, ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry']);
      }
      if (layout === 'e2e-valid-signature') {
        t.equal(env.signerInfo.signingTime?.toISOString(), '2023-06-27T05:30:33.000Z', '+08:00 offset applied');
        t.equal(env.signerInfo.signingAgent, 'Notation/1.0.0');
        t.equal(env.signerInfo.expiry, undefined);
        t.equal(env.signerInfo.timestampSignature, undefined);
      }
      if (layout === 'e2e-with-timestamped-signature') {
        t.equal(env.signerInfo.timestampSignature?.length, 6031);
        t.same(target.annotations, { purpose: 'e2e' });
        t.equal(env.signerInfo.expiry?.toISOString(), '2025-01-21T12:39:46.000Z');
      }
      if (layout === 'e2e-with-invalid-timestamped-signature') {
        // The countersignature is base64("invalid\n"): carried as bytes, parsed elsewhere.
        t.equal(Buffer.from(env.signerInfo.timestampSignature ?? []).toString(), 'invalid\n');
      }
    }
  }
  t.same(seen, [
    'e2e-expired-signature:3829708b',
    'e2e-invalid-signature:321fcc67',
    'e2e-valid-multiple-signatures:90ceaff2',
    'e2e-valid-multiple-signatures:c3ebe4a2',
    'e2e-valid-signature:90ceaff2',
    'e2e-with-expired-cert:b06e392c',
    'e2e-with-invalid-timestamped-signature:eee3eec7',
    'e2e-with-timestamped-signature:6a5cd3a8',
  ]);
});

t.test('notation e2e blob signatures (README § 2.4)', async (t) => {
  const descriptor = {
    mediaType: 'application/octet-stream',
    digest: 'sha256:c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4',
    size: 11357,
  };
  for (const [file, mediaType] of [
    ['blob.jws.sig', JWS],
    ['blob.cose.sig', COSE],
  ] as const) {
    const env = verified(t, `notation/test/e2e/testdata/signatures/${file}`, mediaType);
    t.equal(env.mediaType, mediaType);
    t.match(parseTargetArtifact(env.payload.content), descriptor);
    t.ok((env.signerInfo.timestampSignature?.length ?? 0) > 1000, `${file} carries a TSA token`);
    t.match(env.signerInfo.signingAgent, /^notation-go\//);
  }
  t.equal(
    codeOf(() => parseEnvelope(read('notation/test/e2e/testdata/signatures/malformed.jws.sig'), JWS)),
    'MALFORMED',
  );
});

t.test('notation-go mock envelopes (README § 3.1)', async (t) => {
  const dir = 'notation-go/internal/mock/testdata';
  const target = {
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
    size: 528,
  };
  const expectations: Record<string, EnvelopeErrorCode | 'ok'> = {
    'ca_valid_sig_env.json': 'ok',
    'sa_valid_sig_env.json': 'ok',
    'ca_expired_sig_env.json': 'ok', // expiry is policy's call; signature is valid
    'sa_expired_sig_env.json': 'ok',
    'sig_env_with_metadata.json': 'ok',
    // payload has a trailing "=": padded base64url is rejected (integrity failure upstream)
    'ca_invalid_sig_env.json': 'MALFORMED',
    'sa_invalid_sig_env.json': 'MALFORMED',
    // critical SomeKey / verification plugin: no plugin support → must reject
    'ca_plugin_sig_env.json': 'UNKNOWN_CRITICAL_HEADER',
    'sa_plugin_sig_env.json': 'UNKNOWN_CRITICAL_HEADER',
  };
  for (const v of ['0.0.9', '1.0.0-alpha', '1.0.0-alpha.beta', '1.0.0'])
    expectations[`ca_compatible_pluginver_sig_env_${v}.json`] = 'UNKNOWN_CRITICAL_HEADER';
  for (const v of ['1.0.1', '1.0.9', '1.1.0-alpha', '1.2.3'])
    expectations[`ca_incompatible_pluginver_sig_env_${v}.json`] = 'UNKNOWN_CRITICAL_HEADER';
  const files = readdirSync(path.join(VECTORS, dir))
    .filter((f) => f.endsWith('.json'))
    .sort();
  t.same(files, Object.keys(expectations).sort(), 'every mock envelope has an expectation');
  for (const file of files) {
    const bytes = read(`${dir}/${file}`);
    t.equal(
      codeOf(() => verifyEnvelopeSignature(parseEnvelope(bytes, JWS))),
      expectations[file],
      file,
    );
  }
  const ca = parseEnvelope(read(`${dir}/ca_valid_sig_env.json`), JWS);
  t.same(verifyEnvelopeSignature(ca), { algorithm: 'PS384', keySpec: { type: 'RSA', size: 3072 } });
  t.equal(ca.signerInfo.certificateChain.length, 2);
  t.equal(ca.signerInfo.expiry?.toISOString(), '2120-11-09T07:00:00.000Z');
  t.equal(ca.signerInfo.signingAgent, undefined, 'io.cncf.notary.SigningAgent (wrong case) is not the signing agent');
  t.match(parseTargetArtifact(ca.payload.content), target);
  const sa = parseEnvelope(read(`${dir}/sa_valid_sig_env.json`), JWS);
  t.equal(sa.signerInfo.signingScheme, 'notary.x509.signingAuthority');
  t.equal(sa.signerInfo.authenticSigningTime?.toISOString(), '2020-11-09T07:00:00.000Z');
  t.equal(sa.signerInfo.signingTime, undefined);
  const meta = parseTargetArtifact(parseEnvelope(read(`${dir}/sig_env_with_metadata.json`), JWS).payload.content);
  t.same(meta.annotations, { 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1672944615' });
  t.equal(meta.size, 942);
  // The invalid envelope is the valid one plus "=": stripping it must not be what makes it fail.
  const invalid = JSON.parse(read(`${dir}/ca_invalid_sig_env.json`).toString());
  t.equal(invalid.payload.slice(0, -1), JSON.parse(read(`${dir}/ca_valid_sig_env.json`).toString()).payload);
  t.match(
    codeOfMessage(() => parseEnvelope(read(`${dir}/ca_plugin_sig_env.json`), JWS)),
    /SomeKey/,
  );
  t.match(
    codeOfMessage(() => parseEnvelope(read(`${dir}/ca_compatible_pluginver_sig_env_1.0.0.json`), JWS)),
    /verification plugin/,
  );
});

function codeOfMessage(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

t.test('notation-go real signatures and timestamp vectors (README § 3.2, § 3.4)', async (t) => {
  const alpine = { digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0', size: 481 };
  for (const [file, mt] of [
    ['jws_signature.sig', JWS],
    ['cose_signature.sig', COSE],
  ] as const) {
    const env = verified(t, `notation-go/internal/testdata/${file}`, mt);
    t.match(parseTargetArtifact(env.payload.content), alpine, file);
  }
  const ts = 'notation-go/verifier/testdata/timestamp/sigEnv';
  const files: Record<string, [string, boolean]> = {
    'jwsWithTimestamp.sig': [JWS, true],
    'coseWithTimestamp.sig': [COSE, true],
    'jwsExpiredWithTimestamp.sig': [JWS, true],
    'coseExpiredWithTimestamp.sig': [COSE, true],
    'timestampBeforeNotBefore.sig': [JWS, true],
    'timestampAfterNotAfter.sig': [COSE, true],
    'withoutTimestamp.sig': [JWS, false],
  };
  t.same(readdirSync(path.join(VECTORS, ts)).sort(), Object.keys(files).sort());
  for (const [file, [mt, hasTimestamp]] of Object.entries(files)) {
    const env = verified(t, `${ts}/${file}`, mt);
    t.equal(env.signerInfo.timestampSignature !== undefined, hasTimestamp, `${file} timestamp presence`);
    t.match(parseTargetArtifact(env.payload.content), {
      digest: 'sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda',
      size: 528,
    });
    // README § 1: the TSA imprint is SHA-256 of the raw signature bytes — they must be the exact bytes.
    t.equal(env.signerInfo.signature.length, 256);
  }
  const cose = parseEnvelope(read(`${ts}/coseWithTimestamp.sig`), COSE);
  t.equal(cose.signerInfo.signingTime?.toISOString(), '2024-06-18T06:27:11.000Z');
  t.equal(cose.signerInfo.signingAgent, 'Notation/1.0.0');
  t.same(cose.signerInfo.critical, ['io.cncf.notary.signingScheme']);
});

t.test('connaisseur notation mock registry JWS (README § 8)', async (t) => {
  const env = verified(
    t,
    'connaisseur/test/testdata/notation/sse-secure-systems/testimage/blobs/sha256:929a0a249c4614eb8bef5a914308896e7c8c5422d508eaddfd98dfe61683e556.json',
    JWS,
  );
  t.match(parseTargetArtifact(env.payload.content), {
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    digest: 'sha256:a136cc4e785798e5e8483047cf621cf0a0300a93d47703a3f066c340c070f5cf',
    size: 526,
  });
});

t.test('every vector envelope fails once a signed byte changes', async (t) => {
  const jws = [
    'notation/test/e2e/testdata/registry/oci_layout/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50',
    'notation-go/internal/mock/testdata/ca_valid_sig_env.json',
    'notation-go/verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig',
  ];
  for (const rel of jws) {
    const doc = JSON.parse(read(rel).toString());
    const payload = JSON.parse(Buffer.from(doc.payload, 'base64url').toString());
    payload.targetArtifact.size += 1;
    const tampered = Buffer.from(JSON.stringify({ ...doc, payload: Buffer.from(JSON.stringify(payload)).toString('base64url') }));
    t.equal(
      codeOf(() => verifyEnvelopeSignature(parseEnvelope(tampered, JWS))),
      'SIGNATURE_INVALID',
      `${rel}: payload`,
    );
  }
  for (const rel of ['notation-go/internal/testdata/cose_signature.sig', 'notation/test/e2e/testdata/signatures/blob.cose.sig']) {
    const bytes = read(rel);
    const at = bytes.indexOf(Buffer.from('"size":'));
    t.ok(at > 0);
    const tampered = Buffer.from(bytes);
    tampered[at + 7] = tampered[at + 7] === 0x39 ? 0x38 : tampered[at + 7]! + 1; // change a digit of the size
    t.equal(
      codeOf(() => verifyEnvelopeSignature(parseEnvelope(tampered, COSE))),
      'SIGNATURE_INVALID',
      `${rel}: payload`,
    );
  }
});

t.test('notation-core-go conformance vectors (README § 4): no chain, critical extended attribute', async (t) => {
  const jws = read('notation-core-go/signature/jws/testdata/conformance.json');
  t.equal(
    codeOf(() => parseEnvelope(jws, JWS)),
    'UNKNOWN_CRITICAL_HEADER',
    'JWS: signedCritKey1 is critical',
  );
  const cose = JSON.parse(read('notation-core-go/signature/cose/testdata/conformance.json').toString());
  t.equal(
    codeOf(() => parseEnvelope(Buffer.from(cose.expectedOutput.cborHex, 'hex'), COSE)),
    'UNKNOWN_CRITICAL_HEADER',
    'COSE: signedCritKey1 is critical',
  );
});
