// Trust stores read from the notation CLI layout, with notation-go's rules (verifier/truststore
// truststore_test.go) applied to the vector stores, and the error cases of a hand-made layout.
import t from 'tap';
import type { Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadNotationConfig } from '../../../verifiers/notation/trust/notation-config.ts';
import { buildNamedStore } from '../../../verifiers/notation/trust/trust-store.ts';
import type { TrustStoreType } from '../../../verifiers/notation/trust/trust-store-ref.ts';

const VECTORS = join(import.meta.dirname, '../../vectors');
const GO_STORES = join(VECTORS, 'notation-go/verifier/testdata/truststore/x509');
const LOCALKEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const TIMESTAMP = join(VECTORS, 'notation/test/e2e/testdata/config/timestamp');
const INTERNAL = join(VECTORS, 'notation/internal/testdata');
const E2E_POLICIES = join(VECTORS, 'notation/test/e2e/testdata/config/trustpolicies');

/** A fresh notation config dir; `files` maps relative paths to source files (copied) or contents. */
function configDir(t: Test, files: Record<string, string | Buffer | { from: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'pullgate-trust-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'object' && 'from' in content) copyFileSync(content.from, path);
    else writeFileSync(path, content);
  }
  return root;
}

const policyWith = (trustStores: string[], level = 'strict'): string =>
  JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'p', registryScopes: ['*'], signatureVerification: { level }, trustStores, trustedIdentities: ['*'] }] });

const fingerprintOf = (path: string): string => new X509Certificate(readFileSync(path)).fingerprint256;

t.test('the e2e layout: localkeys/e2e.crt as ca:e2e with the e2e trustpolicy.json', async (t) => {
  const dir = configDir(t, {
    'trustpolicy.json': { from: join(E2E_POLICIES, 'trustpolicy.json') },
    'truststore/x509/ca/e2e/e2e.crt': { from: join(LOCALKEYS, 'e2e.crt') },
  });
  const config = await loadNotationConfig(dir);
  t.equal(config.sources.policyFile, join(dir, 'trustpolicy.json'));
  t.same([...config.sources.stores], [['ca:e2e', join(dir, 'truststore/x509/ca/e2e')]]);
  const statement = config.policy.statements[0];
  const ca = config.trustStore.certificates(statement?.trustStores ?? [], 'ca');
  t.ok(ca.ok);
  t.same(ca.ok ? ca.certificates.map((c) => c.fingerprint256) : [], [fingerprintOf(join(LOCALKEYS, 'e2e.crt'))]);
  t.same(config.trustStore.certificates(statement?.trustStores ?? [], 'tsa'), { ok: true, certificates: [] }, 'no tsa store named: nothing to load');
  t.same(config.trustStore.problems(), []);
  t.match(config.fingerprint, /^sha256:[0-9a-f]{64}$/);

  // TimestampOptions(): the two TSA roots as tsa:e2e, with timestamp_trustpolicy.json.
  const ts = await loadNotationConfig(configDir(t, {
    'trustpolicy.json': { from: join(E2E_POLICIES, 'timestamp_trustpolicy.json') },
    'truststore/x509/ca/e2e/e2e.crt': { from: join(LOCALKEYS, 'e2e.crt') },
    'truststore/x509/tsa/e2e/globalsignTSARoot.cer': { from: join(TIMESTAMP, 'globalsignTSARoot.cer') },
    'truststore/x509/tsa/e2e/DigiCertTSARootSHA384.cer': { from: join(TIMESTAMP, 'DigiCertTSARootSHA384.cer') },
  }));
  const tsa = ts.trustStore.certificates(ts.policy.statements[0]?.trustStores ?? [], 'tsa');
  t.equal(tsa.ok ? tsa.certificates.length : tsa.error.message, 2);
});

