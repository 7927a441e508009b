/**
 * Certificate steps of the notation / notation-go vectors (test/vectors/README.md § 2, § 3) with the README's
 * pinned clock: integrity (chain profile), authenticity (trust store match), and — for signatures without a
 * timestamp — the authenticTimestamp step's "every certificate valid now" rule. The envelope's own checks
 * (signature math, expiry, descriptor) belong to the envelope module and are not asserted here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseCertificates } from '../../../pki/certificate.ts';
import { checkValidity, validateSigningChain } from '../../../pki/chain.ts';
import { chainsToTrustStore, checkTrustAnchor } from '../../../pki/trust.ts';
import { extractEnvelope } from '../timestamp/envelope-extract.ts';

const V = new URL('../../vectors/', import.meta.url).pathname;
const NOW = new Date('2026-01-01T00:00:00Z');
const UNTRUSTED = "the signature's certificate chain does not contain any trusted certificate";
const certsIn = (path: string) => parseCertificates(readFileSync(`${V}${path}`));

interface Descriptor { mediaType: string; digest: string; annotations?: Record<string, string> }
interface Manifest { config: Descriptor; layers: Descriptor[] }

/** Envelope blobs of every Notation signature manifest in an OCI layout (legacy form, README § 1). */
function envelopesOf(layout: string): Uint8Array[] {
  const blobs = `${V}${layout}/blobs/sha256/`;
  const out: Uint8Array[] = [];
  for (const file of readdirSync(blobs)) {
    let m: Manifest;
    try {
      m = JSON.parse(readFileSync(blobs + file, 'utf8')) as Manifest;
    } catch {
      continue;
    }
    if (m?.config?.mediaType !== 'application/vnd.cncf.notary.signature') continue;
    const layer = m.layers?.[0];
    if (layer && (layer.mediaType === 'application/jose+json' || layer.mediaType === 'application/cose')) {
      out.push(readFileSync(blobs + layer.digest.replace('sha256:', '')));
    }
  }
  return out;
}

interface Case { id: string; kind: string; layout?: string; trustStores?: Record<string, string[]>; clock: string; expected: string }
const cases = (JSON.parse(readFileSync(`${V}expected-verdicts.json`, 'utf8')) as { cases: Case[] }).cases;

t.test('notation e2e layouts: certificate steps per expected-verdicts.json', async (t) => {
  const relevant = cases.filter((c) => c.kind === 'notation-oci-layout' && /e2e-(valid|expired|with-expired|with-timestamped)/.test(c.layout ?? ''));
  t.ok(relevant.length >= 20, `${relevant.length} layout cases`);
  for (const c of relevant) {
    const now = new Date(c.clock);
    const envelopes = envelopesOf(c.layout!).map(extractEnvelope);
    t.ok(envelopes.length > 0, `${c.id}: has signatures`);
    const storeFiles = Object.values(c.trustStores ?? {}).flat();
    const results = envelopes.map((env) => {
      const integrity = validateSigningChain(env.x5c, { purpose: 'codeSigning', now, validAt: null });
      const trusted = storeFiles[0]?.startsWith('<') ? env.x5c.slice(0, 1) : storeFiles.flatMap((f) => certsIn(f).map((x) => x.der));
      const authenticity = chainsToTrustStore(env.x5c, trusted);
      const validNow = validateSigningChain(env.x5c, { purpose: 'codeSigning', now });
      return { integrity, authenticity, validNow, hasTimestamp: env.timestampToken !== null };
    });
    for (const r of results) t.equal(r.integrity.ok, true, `${c.id}: chain satisfies the signing profile`);
    const layout = c.layout!.split('/').pop();
    if (layout === 'e2e-valid-signature' || layout === 'e2e-expired-signature') {
      const r = results[0]!;
      if (c.trustStores?.['ca:e2e']?.[0]?.endsWith('new_e2e.crt')) {
        t.same(r.authenticity, { ok: false, code: 'untrusted', message: UNTRUSTED }, `${c.id}: authenticity fails (${c.expected} at this level)`);
      } else {
        t.match(r.authenticity, { ok: true, chainIndex: 0 }, `${c.id}: signer trusted`);
      }
      t.equal(r.validNow.ok, true, `${c.id}: certificate valid at ${c.clock}`);
    } else if (layout === 'e2e-with-expired-cert') {
      t.match(results[0]!.authenticity, { ok: true }, `${c.id}: expired_e2e.crt is the trust anchor`);
      t.same(results[0]!.validNow, {
        ok: false,
        code: 'expired',
        message: 'verification time is after certificate "O=Internet Widgits Pty Ltd,ST=Some-State,C=AU" validity period, it was expired at "Tue, 27 Jun 2023 06:10:00 +0000"',
        index: 0,
      }, `${c.id}: no timestamp, so the authenticTimestamp step fails (${c.expected} at this level)`);
    } else if (layout === 'e2e-valid-multiple-signatures') {
      t.equal(results.length, 2);
      t.equal(results.filter((r) => r.authenticity.ok && r.validNow.ok).length, 1, `${c.id}: exactly one signature (CN=e2e) passes`);
      t.equal(results.filter((r) => !r.authenticity.ok).length, 1, `${c.id}: the CN=testcert11 signature is untrusted`);
    } else if (layout === 'e2e-with-timestamped-signature') {
      t.equal(results[0]!.hasTimestamp, true);
      t.match(results[0]!.validNow, { ok: false, code: 'expired', message: /CN=testcert7.*"Wed, 22 Jan 2025 08:36:26 \+0000"/ }, `${c.id}: testcert7 expired (strict verification fails)`);
    }
  }
});

