/**
 * Signatures made in the test (node:crypto keys) for what the vectors lack: each key type cosign uses, payload
 * digest / type mismatches, thresholds, a Rekor SET made by a test log, and DSSE bundles attached as referrers.
 */
import t from 'tap';
import { constants, createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { type CosignKeyPolicyConfig, prepareCosignPolicy, verifyCosign } from '../../../verifiers/cosign/index.ts';
import { FetchError } from '../../../oci/discovery/fetcher.ts';
import { MemoryRegistry, putSignatures, type SigLayer } from './memory-registry.ts';

const REPO = 'team/app';
const SS = 'application/vnd.dev.cosign.simplesigning.v1+json';
type Pair = { pub: string; priv: KeyObject; alg: string | null; pss?: boolean };
const pubPem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
function pair(kind: 'p256' | 'p384' | 'rsa' | 'rsa-pss' | 'ed25519'): Pair {
  if (kind === 'p256' || kind === 'p384') {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: kind === 'p256' ? 'P-256' : 'P-384' });
    return { pub: pubPem(publicKey), priv: privateKey, alg: kind === 'p256' ? 'sha256' : 'sha384' };
  }
  if (kind === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    return { pub: pubPem(publicKey), priv: privateKey, alg: null };
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pub: pubPem(publicKey), priv: privateKey, alg: 'sha256', pss: kind === 'rsa-pss' };
}
const sig = (p: Pair, data: Buffer) => sign(p.alg, data, p.pss ? { key: p.priv, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : p.priv);

const image = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const digest = `sha256:${createHash('sha256').update(image).digest('hex')}`;
function payload(d = digest, type = 'cosign container image signature', ref = 'reg.example/team/app'): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': ref }, image: { 'docker-manifest-digest': d }, type }, optional: { env: 'prod' } }));
}
function layer(p: Pair, body = payload(), extra: Record<string, string> = {}): SigLayer {
  return { mediaType: SS, payload: body, annotations: { 'dev.cosignproject.cosign/signature': sig(p, body).toString('base64'), ...extra } };
}
function registry(layers: SigLayer[]): MemoryRegistry {
  const reg = new MemoryRegistry();
  reg.putManifest(REPO, 'v1', image);
  if (layers.length > 0) putSignatures(reg, REPO, digest, layers);
  return reg;
}
const verify = (reg: MemoryRegistry, c: CosignKeyPolicyConfig, reference?: string) =>
  verifyCosign(reg, { repository: REPO, digest, ...(reference ? { reference } : {}) }, prepareCosignPolicy(c));

t.test('each key type cosign uses', async (t) => {
  for (const kind of ['p256', 'p384', 'rsa', 'rsa-pss', 'ed25519'] as const) {
    const p = pair(kind);
    t.match(await verify(registry([layer(p)]), { keys: [{ name: kind, pem: p.pub }] }), { ok: true, verifiedBy: [{ name: kind }] }, `${kind} verifies`);
    const tampered = layer(p);
    tampered.payload = Buffer.from(tampered.payload.toString().replace('prod', 'dev!'));
    t.match(await verify(registry([tampered]), { keys: [{ name: kind, pem: p.pub }] }), { ok: false, code: 'key_not_trusted' }, `${kind}: tampered payload`);
  }
  const p384 = pair('p384');
  // cosign hashes P-384 with SHA-384: a SHA-256 signature by the same key is not accepted
  const l = layer(p384);
  l.annotations['dev.cosignproject.cosign/signature'] = sign('sha256', l.payload, p384.priv).toString('base64');
  t.match(await verify(registry([l]), { keys: [{ pem: p384.pub }] }), { ok: false, code: 'key_not_trusted' }, 'P-384 with the wrong hash');
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  t.throws(() => prepareCosignPolicy({ keys: [{ pem: pubPem(small) }] }), { code: 'unsupported_key' }, 'RSA-1024 refused at load');
  t.throws(() => prepareCosignPolicy({ keys: [{ pem: 'not a key' }] }), { code: 'unsupported_key' });
});