/** notation-go truststore_test.go, over the vector stores copied into a config dir. */
t.test('notation-go vector stores', async (t) => {
  const files: Record<string, { from: string }> = {};
  const refs: string[] = [];
  for (const type of ['ca', 'signingAuthority', 'tsa'] as const) {
    for (const name of readdirSync(join(GO_STORES, type))) {
      if (name.endsWith('_SYMLINK')) continue; // symlinks were copied as text files; tested below with real ones
      refs.push(`${type}:${name}`);
      for (const f of readdirSync(join(GO_STORES, type, name))) files[`truststore/x509/${type}/${name}/${f}`] = { from: join(GO_STORES, type, name, f) };
    }
  }
  const config = await loadNotationConfig(configDir(t, { ...files, 'trustpolicy.oci.json': policyWith(refs) }));
  const store = (type: TrustStoreType, name: string) => config.trustStore.get(type, name);
  const count = (type: TrustStoreType, name: string): number | string => {
    const s = store(type, name);
    return s.ok ? s.certificates.length : s.error.message;
  };
  const error = (type: TrustStoreType, name: string): { code: string; message: string } => {
    const s = store(type, name);
    return s.ok ? { code: 'ok', message: '' } : { code: s.error.code, message: s.error.message };
  };

  t.equal(count('ca', 'valid-trust-store'), 6, 'TestLoadValidTrustStore (CA roots and self-signed signing certs)');
  t.equal(count('ca', 'valid-trust-store-2'), 2);
  t.equal(count('ca', 'valid-trust-store-self-signed'), 1, 'TestLoadValidTrustStoreWithSelfSignedSigningCertificate');
  t.equal(count('signingAuthority', 'valid-trust-store'), 3);
  t.equal(count('signingAuthority', 'valid-trust-store-2'), 2);
  t.equal(count('tsa', 'test-timestamp'), 1);
  t.equal(count('tsa', 'test-mismatch'), 1);

  t.match(error('ca', 'trust-store-with-invalid-certs'), { code: 'CERT_MALFORMED', message: 'failed to read the trusted certificate invalid in trust store trust-store-with-invalid-certs of type ca' });
  t.match(error('ca', 'trust-store-with-leaf-certs'), {
    code: 'CERT_NOT_CA_OR_SELF_SIGNED',
    message: 'failed to validate the trusted certificate non-ca.crt in trust store trust-store-with-leaf-certs of type ca: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a CA certificate or self-signed signing certificate',
  });
  t.match(error('ca', 'trust-store-with-leaf-certs-in-single-file'), { code: 'CERT_NOT_CA_OR_SELF_SIGNED', message: 'failed to validate the trusted certificate RootAndLeafCerts.crt in trust store trust-store-with-leaf-certs-in-single-file of type ca' });
  t.match(error('tsa', 'test-nonCA'), {
    code: 'CERT_NOT_ROOT',
    message: 'trusted certificate wabbit-networks.io.crt in trust store test-nonCA of type tsa is invalid: certificate with subject "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate',
  });
  t.match(error('tsa', 'test-nonSelfIssued'), {
    code: 'CERT_NOT_ROOT',
    message: 'trusted certificate nonSelfIssued.crt in trust store test-nonSelfIssued of type tsa is invalid: certificate with subject "CN=Notation Test Revokable RSA Chain Cert 2,O=Notary,L=Seattle,ST=WA,C=US" is not a root CA certificate: issuer (CN=Notation Test Revokable RSA Chain Cert Root,O=Notary,L=Seattle,ST=WA,C=US) and subject (CN=Notation Test Revokable RSA Chain Cert 2,O=Notary,L=Seattle,ST=WA,C=US) are not the same',
  });
  t.same(config.trustStore.problems().map((p) => `${p.storeType}:${p.storeName}`).sort(), [
    'ca:trust-store-with-invalid-certs', 'ca:trust-store-with-leaf-certs', 'ca:trust-store-with-leaf-certs-in-single-file', 'tsa:test-nonCA', 'tsa:test-nonSelfIssued',
  ]);

  // A statement naming one broken store cannot use any of its stores (loadX509TrustStoresWithType).
  const mixed = config.trustStore.certificates([{ type: 'ca', name: 'valid-trust-store', text: 'ca:valid-trust-store' }, { type: 'ca', name: 'trust-store-with-leaf-certs', text: 'ca:trust-store-with-leaf-certs' }], 'ca');
  t.equal(mixed.ok ? 'ok' : mixed.error.code, 'CERT_NOT_CA_OR_SELF_SIGNED');
  // Duplicates are loaded once.
  const twice = config.trustStore.certificates([{ type: 'ca', name: 'valid-trust-store-2', text: 'ca:valid-trust-store-2' }, { type: 'ca', name: 'valid-trust-store-2', text: 'ca:valid-trust-store-2' }], 'ca');
  t.equal(twice.ok ? twice.certificates.length : -1, 2);
});