t.test('notation e2e: validity at a clock inside the short-lived certificates', async (t) => {
  const [expired] = envelopesOf('notation/test/e2e/testdata/registry/oci_layout/e2e-with-expired-cert').map(extractEnvelope);
  t.equal(validateSigningChain(expired!.x5c, { purpose: 'codeSigning', now: new Date('2023-06-26T12:00:00Z') }).ok, true);
  const cert = parseCertificates(expired!.x5c[0]!)[0]!;
  t.same(checkValidity(cert, new Date('2023-06-27T06:10:00Z'), false), null, 'notAfter is inclusive');
  t.match(checkValidity(cert, new Date('2023-06-26T06:09:59Z'), false), { code: 'not-yet-valid', message: /will be valid from "Mon, 26 Jun 2023 06:10:00 \+0000"/ });
});

t.test('notation-go mock envelopes (README § 3.1)', async (t) => {
  const M = `${V}notation-go/internal/mock/testdata/`;
  const store = (name: string) => readdirSync(`${V}notation-go/verifier/testdata/truststore/x509/ca/${name}`).flatMap((f) => certsIn(`notation-go/verifier/testdata/truststore/x509/ca/${name}/${f}`));
  const validStore = store('valid-trust-store');
  const store2 = store('valid-trust-store-2');
  for (const file of ['ca_valid_sig_env.json', 'sa_valid_sig_env.json', 'ca_expired_sig_env.json', 'sa_expired_sig_env.json', 'ca_invalid_sig_env.json', 'ca_plugin_sig_env.json']) {
    const env = extractEnvelope(readFileSync(M + file));
    const chain = parseCertificates(env.x5c[0]!).concat(parseCertificates(env.x5c[1]!));
    t.equal(chain[0]!.subject.string, chain[0]!.issuer.string, `${file}: leaf subject equals issuer name…`);
    t.equal(validateSigningChain(env.x5c, { purpose: 'codeSigning', now: NOW }).ok, true, `${file}: …yet the chain builds by signature, not by name`);
    t.match(chainsToTrustStore(env.x5c, validStore), { ok: true, chainIndex: 1 }, `${file}: NotationTestRoot in ca:valid-trust-store`);
    t.same(chainsToTrustStore(env.x5c, store2), { ok: false, code: 'untrusted', message: UNTRUSTED }, `${file}: ca:valid-trust-store-2 (GlobalSign only)`);
  }
  for (const file of readdirSync(M).filter((f) => f.includes('pluginver'))) {
    t.match(chainsToTrustStore(extractEnvelope(readFileSync(M + file)).x5c, validStore), { ok: true, chainIndex: 0 }, `${file}: wabbit-networks.io leaf is itself trusted`);
  }
});