t.test('payload claims', async (t) => {
  const p = pair('p256');
  const keys = { keys: [{ pem: p.pub }] };
  t.match(await verify(registry([layer(p, payload(`sha256:${'0'.repeat(64)}`))]), keys), { ok: false, code: 'payload_digest_mismatch' }, 'payload for another digest');
  t.match(await verify(registry([layer(p, payload(digest, 'atomic container signature'))]), keys), { ok: false, code: 'wrong_payload_type' }, 'wrong critical.type');
  t.match(await verify(registry([layer(p, Buffer.from('not json'))]), keys), { ok: false, code: 'malformed' }, 'payload not JSON');
  t.match(await verify(registry([layer(p)]), { ...keys, referenceMatch: 'repository' }, 'reg.example/team/app:v1'), { ok: true }, 'repository match');
  t.match(await verify(registry([layer(p)]), { ...keys, referenceMatch: 'repository' }, 'reg.example/team/other:v1'), { ok: false, code: 'identity_mismatch' }, 'other repository');
  t.match(await verify(registry([layer(p)]), { ...keys, annotations: { env: 'prod' } }), { ok: true }, 'required annotation present');
  t.match(await verify(registry([layer(p)]), { ...keys, annotations: { env: 'dev' } }), { ok: false, code: 'identity_mismatch' }, 'required annotation differs');
  // a good signature next to a bad one: the good one counts
  t.match(await verify(registry([layer(p, payload(`sha256:${'1'.repeat(64)}`)), layer(p)]), keys), { ok: true }, 'one good of two');
});

t.test('threshold counts distinct keys', async (t) => {
  const [a, b, c] = [pair('p256'), pair('ed25519'), pair('rsa')] as [Pair, Pair, Pair];
  const keys = [{ name: 'a', pem: a.pub }, { name: 'b', pem: b.pub }, { name: 'c', pem: c.pub }];
  t.match(await verify(registry([layer(a), layer(b)]), { keys, threshold: 2 }), { ok: true, verifiedBy: [{ name: 'a' }, { name: 'b' }] });
  t.match(await verify(registry([layer(a), layer(a), layer(a)]), { keys, threshold: 2 }), { ok: false, code: 'threshold_not_met', message: /1 of 2/ }, 'one key three times is one');
  t.match(await verify(registry([layer(a), layer(b)]), { keys, threshold: 2, required: ['c'] }), { ok: false, code: 'threshold_not_met', message: /c/ }, 'required key missing');
  t.match(await verify(registry([layer(a), layer(b), layer(c)]), { keys, threshold: 3 }), { ok: true });
  t.match(await verify(registry([]), { keys, threshold: 2 }), { ok: false, code: 'no_signature' });
});

/** A test Rekor: signs SETs over canonical {body, integratedTime, logID, logIndex}. */
function rekorLog() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const logID = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
  const entry = (p: Pair, body: Buffer, signature: Buffer, over: Partial<{ sig: Buffer; body: Buffer }> = {}) => {
    const rekorBody = Buffer.from(JSON.stringify({
      apiVersion: '0.0.1', kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(over.body ?? body).digest('hex') } },
        signature: { content: (over.sig ?? signature).toString('base64'), publicKey: { content: Buffer.from(p.pub).toString('base64') } },
      },
    })).toString('base64');
    const signed = { body: rekorBody, integratedTime: 1_700_000_000, logID, logIndex: 42 };
    const set = sign('sha256', Buffer.from(JSON.stringify(signed)), privateKey);
    return JSON.stringify({ SignedEntryTimestamp: set.toString('base64'), Payload: signed });
  };
  return { pem: pubPem(publicKey), entry };
}