t.test('store errors are outcomes, not exceptions (ERRATA 1)', async (t) => {
  const dir = configDir(t, {
    'trustpolicy.json': { from: join(E2E_POLICIES, 'invalid_trust_store_trustpolicy.json') },
    'truststore/x509/ca/e2e/e2e.crt': { from: join(LOCALKEYS, 'e2e.crt') },
  });
  const config = await loadNotationConfig(dir);
  const missing = config.trustStore.get('ca', 'invalid_store');
  t.equal(missing.ok ? 'ok' : missing.error.code, 'STORE_NOT_FOUND');
  t.match(missing.ok ? '' : missing.error.message, `the trust store "invalid_store" of type "ca" does not exist (${join(dir, 'truststore/x509/ca/invalid_store')})`);
  t.equal(config.trustStore.problems().length, 1, 'reported for start-up warnings');
  t.equal(config.trustStore.get('ca', 'never-named').ok, false, 'a store the policy does not name is not loaded');
});

t.test('layout error cases', async (t) => {
  const certsOf = async (type: TrustStoreType, files: Record<string, string | Buffer | { from: string }>, extra: (root: string) => void = () => {}) => {
    const root = configDir(t, { 'trustpolicy.json': policyWith([`${type}:s`]), ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`truststore/x509/${type}/s/${k}`, v])) });
    extra(root);
    const s = (await loadNotationConfig(root)).trustStore.get(type, 's');
    return s.ok ? { code: 'ok', count: s.certificates.length, message: '' } : { code: s.error.code, count: 0, message: s.error.message };
  };
  const globalSign = { from: join(INTERNAL, 'GlobalSign.der') };
  const root = { from: join(INTERNAL, 'NotationTestRoot.pem') };

  t.match(await certsOf('ca', {}, (r) => mkdirSync(join(r, 'truststore/x509/ca/s'), { recursive: true })), { code: 'STORE_EMPTY', message: 'no x509 certificates were found in trust store "s" of type "ca"' });
  t.match(await certsOf('ca', { 'Empty.txt': '' }), { code: 'CERT_MALFORMED', message: 'failed to validate the trusted certificate Empty.txt in trust store s of type ca: input certs cannot be empty' });
  t.match(await certsOf('ca', { 'invalid.txt': { from: join(VECTORS, 'notation/cmd/notation/internal/truststore/testdata/invalid.txt') } }), { code: 'CERT_MALFORMED', message: 'failed to read the trusted certificate invalid.txt' });
  t.match(await certsOf('ca', { 'invalid.crt': { from: join(TIMESTAMP, 'invalid.crt') } }), { code: 'CERT_MALFORMED' });
  t.match(await certsOf('ca', { 'README.md': '# certificates go here\n', 'root.pem': root }), { code: 'CERT_MALFORMED', message: 'README.md' }, 'any non-certificate file fails the store, whatever its name');
  t.match(await certsOf('ca', { 'root.pem': root, 'sub/ca.pem': root }), { code: 'STORE_ENTRY_NOT_FILE', message: 'trusted certificate sub in trust store s of type ca is not a regular file (directories or symlinks are not supported)' });
  t.match(await certsOf('ca', { 'GlobalSignRootCA.crt': { from: join(GO_STORES, 'trust-store-with-directories/GlobalSignRootCA.crt') }, 'sub-dir/.gitkeep': '' }), { code: 'STORE_ENTRY_NOT_FILE' }, 'notation-go trust-store-with-directories');
  const keyAndCert = Buffer.concat([readFileSync(join(INTERNAL, 'NotationTestRoot.pem')), readFileSync(join(LOCALKEYS, 'e2e.key'))]);
  t.match(await certsOf('ca', { 'bundle.pem': keyAndCert }), { code: 'CERT_MALFORMED' }, 'a key in a PEM file is an error, not skipped');

  t.match(await certsOf('ca', { 'two.pem': Buffer.concat([readFileSync(join(INTERNAL, 'NotationTestRoot.pem')), readFileSync(join(INTERNAL, 'GlobalSignRootCA.crt'))]) }), { code: 'ok', count: 2 }, 'several certificates in one PEM file');
  t.match(await certsOf('ca', { 'two.der': Buffer.concat([readFileSync(join(INTERNAL, 'GlobalSign.der')), readFileSync(join(INTERNAL, 'tsaRootCA.cer'))]) }), { code: 'ok', count: 2 }, 'concatenated DER');
  t.match(await certsOf('ca', { 'a.cer': globalSign, 'b.crt': root, 'c.pem': { from: join(LOCALKEYS, 'e2e.crt') }, 'd': { from: join(INTERNAL, 'self-signed.crt') } }), { code: 'ok', count: 4 }, 'extensions do not matter');
  t.match(await certsOf('ca', { 'chain.pem': { from: join(INTERNAL, 'CertChain.pem') } }), { code: 'CERT_NOT_CA_OR_SELF_SIGNED' }, 'a chain with its leaf is refused');
  t.match(await certsOf('signingAuthority', { 'intermediate.pem': { from: join(INTERNAL, 'intermediate.pem') } }), { code: 'ok', count: 1 }, 'CA certificates are fine in ca/signingAuthority, root or not');

  // tsa stores: root CA certificates only.
  t.match(await certsOf('tsa', { 'g.cer': { from: join(TIMESTAMP, 'globalsignTSARoot.cer') }, 'd.cer': { from: join(TIMESTAMP, 'DigiCertTSARootSHA384.cer') } }), { code: 'ok', count: 2 });
  t.match(await certsOf('tsa', { 'e2e.crt': { from: join(LOCALKEYS, 'e2e.crt') } }), { code: 'CERT_NOT_ROOT', message: 'parent certificate cannot sign this kind of certificate' }, 'a self-signed leaf is not a TSA root');
  t.match(await certsOf('tsa', { 'intermediate.pem': { from: join(TIMESTAMP, 'intermediate.pem') } }), { code: 'CERT_NOT_ROOT', message: 'is not a root CA certificate' });
  t.match(await certsOf('tsa', { 'notSelfIssued.crt': { from: join(TIMESTAMP, 'notSelfIssued.crt') } }), { code: 'CERT_NOT_ROOT' });
  t.match(await certsOf('tsa', { 'chain.pem': { from: join(TIMESTAMP, 'CertChain.pem') } }), { code: 'CERT_NOT_CA_OR_SELF_SIGNED' });

  // The store path itself.
  t.match(await certsOf('ca', {}, (r) => { mkdirSync(join(r, 'truststore/x509/ca'), { recursive: true }); writeFileSync(join(r, 'truststore/x509/ca/s'), 'x'); }), { code: 'STORE_NOT_DIRECTORY' });
  const dots = await loadNotationConfig(configDir(t, { 'trustpolicy.json': policyWith(['ca:..']), 'truststore/x509/ca/x/root.pem': root }));
  const dotStore = dots.trustStore.get('ca', '..');
  t.equal(dotStore.ok ? 'ok' : dotStore.error.code, 'STORE_NAME_INVALID', '".." passes notation’s charset but is never a store');
});