t.test('trust store certificates (README § 3.3, § 2.3)', async (t) => {
  const T = 'notation-go/verifier/testdata/truststore/x509/';
  for (const f of readdirSync(`${V}${T}ca/valid-trust-store`)) {
    for (const c of certsIn(`${T}ca/valid-trust-store/${f}`)) t.same(checkTrustAnchor(c, 'ca'), { ok: true }, `ca/valid-trust-store/${f}`);
  }
  t.same(checkTrustAnchor(certsIn(`${T}ca/trust-store-with-leaf-certs/non-ca.crt`)[0]!, 'ca'), {
    ok: false,
    code: 'invalid-trust-anchor',
    message: 'certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate',
  });
  t.match(certsIn(`${T}ca/trust-store-with-leaf-certs-in-single-file/RootAndLeafCerts.crt`).map((c) => checkTrustAnchor(c, 'ca').ok), [false, true]);
  t.throws(() => certsIn(`${T}ca/trust-store-with-invalid-certs/invalid`), { code: 'malformed' });
  t.same(checkTrustAnchor(certsIn(`${T}tsa/test-timestamp/globalsignRoot.cer`)[0]!, 'tsa'), { ok: true });
  t.match(checkTrustAnchor(certsIn(`${T}tsa/test-nonCA/wabbit-networks.io.crt`)[0]!, 'tsa'), {
    code: 'invalid-trust-anchor',
    message: /is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate$/,
  });
  t.match(checkTrustAnchor(certsIn(`${T}tsa/test-nonSelfIssued/nonSelfIssued.crt`)[0]!, 'tsa'), { message: /is not a root CA certificate: issuer \(.*\) and subject \(.*\) are not the same$/ });

  const TS = 'notation/test/e2e/testdata/config/timestamp/';
  t.same(checkTrustAnchor(certsIn(`${TS}globalsignTSARoot.cer`)[0]!, 'tsa'), { ok: true }, 'GlobalSign R6 is a TSA root');
  t.same(checkTrustAnchor(certsIn(`${TS}DigiCertTSARootSHA384.cer`)[0]!, 'tsa'), { ok: true }, 'DigiCert G4 is a TSA root');
  t.throws(() => certsIn(`${TS}invalid.crt`), { code: 'malformed' }, 'invalid.crt: malformed certificate');
  t.equal(certsIn(`${TS}Empty.txt`).length, 0, 'Empty.txt: no certificate');
  t.equal(certsIn(`${TS}CertChain.pem`).length, 2, 'CertChain.pem: more than one certificate');
  t.match(checkTrustAnchor(certsIn(`${TS}intermediate.pem`)[0]!, 'tsa'), { message: /crypto\/rsa: verification error$/ });
  t.match(checkTrustAnchor(certsIn(`${TS}notSelfIssued.crt`)[0]!, 'tsa'), { message: /is not a root CA certificate/ });
  t.same(checkTrustAnchor(certsIn('notation/internal/testdata/tsaRootCA.cer')[0]!, 'tsa'), { ok: true });
  t.match(checkTrustAnchor(certsIn('notation/internal/testdata/self-signed.crt')[0]!, 'tsa'), { message: /parent certificate cannot sign this kind of certificate$/ });
  t.same(checkTrustAnchor(certsIn('notation/cmd/notation/internal/truststore/testdata/NotationTestRoot.pem')[0]!, 'ca'), { ok: true });
  t.throws(() => certsIn('notation/cmd/notation/internal/truststore/testdata/invalid.txt'), { code: 'malformed' });
});

t.test('notation-go signer fixtures and subject strings (README § 3.4)', async (t) => {
  for (const f of ['jws_signature.sig', 'cose_signature.sig']) {
    const env = extractEnvelope(readFileSync(`${V}notation-go/internal/testdata/${f}`));
    t.equal(validateSigningChain(env.x5c, { purpose: 'codeSigning', now: NOW }).ok, true, `${f}: CN=alpine self-signed leaf`);
    t.match(chainsToTrustStore(env.x5c, env.x5c.slice(0, 1)), { ok: true }, `${f}: trusting the embedded leaf`);
  }
  const subject = (f: string) => certsIn(`notation-go/verifier/testdata/verifier/${f}`)[0]!.subject.string;
  t.equal(subject('signing-cert.pem'), 'CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US');
  t.equal(subject('bad-cert.pem'), 'CN=Bad=#CN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US');
  t.equal(certsIn('notation/test/e2e/testdata/config/localkeys/e2e.crt')[0]!.subject.string, 'CN=e2e,O=Notary,L=Seattle,ST=WA,C=US');
  const cn = certsIn('notation/test/e2e/testdata/config/crl/certchain_with_crl.pem')[0]!;
  t.same(cn.subject.rdns.flat().map((a) => `${a.type}=${a.value}`), ['C=US', 'ST=State', 'L=City', 'O=Organization', 'OU=OrgUnit', 'CN=LeafCert'], 'ordered attributes as encoded');
});
