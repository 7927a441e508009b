// `x509.subject:` identities: DN parsing as notation-go (internal/pkix on go-ldap ParseDN), overlap rules, and
// matching a signing certificate the way notation-go verifyX509TrustedIdentities does.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSubsetDN, parseDistinguishedName } from '../../../verifiers/notation/trust/distinguished-name.ts';
import { parseCertificate } from '../../../pki/certificate.ts';
import { nameString as goSubjectString } from '../../../pki/names.ts';
import { matchTrustedIdentities, parseTrustedIdentities } from '../../../verifiers/notation/trust/trusted-identity.ts';
import type { TrustedIdentity } from '../../../verifiers/notation/trust/trusted-identity.ts';

const VECTORS = join(import.meta.dirname, '../../vectors');
const cert = (path: string): X509Certificate => new X509Certificate(readFileSync(join(VECTORS, path)));
const E2E = cert('notation/test/e2e/testdata/config/localkeys/e2e.crt');
const EXPIRED_E2E = cert('notation/test/e2e/testdata/config/localkeys/expired_e2e.crt');
const CONNAISSEUR = 'connaisseur/test/testdata/notation';

const dn = (text: string): Record<string, string> | string => {
  const r = parseDistinguishedName(text);
  return r.ok ? Object.fromEntries(r.dn.attributes) : r.reason;
};