t.test('symlinks: refused as notation does, or confined to the config dir', async (t) => {
  const root = { from: join(INTERNAL, 'NotationTestRoot.pem') };
  const dir = configDir(t, { 'real/trustpolicy.json': policyWith(['ca:s', 'ca:linked']), 'truststore/x509/ca/s/root.pem': root, 'elsewhere/root.pem': root });
  symlinkSync(join(dir, 'real/trustpolicy.json'), join(dir, 'trustpolicy.json'));
  await t.rejects(loadNotationConfig(dir), { code: 'POLICY_NOT_REGULAR_FILE', message: /trust policy is not a regular file \(symlinks are not supported\)/ });

  const config = await loadNotationConfig(dir, { allowSymlinks: true });
  t.equal(config.sources.policyFile, join(dir, 'trustpolicy.json'));

  symlinkSync(join(dir, 'elsewhere/root.pem'), join(dir, 'truststore/x509/ca/s/link.pem'));
  symlinkSync(join(dir, 'truststore/x509/ca/s'), join(dir, 'truststore/x509/ca/linked'));
  writeFileSync(join(dir, 'trustpolicy.oci.json'), policyWith(['ca:s', 'ca:linked']));
  const strict = await loadNotationConfig(dir);
  const s = strict.trustStore.get('ca', 's');
  t.match(s.ok ? {} : s.error, { code: 'STORE_ENTRY_NOT_FILE', message: /link\.pem in trust store s of type ca is not a regular file/ });
  const linked = strict.trustStore.get('ca', 'linked');
  t.match(linked.ok ? {} : linked.error, { code: 'STORE_NOT_DIRECTORY', message: /symlinks are not supported/ });

  const relaxed = await loadNotationConfig(dir, { allowSymlinks: true });
  const rs = relaxed.trustStore.get('ca', 's');
  const rl = relaxed.trustStore.get('ca', 'linked');
  t.equal(rs.ok ? rs.certificates.length : rs.error.message, 2);
  t.equal(rl.ok ? rl.certificates.length : rl.error.message, 2);

  // Never outside the config dir, even when symlinks are allowed.
  const outside = mkdtempSync(join(tmpdir(), 'pullgate-outside-'));
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));
  copyFileSync(join(INTERNAL, 'NotationTestRoot.pem'), join(outside, 'evil.pem'));
  symlinkSync(join(outside, 'evil.pem'), join(dir, 'truststore/x509/ca/s/evil.pem'));
  const escaped = (await loadNotationConfig(dir, { allowSymlinks: true })).trustStore.get('ca', 's');
  t.match(escaped.ok ? {} : escaped.error, { code: 'STORE_ENTRY_NOT_FILE', file: 'evil.pem', message: /evil\.pem in trust store s of type ca leads outside the configuration directory/ });
  writeFileSync(join(outside, 'trustpolicy.oci.json'), policyWith(['ca:s']));
  rmSync(join(dir, 'trustpolicy.oci.json'));
  symlinkSync(join(outside, 'trustpolicy.oci.json'), join(dir, 'trustpolicy.oci.json'));
  await t.rejects(loadNotationConfig(dir, { allowSymlinks: true }), { code: 'POLICY_NOT_REGULAR_FILE', message: /outside the configuration directory/ });

  // Nor through a symlinked parent directory.
  rmSync(join(dir, 'trustpolicy.oci.json'));
  mkdirSync(join(outside, 'store'));
  copyFileSync(join(INTERNAL, 'NotationTestRoot.pem'), join(outside, 'store/root.pem'));
  symlinkSync(outside, join(dir, 'truststore/x509/tsa'));
  writeFileSync(join(dir, 'trustpolicy.oci.json'), policyWith(['ca:s', 'tsa:store']));
  const viaParent = (await loadNotationConfig(dir, { allowSymlinks: true })).trustStore.get('tsa', 'store');
  t.match(viaParent.ok ? {} : viaParent.error, { code: 'STORE_NOT_DIRECTORY', message: /leads outside the configuration directory/ });
});

