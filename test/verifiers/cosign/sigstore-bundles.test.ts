/**
 * All 71 Sigstore bundle cases of test/vectors/sigstore (README § 11): the 70 sigstore-conformance `bundle-verify`
 * cases by their folder convention (`_fail` suffix = must fail; `key.pub` = key instead of identity; own
 * `trusted_root.json` else the public-good root shipped in verifiers/cosign/trust/), plus cosign's OCI attestation
 * bundle. Also measures the cost of one verification (reported, never asserted).
 */
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { prepareTrustedRoot, verifySigstoreBundle, type BundleExpectation } from '../../../verifiers/cosign/sigstore-bundle.ts';

const V = join(import.meta.dirname, '../../vectors/sigstore');
const CASES = join(V, 'sigstore-conformance/test/assets/bundle-verify');
const PUBLIC_GOOD = JSON.parse(readFileSync(join(import.meta.dirname, '../../../verifiers/cosign/trust/public-good.trusted_root.json'), 'utf8')) as unknown;
const DEFAULT_ID = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const opt = (dir: string, f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : undefined);

function runCase(name: string): { ok: boolean; detail: string } {
  const dir = join(CASES, name);
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8'));
  } catch {
    return { ok: false, detail: 'bundle is not JSON' };
  }
  const rootText = opt(dir, 'trusted_root.json');
  let trust;
  try {
    trust = prepareTrustedRoot(rootText ? JSON.parse(rootText.toString('utf8')) : PUBLIC_GOOD);
  } catch (e) {
    return { ok: false, detail: (e as Error).message };
  }
  const key = opt(dir, 'key.pub');
  const expect: BundleExpectation = key ? { key: key.toString('utf8') } : {
    identity: { subject: opt(dir, 'identity')?.toString('utf8').trim() ?? DEFAULT_ID, issuer: opt(dir, 'issuer')?.toString('utf8').trim() ?? DEFAULT_ISSUER },
  };
  const artifact = opt(dir, 'artifact') ?? readFileSync(join(CASES, '../a.txt'));
  const v = verifySigstoreBundle(bundle, artifact, trust, expect);
  return { ok: v.ok, detail: v.ok ? v.signer : `${v.code}: ${v.message}` };
}

t.test('sigstore-conformance bundle-verify: every case gets its verdict', async (t) => {
  const names = readdirSync(CASES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  t.equal(names.length, 70, 'all 70 cases present');
  for (const name of names) {
    const r = runCase(name);
    t.equal(r.ok, !name.endsWith('_fail'), `${name}: ${r.detail.slice(0, 160)}`);
  }
});

t.test("cosign's OCI attestation bundle (public-good root)", async (t) => {
  const bundle = JSON.parse(readFileSync(join(V, 'cosign-oci-attestation.sigstore.json'), 'utf8')) as {
    verificationMaterial: { certificate: { rawBytes: string } }; dsseEnvelope: { payload: string };
  };
  const cert = new X509Certificate(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));
  const san = /URI:([^,]+)|email:([^,]+)/.exec(cert.subjectAltName ?? '');
  const subject = (san?.[1] ?? san?.[2] ?? '').trim();
  const trust = prepareTrustedRoot(PUBLIC_GOOD);
  const artifact = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
  const good = verifySigstoreBundle(bundle, artifact, trust, { identity: { subject, issuer: /https:\/\/.*/ } });
  t.ok(good.ok, `verifies as ${good.ok ? good.signer : good.message}`);
  t.match(verifySigstoreBundle(bundle, artifact, trust, { identity: { subject: 'someone@else.example', issuer: /.*/ } }), { ok: false, code: 'identity_mismatch' }, 'other subject');
  t.match(verifySigstoreBundle(bundle, artifact, trust, { identity: { subject: /.*/, issuer: 'https://accounts.google.com.evil' } }), { ok: false, code: 'identity_mismatch' }, 'other issuer');
  t.match(verifySigstoreBundle(bundle, artifact, trust, { identity: { subject: new RegExp(subject.slice(1).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), issuer: /.*/ } }),
    { ok: false, code: 'identity_mismatch' }, 'subject regex is anchored (a suffix does not match)');

  // cost of one verification, warm (trust root prepared once, as a rule does)
  const n = 50;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) verifySigstoreBundle(bundle, artifact, trust, { identity: { subject, issuer: /.*/ } });
  const per = Number(process.hrtime.bigint() - t0) / n / 1e6;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < 10; i++) prepareTrustedRoot(PUBLIC_GOOD);
  const prep = Number(process.hrtime.bigint() - t1) / 10 / 1e6;
  t.comment(`@sigstore/verify: ${per.toFixed(2)} ms per keyless bundle verification; ${prep.toFixed(2)} ms to prepare the public-good trusted root`);
});