t.test('Rekor SET', async (t) => {
  const p = pair('p256');
  const log = rekorLog();
  const other = rekorLog();
  const body = payload();
  const s = sig(p, body);
  const withSet = (set: string): SigLayer => ({ mediaType: SS, payload: body, annotations: { 'dev.cosignproject.cosign/signature': s.toString('base64'), 'dev.sigstore.cosign/bundle': set } });
  const rule = { keys: [{ pem: p.pub }], rekor: { required: true, publicKeys: [log.pem] } };
  t.match(await verify(registry([withSet(log.entry(p, body, s))]), rule), { ok: true, verifiedBy: [{ integratedTime: 1_700_000_000 }] }, 'valid SET');
  t.match(await verify(registry([withSet(other.entry(p, body, s))]), rule), { ok: false, code: 'set_invalid', message: /not a trusted Rekor/ }, 'SET from an untrusted log');
  t.match(await verify(registry([withSet(log.entry(p, body, s, { sig: sig(p, Buffer.from('x')) }))]), rule), { ok: false, code: 'set_invalid', message: /another signature/ }, 'SET for another signature');
  t.match(await verify(registry([withSet(log.entry(p, body, s, { body: Buffer.from('x') }))]), rule), { ok: false, code: 'set_invalid', message: /another payload/ }, 'SET for another payload');
  const q = pair('p256');
  t.match(await verify(registry([withSet(log.entry(q, body, s))]), rule), { ok: false, code: 'set_invalid', message: /another public key/ }, 'SET names another key');
  const tamper = JSON.parse(log.entry(p, body, s)) as { Payload: { logIndex: number } };
  tamper.Payload.logIndex = 43;
  t.match(await verify(registry([withSet(JSON.stringify(tamper))]), rule), { ok: false, code: 'set_invalid', message: /does not verify/ }, 'SET over other fields');
  t.match(await verify(registry([layer(p)]), rule), { ok: false, code: 'rekor_required' }, 'no SET, Rekor required');
});

t.test('Sigstore bundle referrer (DSSE, key)', async (t) => {
  const p = pair('p256');
  const ART = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const statement = (d = digest, predicateType = 'https://sigstore.dev/cosign/sign/v1') => Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: d.slice(7) } }], predicateType, predicate: {},
  }));
  const pae = (b: Buffer) => Buffer.concat([Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${b.length} `), b]);
  function withBundle(st: Buffer, signer = p): MemoryRegistry {
    const reg = registry([]);
    const bundle = {
      mediaType: ART, verificationMaterial: { publicKey: { hint: 'k' }, tlogEntries: [] },
      dsseEnvelope: { payload: st.toString('base64'), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: sig(signer, pae(st)).toString('base64'), keyid: '' }] },
    };
    const blob = reg.putBlob(Buffer.from(JSON.stringify(bundle)));
    const empty = reg.putBlob(Buffer.from('{}'));
    const m = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: ART, config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty }, layers: [{ mediaType: ART, ...blob }], subject: { digest } };
    const md = reg.putManifest(REPO, 'bundle', Buffer.from(JSON.stringify(m)));
    reg.referrerIndexes.set(`${REPO}@${digest}`, Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, artifactType: ART }] })));
    return reg;
  }
  const keys = { keys: [{ name: 'k', pem: p.pub }] };
  t.match(await verify(withBundle(statement()), keys), { ok: true, verifiedBy: [{ name: 'k' }] }, 'DSSE bundle by key');
  t.match(await verify(withBundle(statement(`sha256:${'2'.repeat(64)}`)), keys), { ok: false, code: 'payload_digest_mismatch' }, 'subject is another image');
  t.match(await verify(withBundle(statement(digest, 'https://slsa.dev/provenance/v1')), keys), { ok: false, code: 'wrong_payload_type' }, 'not a cosign signature statement');
  t.match(await verify(withBundle(statement(), pair('p256')), keys), { ok: false, code: 'key_not_trusted' }, 'signed by another key');
  t.match(await verify(withBundle(statement()), { ...keys, layouts: ['tag'] }), { ok: false, code: 'no_signature' }, 'referrers not consulted when the rule says tag only');
});

t.test('fetch errors fail closed', async (t) => {
  const p = pair('p256');
  const reg = registry([layer(p)]);
  reg.blob = async () => { throw new FetchError('UPSTREAM_UNAVAILABLE', 'boom'); };
  t.match(await verify(reg, { keys: [{ pem: p.pub }] }), { ok: false, code: 'fetch_failed', message: /UPSTREAM_UNAVAILABLE/ });
});

t.test('cost of a key-based decision (reported, not asserted)', async (t) => {
  const p = pair('p256');
  const policy = prepareCosignPolicy({ keys: [{ pem: p.pub }], rekor: { required: false, publicKeys: [] } });
  const reg = registry([layer(p)]);
  for (let i = 0; i < 20; i++) await verifyCosign(reg, { repository: REPO, digest }, policy);
  const n = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await verifyCosign(reg, { repository: REPO, digest }, policy);
  t.comment(`key-based (P-256, tag layout, in-memory registry): ${(Number(process.hrtime.bigint() - t0) / n / 1e6).toFixed(3)} ms per decision`);
  t.pass();
});