t.test('a Kubernetes ConfigMap/Secret volume layout', async (t) => {
  // The kubelet's atomic writer: real files under a timestamped dir, `..data` → it, and top-level symlinks.
  const dir = configDir(t, {
    '..2026_01_01_00_00_00.000000001/trustpolicy.json': { from: join(E2E_POLICIES, 'trustpolicy.json') },
    '..2026_01_01_00_00_00.000000001/truststore/x509/ca/e2e/e2e.crt': { from: join(LOCALKEYS, 'e2e.crt') },
  });
  symlinkSync('..2026_01_01_00_00_00.000000001', join(dir, '..data'));
  symlinkSync('..data/trustpolicy.json', join(dir, 'trustpolicy.json'));
  symlinkSync('..data/truststore', join(dir, 'truststore'));
  await t.rejects(loadNotationConfig(dir), { code: 'POLICY_NOT_REGULAR_FILE' }, 'notation itself refuses this');
  const config = await loadNotationConfig(dir, { allowSymlinks: true });
  const ca = config.trustStore.certificates(config.policy.statements[0]?.trustStores ?? [], 'ca');
  t.equal(ca.ok ? ca.certificates.length : ca.error.message, 1);

  // A store directory mounted straight from a volume has the writer's `..` entries inside: skipped.
  const store = join(dir, '..2026_01_01_00_00_00.000000001/truststore/x509/ca/e2e');
  mkdirSync(join(store, '..2026_01_02'));
  symlinkSync('..2026_01_02', join(store, '..data'));
  const again = await loadNotationConfig(dir, { allowSymlinks: true });
  t.equal(again.trustStore.problems().length, 0);
});