t.test('parsing (notation-go TestValidateTrustedIdentities and RFC 4514 syntax)', async (t) => {
  t.same(dn('C=US,ST=WA,O=MyOrg'), { C: 'US', ST: 'WA', O: 'MyOrg' });
  t.same(dn(' CN=e2e,O=Notary,L=Seattle,ST=WA,C=US'), { CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' });
  t.same(dn('C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools'), { C: 'US', ST: 'WA', L: 'Seattle', O: 'wabbit-networks.io', OU: 'Security Tools' }, 'spaces around RDNs are not part of values');
  t.same(dn('C = US ,ST=WA,O=x'), { C: 'US', ST: 'WA', O: 'x' }, 'spaces around = are trimmed');
  t.same(dn('C=US,ST=WA,O=  My.  Org'), { C: 'US', ST: 'WA', O: 'My.  Org' });
  t.same(dn('C=US,ST=WA,O=My "special" Org \\, \\; \\\\ others'), { C: 'US', ST: 'WA', O: 'My "special" Org , ; \\ others' });
  t.same(dn('C=US,ST=WA,O=MyOrg,CustomRDN=CustomValue'), { C: 'US', ST: 'WA', O: 'MyOrg', CustomRDN: 'CustomValue' }, 'optional RDNs of any type');
  t.same(dn('C=US;ST=WA;O=x'), { C: 'US', ST: 'WA', O: 'x' }, '; separates RDNs too');
  t.same(dn('C=US,ST=WA,O=a\\2Cb'), { C: 'US', ST: 'WA', O: 'a,b' }, 'hex escapes');
  t.same(dn('C=US,ST=WA,O=\\C3\\A9t\\C3\\A9'), { C: 'US', ST: 'WA', O: 'été' }, 'hex escapes build UTF-8');
  t.same(dn('C=US,ST=WA,O=x=y'), { C: 'US', ST: 'WA', O: 'x=y' }, 'only the first = ends the type');
  t.same(dn('C=US,S=WA,O=x'), { C: 'US', ST: 'WA', O: 'x' }, 'S is an alias of ST (notation-go #432)');
  t.same(dn('\tC=US,ST=WA,O=x\u0085'), { C: 'US', ST: 'WA', O: 'x' }, 'trimmed with Go unicode.IsSpace');
  t.same(dn('C=US,ST=WA,O=x\ufeff'), { C: 'US', ST: 'WA', O: 'x\ufeff' }, 'U+FEFF is not a Go space');
  t.same(dn('C=,C=US,ST=WA,O=x'), { C: 'US', ST: 'WA', O: 'x' }, 'an empty value does not count as a first occurrence');

  t.equal(dn(',,,'), `parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`);
  t.equal(dn('C=US,C=IN'), 'distinguished name (DN) "C=US,C=IN" has duplicate RDN attribute for "C", DN can only have unique RDN attributes');
  t.equal(dn('C=US,ST=WA,S=OR,O=x'), 'distinguished name (DN) "C=US,ST=WA,S=OR,O=x" has duplicate RDN attribute for "ST", DN can only have unique RDN attributes');
  t.equal(dn('C=US,ST=WA'), `distinguished name (DN) "C=US,ST=WA" has no mandatory RDN attribute for "O", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`);
  t.equal(dn('C=US+ST=WA,O=MyOrg'), 'distinguished name (DN) "C=US+ST=WA,O=MyOrg" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported');
  t.equal(dn('C=US,ST=WA,O=#0403616263'), 'unsupported distinguished name (DN) "C=US,ST=WA,O=#0403616263": notation does not support x509.subject identities containing "=#"');
  t.match(dn('c=US,st=WA,o=x'), 'has no mandatory RDN attribute for "C"', 'attribute types are case-sensitive');
  t.match(dn('C=US,ST=WA,O=x,'), 'DN ended with incomplete type, value pair');
  t.match(dn('C=US,ST=WA,O=x,CN'), 'DN ended with incomplete type, value pair');
  t.match(dn('C=US,ST=WA,O=x\\'), 'got corrupted escaped character');
  t.match(dn('C=US,ST=WA,O=\\zz'), 'failed to decode escaped character');
  t.match(dn('C=US,ST=WA,O=\\4'), 'failed to decode escaped character');
  t.match(dn(''), 'has no mandatory RDN attribute for "C"');
  t.match(dn('C=US,ST=WA,O='), 'has no mandatory RDN attribute for "O"', 'an empty value is absent');
});

t.test('subset comparison ignores order', async (t) => {
  const a = parseDistinguishedName('C=US,ST=WA,O=Notary');
  const b = parseDistinguishedName('CN=e2e,O=Notary,L=Seattle,ST=WA,C=US');
  const c = parseDistinguishedName('O=Notary,C=US,ST=WA');
  t.ok(a.ok && b.ok && c.ok);
  if (!a.ok || !b.ok || !c.ok) return;
  t.ok(isSubsetDN(a.dn, b.dn));
  t.notOk(isSubsetDN(b.dn, a.dn));
  t.ok(isSubsetDN(a.dn, c.dn) && isSubsetDN(c.dn, a.dn), 'same attributes in another order are equal');
});

t.test('identities: validation and overlap (notation-go validateTrustedIdentities)', async (t) => {
  const parse = (...raw: string[]): string | TrustedIdentity['kind'][] => {
    const r = parseTrustedIdentities('s', raw);
    return r.ok ? r.identities.map((i) => i.kind) : r.code;
  };
  t.same(parse('*'), ['any']);
  t.same(parse('x509.subject: C=US, ST=WA, O=a', 'x509.subject: C=US, ST=WA, O=b'), ['x509.subject', 'x509.subject']);
  t.same(parse('unknown:my-trusted-identity'), ['other']);
  t.same(parse('X509.Subject:C=US,ST=WA,O=x'), ['other'], 'the prefix is case-sensitive: anything else is an opaque identity');
  t.equal(parse('x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=MyOrg,X=Y'), 'IDENTITY_OVERLAP');
  t.equal(parse('x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject: O=MyOrg, ST=WA, C=US'), 'IDENTITY_OVERLAP', 'the same DN in another order overlaps');
  t.equal(parse('x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,S=WA,O=MyOrg'), 'IDENTITY_OVERLAP', 'S and ST are one attribute');
  t.equal(parse('x509.subject:,,,'), 'IDENTITY_DN_INVALID');
  t.equal(parse('*', '*'), 'IDENTITY_WILDCARD_MIXED');
  const overlap = parseTrustedIdentities('p', ['x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=MyOrg,X=Y']);
  t.equal(overlap.ok ? '' : overlap.reason, 'trust policy statement "p" has overlapping x509 trustedIdentities, "x509.subject:C=US,ST=WA,O=MyOrg" overlaps with "x509.subject:C=US,ST=WA,O=MyOrg,X=Y"');
  const invalid = parseTrustedIdentities('p', ['x509.subject:,,,']);
  t.match(invalid.ok ? '' : invalid.reason, 'trust policy statement "p" has trusted identity "x509.subject:,,," with invalid identity value: parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair');
});

const statement = (...identities: string[]): { name: string; trustedIdentities: readonly TrustedIdentity[] } => {
  const r = parseTrustedIdentities('e2e', identities);
  if (!r.ok) throw new Error(r.reason);
  return { name: 'e2e', trustedIdentities: r.identities };
};

t.test('matching the signer (vectors README §2.1 trusted identity rows)', async (t) => {
  t.equal(parseCertificate(E2E.raw).subject.string, 'CN=e2e,O=Notary,L=Seattle,ST=WA,C=US', 'Go prints the subject in this order');

  const valid = matchTrustedIdentities(statement('x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US'), E2E);
  t.ok(valid.ok, 'valid_trusted_identity_trustpolicy.json matches e2e.crt');
  t.ok(matchTrustedIdentities(statement('x509.subject: C=US, O=Notary, ST=WA'), E2E).ok, 'a subset in any order matches');
  t.ok(matchTrustedIdentities(statement('x509.subject: C=US, O=Notary, S=WA'), E2E).ok, 'S matches the certificate’s ST');
  t.ok(matchTrustedIdentities(statement('*'), E2E).ok, '* matches any signer');
  t.ok(matchTrustedIdentities(statement('x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US'), E2E.raw).ok, 'DER bytes work too');

  const usb = matchTrustedIdentities(statement('x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=USB'), E2E);
  t.notOk(usb.ok, 'invalid_trusted_identity_trustpolicy.json does not match');
  t.match(usb.ok ? '' : usb.reason, 'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"USB" "CN":"e2e" "L":"Seattle" "O":"Notary" "ST":"WA"]] defined in the trust policy "e2e"');
  t.notOk(matchTrustedIdentities(statement('x509.subject: C=us, O=Notary, ST=WA'), E2E).ok, 'values are case-sensitive');

  // multiple_trusted_identity_trustpolicy.json: each of its two identities admits its own certificate.
  const both = statement('x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US', 'x509.subject: O=Internet Widgits Pty Ltd,ST=Some-State,C=AU');
  t.ok(matchTrustedIdentities(both, E2E).ok);
  t.ok(matchTrustedIdentities(both, EXPIRED_E2E).ok);
  t.notOk(matchTrustedIdentities(statement('x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US'), EXPIRED_E2E).ok);

  const opaque = matchTrustedIdentities(statement('unknown:whatever'), E2E);
  t.equal(opaque.ok ? '' : opaque.reason, 'no x509 trusted identities are configured in the trust policy "e2e"');
});

t.test('certificate subjects notation cannot compare', async (t) => {
  // A certificate without ST: its own DN fails notation's mandatory-attribute rule, so no identity matches.
  const noState = new X509Certificate(readFileSync(join(VECTORS, 'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/GlobalSignRootCA.crt')));
  const r = matchTrustedIdentities(statement('x509.subject: C=US, ST=WA, O=GlobalSign'), noState);
  t.notOk(r.ok);
  t.match(r.ok ? '' : r.reason, 'error while parsing the certificate subject from the digital signature');

  // Attribute types outside Go's nine print last as OID=#<DER>, which notation refuses.
  const email = goSubjectString([{ oid: '2.5.4.6', value: 'US' }, { oid: '1.2.840.113549.1.9.1', value: 'a@b.c' }]);
  t.equal(email, 'C=US,1.2.840.113549.1.9.1=#0c056140622e63');
  t.match(parseDistinguishedName(email), { ok: false, reason: /notation does not support x509.subject identities containing "=#"/ });
  // Two values of one type print as one multi-valued RDN; Go's field order; escaping round-trips.
  t.equal(goSubjectString([{ oid: '2.5.4.11', value: 'a' }, { oid: '2.5.4.11', value: 'b' }, { oid: '2.5.4.3', value: ' x,y ' }]), 'CN=\\ x\\,y\\ ,OU=a+OU=b');
  const parsed = parseDistinguishedName(goSubjectString([{ oid: '2.5.4.6', value: 'US' }, { oid: '2.5.4.8', value: 'WA' }, { oid: '2.5.4.10', value: 'a+b;"c"#' }]));
  t.same(parsed.ok ? Object.fromEntries(parsed.dn.attributes) : parsed.reason, { C: 'US', ST: 'WA', O: 'a+b;"c"#' });
});

t.test('a real third-party signer: connaisseur notation vectors', async (t) => {
  // Signer CN=securesystems.de,OU=Defensive,O=SSE,L=Berlin,ST=Berlin,C=DE (vectors README §8).
  const certs = readFileSync(join(VECTORS, CONNAISSEUR, '07_selfsigned_cert.yaml'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const signer = certs.map((pem) => new X509Certificate(pem.replace(/^\s+/gm, ''))).find((c) => c.subject.includes('securesystems.de'));
  t.ok(signer, 'found the signer certificate');
  if (signer === undefined) return;
  t.ok(matchTrustedIdentities(statement('x509.subject: C=DE, ST=Berlin, O=SSE, OU=Defensive'), signer).ok);
  t.notOk(matchTrustedIdentities(statement('x509.subject: C=DE, ST=Berlin, O=SSE, OU=Offensive'), signer).ok);
});
