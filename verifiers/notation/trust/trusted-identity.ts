/**
 * `trustedIdentities`: trust-store-trust-policy.md § "Trusted Identities Constraints". Validation is notation-go
 * trustpolicy.go validateTrustedIdentities; matching a signer is notation-go verifier.go
 * verifyX509TrustedIdentities (used by the verifier's authenticity step, after the chain is trusted).
 */
import { X509Certificate } from 'node:crypto';
import { parseCertificate } from '../../../pki/certificate.ts';
import { isSubsetDN, parseDistinguishedName } from './distinguished-name.ts';
import type { DistinguishedName, DistinguishedNameOutcome } from './distinguished-name.ts';

export const WILDCARD_IDENTITY = '*';
export const X509_SUBJECT = 'x509.subject';

export type TrustedIdentity =
  | { readonly kind: 'any'; readonly text: string }
  | { readonly kind: 'x509.subject'; readonly text: string; readonly dn: DistinguishedName }
  /** notation accepts other `prefix:value` identities without checking them; none of them ever matches a signer. */
  | { readonly kind: 'other'; readonly text: string; readonly prefix: string; readonly value: string };

export type IdentityProblemCode =
  | 'IDENTITY_WILDCARD_MIXED'
  | 'IDENTITY_EMPTY'
  | 'IDENTITY_SEPARATOR'
  | 'IDENTITY_VALUE_EMPTY'
  | 'IDENTITY_DN_INVALID'
  | 'IDENTITY_OVERLAP';

export type TrustedIdentitiesOutcome =
  | { readonly ok: true; readonly identities: readonly TrustedIdentity[] }
  | { readonly ok: false; readonly code: IdentityProblemCode; readonly reason: string; readonly index?: number };

const q = (s: string): string => JSON.stringify(s);

/** Validates and types a statement's identities (which must be non-empty: the caller checks that first). */
export function parseTrustedIdentities(statement: string, raw: readonly string[]): TrustedIdentitiesOutcome {
  const where = `trust policy statement ${q(statement)}`;
  if (raw.length > 1 && raw.includes(WILDCARD_IDENTITY)) {
    return { ok: false, code: 'IDENTITY_WILDCARD_MIXED', reason: `${where} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values` };
  }
  const identities: TrustedIdentity[] = [];
  for (const [index, text] of raw.entries()) {
    if (text === '') return { ok: false, code: 'IDENTITY_EMPTY', index, reason: `${where} has an empty trusted identity` };
    if (text === WILDCARD_IDENTITY) {
      identities.push({ kind: 'any', text });
      continue;
    }
    const colon = text.indexOf(':');
    if (colon < 0) return { ok: false, code: 'IDENTITY_SEPARATOR', index, reason: `${where} has trusted identity ${q(text)} missing separator` };
    const prefix = text.slice(0, colon);
    const value = text.slice(colon + 1);
    if (prefix !== X509_SUBJECT) {
      identities.push({ kind: 'other', text, prefix, value });
      continue;
    }
    if (value === '') return { ok: false, code: 'IDENTITY_VALUE_EMPTY', index, reason: `${where} has trusted identity ${q(text)} without an identity value` };
    const dn = parseDistinguishedName(value);
    if (!dn.ok) return { ok: false, code: 'IDENTITY_DN_INVALID', index, reason: `${where} has trusted identity ${q(text)} with invalid identity value: ${dn.reason}` };
    identities.push({ kind: 'x509.subject', text, dn: dn.dn });
  }
  // "trustedIdentities list items MUST NOT have overlapping values": one being a subset of another means a
  // certificate could match both. Identical identities overlap too.
  const subjects = identities.filter((i) => i.kind === 'x509.subject');
  for (const [i, a] of subjects.entries()) {
    for (const [j, b] of subjects.entries()) {
      if (i !== j && isSubsetDN(a.dn, b.dn)) {
        return { ok: false, code: 'IDENTITY_OVERLAP', reason: `${where} has overlapping x509 trustedIdentities, ${q(a.text)} overlaps with ${q(b.text)}` };
      }
    }
  }
  return { ok: true, identities: Object.freeze(identities) };
}

export type IdentityMatch = { readonly ok: true; readonly matched: TrustedIdentity } | { readonly ok: false; readonly reason: string };

/** Go's `%q` of notation's []map[string]string, for the mismatch message. */
function describeIdentities(dns: readonly DistinguishedName[]): string {
  const maps = dns.map((dn) => `map[${[...dn.attributes.keys()].sort().map((k) => `${q(k)}:${q(dn.attributes.get(k) ?? '')}`).join(' ')}]`);
  return `[${maps.join(' ')}]`;
}

/**
 * The leaf's subject as a DN map, or why notation could not read it (then no x509 identity can match).
 * notation-go does not read the certificate's RDNs: it prints Go's `cert.Subject.String()` (x509 names.ts) and
 * parses that text with the policy's DN parser, so the surprises carry over: attribute types outside Go's nine
 * (emailAddress, UID…) print as `OID=#hex` and are refused, two OUs print as a refused multi-valued RDN, and
 * the subject must itself hold C, ST and O.
 */
function certificateSubjectDN(der: Uint8Array): DistinguishedNameOutcome {
  const prefix = 'error while parsing the certificate subject from the digital signature. error :';
  let subject: string;
  try {
    subject = parseCertificate(der).subject.string;
  } catch (err) {
    return { ok: false, reason: `${prefix} ${q((err as Error).message)}` };
  }
  const parsed = parseDistinguishedName(subject);
  return parsed.ok ? parsed : { ok: false, reason: `${prefix} ${q(parsed.reason)}` };
}

/**
 * Does the signing (leaf) certificate match one of the statement's identities? `*` matches any signer;
 * otherwise some `x509.subject` identity must be a subset of the leaf's subject, attribute order ignored.
 */
export function matchTrustedIdentities(
  statement: { readonly name: string; readonly trustedIdentities: readonly TrustedIdentity[] },
  leaf: X509Certificate | Uint8Array,
): IdentityMatch {
  const any = statement.trustedIdentities.find((i) => i.kind === 'any');
  if (any !== undefined) return { ok: true, matched: any };
  const subjects = statement.trustedIdentities.filter((i) => i.kind === 'x509.subject');
  if (subjects.length === 0) return { ok: false, reason: `no x509 trusted identities are configured in the trust policy ${q(statement.name)}` };
  const leafDN = certificateSubjectDN(leaf instanceof X509Certificate ? leaf.raw : leaf);
  if (!leafDN.ok) return { ok: false, reason: leafDN.reason };
  const matched = subjects.find((i) => isSubsetDN(i.dn, leafDN.dn));
  if (matched !== undefined) return { ok: true, matched };
  return {
    ok: false,
    reason: `signing certificate from the digital signature does not match the X.509 trusted identities ${describeIdentities(subjects.map((s) => s.dn))} defined in the trust policy ${q(statement.name)}`,
  };
}