t.test('which policy file is read', async (t) => {
  const oci = policyWith(['ca:x']).replace('"p"', '"from-oci"');
  const legacy = policyWith(['ca:x']).replace('"p"', '"from-legacy"');
  const name = async (files: Record<string, string | { from: string }>): Promise<string> => (await loadNotationConfig(configDir(t, files))).policy.statements[0]?.name ?? '';
  t.equal(await name({ 'trustpolicy.oci.json': oci, 'trustpolicy.json': legacy }), 'from-oci', 'trustpolicy.oci.json wins (notation ≥ 1.2)');
  t.equal(await name({ 'trustpolicy.json': legacy }), 'from-legacy', 'trustpolicy.json when there is no trustpolicy.oci.json');

  await t.rejects(loadNotationConfig(configDir(t, {})), { code: 'POLICY_NOT_FOUND', message: /trust policy is not present \(neither trustpolicy\.oci\.json nor trustpolicy\.json\)/ });
  await t.rejects(loadNotationConfig(join(tmpdir(), 'pullgate-does-not-exist')), { code: 'POLICY_NOT_FOUND' });
  const badOci = configDir(t, { 'trustpolicy.oci.json': '{', 'trustpolicy.json': legacy });
  await t.rejects(loadNotationConfig(badOci), { code: 'POLICY_MALFORMED', source: join(badOci, 'trustpolicy.oci.json') }, 'a broken trustpolicy.oci.json is not skipped');
  const asDir = configDir(t, { 'trustpolicy.oci.json/x': '', 'trustpolicy.json': legacy });
  await t.rejects(loadNotationConfig(asDir), { code: 'POLICY_NOT_REGULAR_FILE' });
  const invalidFormat = configDir(t, { 'trustpolicy.json': { from: join(E2E_POLICIES, 'invalid_format_trustpolicy.json') } });
  await t.rejects(loadNotationConfig(invalidFormat), { code: 'POLICY_MALFORMED', message: new RegExp(`^${join(invalidFormat, 'trustpolicy.json').replaceAll('.', '\\.')}: malformed trust policy`) });
  const invalidRule = configDir(t, { 'trustpolicy.json': { from: join(E2E_POLICIES, 'overlapped_trusted_identity_trustpolicy.json') } });
  await t.rejects(loadNotationConfig(invalidRule), { code: 'IDENTITY_OVERLAP', source: join(invalidRule, 'trustpolicy.json') });
});

t.test('the fingerprint follows the policy and the stores it names', async (t) => {
  const root = { from: join(INTERNAL, 'NotationTestRoot.pem') };
  const dir = configDir(t, { 'trustpolicy.json': policyWith(['ca:a', 'ca:missing']), 'truststore/x509/ca/a/root.pem': root, 'truststore/x509/ca/unused/root.pem': root });
  const fp = async (): Promise<string> => (await loadNotationConfig(dir)).fingerprint;
  const first = await fp();
  t.equal(await fp(), first, 'stable');

  writeFileSync(join(dir, 'truststore/x509/ca/unused/other.pem'), readFileSync(join(INTERNAL, 'GlobalSignRootCA.crt')));
  t.equal(await fp(), first, 'a store the policy does not name does not count');

  copyFileSync(join(INTERNAL, 'GlobalSignRootCA.crt'), join(dir, 'truststore/x509/ca/a/second.pem'));
  const added = await fp();
  t.not(added, first, 'a file added to a named store');

  copyFileSync(join(LOCALKEYS, 'e2e.crt'), join(dir, 'truststore/x509/ca/a/second.pem'));
  const replaced = await fp();
  t.not(replaced, added, 'a file replaced');

  mkdirSync(join(dir, 'truststore/x509/ca/missing'));
  copyFileSync(join(INTERNAL, 'NotationTestRoot.pem'), join(dir, 'truststore/x509/ca/missing/r.pem'));
  const appeared = await fp();
  t.not(appeared, replaced, 'a missing store that appears');

  writeFileSync(join(dir, 'trustpolicy.json'), policyWith(['ca:a', 'ca:missing'], 'audit'));
  t.not(await fp(), appeared, 'the policy changes');
  t.ok(statSync(dir).isDirectory());
});

t.test('buildNamedStore is pure and orders entries by name', async (t) => {
  const e2e = readFileSync(join(LOCALKEYS, 'e2e.crt'));
  const ok = buildNamedStore('ca', 'x', [{ name: 'b.crt', kind: 'file', bytes: readFileSync(join(INTERNAL, 'NotationTestRoot.pem')) }, { name: 'a.crt', kind: 'file', bytes: e2e }]);
  t.same(ok.ok ? ok.certificates.map((c) => c.subject.split('\n').pop()) : [], ['CN=e2e', 'CN=Notation Test Root']);
  const failFirst = buildNamedStore('ca', 'x', [{ name: 'z.crt', kind: 'file', bytes: Buffer.from('junk') }, { name: 'a', kind: 'directory' }]);
  t.equal(failFirst.ok ? '' : failFirst.error.file, 'a', 'the first problem in name order is reported');
});
