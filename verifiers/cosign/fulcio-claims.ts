/**
 * The Fulcio claims of a keyless certificate (fulcio-oids.ts), checked as an identity's extra conditions: each
 * configured claim must be present and equal the string, or match the regular expression over the whole value
 * (anchored, as Kyverno and policy-controller match identities). Read only from a leaf certificate the bundle
 * verification has already accepted, so the values are Fulcio's word for what the OIDC token said.
 *
 * Encodings (Fulcio docs/oid-info.md § "Extension values"): .1.1–.1.6 hold the raw UTF-8 bytes; .1.8 onward hold one
 * DER UTF8String (tag 0x0C). A v2 value that is not exactly one definite-length UTF8String with valid UTF-8 and
 * nothing after it is refused (the claim reads as malformed, so the identity does not match: fail closed).
 * The issuer: .1.8 is preferred when present, .1.1 otherwise (the deprecated raw form), as @sigstore/verify and
 * sigstore-go read it.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { FULCIO_CLAIMS, ISSUER_V1, ISSUER_V2, type FulcioClaim, type FulcioClaimInfo } from './fulcio-oids.ts';

export type ClaimMatcher = string | RegExp;
export type FulcioClaimRequirements = Readonly<Partial<Record<FulcioClaim, ClaimMatcher>>>;

/** A claim value, or why it cannot be read. */
type Read = { readonly value: string } | { readonly absent: true } | { readonly malformed: string };

const MAX_VALUE = 4096;
const anchored = (r: RegExp) => new RegExp(`^(?:${r.source})$`, r.flags.replace('g', ''));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The content of a DER UTF8String that is the whole of `bytes`, or why not (X.690 § 8.1.3, § 10.1: definite, minimal length). */
export function derUtf8String(bytes: Uint8Array): { value: string } | { malformed: string } {
  if (bytes.length < 2 || bytes[0] !== 0x0c) return { malformed: 'not a DER UTF8String' };
  let len = bytes[1]!;
  let start = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || bytes.length < 2 + n) return { malformed: 'bad DER length' };
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[2 + i]!;
    if (len < 0x80 || (n === 2 && len < 0x100)) return { malformed: 'non-minimal DER length' };
    start = 2 + n;
  }
  if (start + len !== bytes.length) return { malformed: 'DER length does not cover the value exactly' };
  if (len > MAX_VALUE) return { malformed: 'value too long' };
  try {
    return { value: utf8.decode(bytes.subarray(start)) };
  } catch {
    return { malformed: 'not UTF-8' };
  }
}

type Extensions = ReadonlyMap<string, Uint8Array>;

/** The leaf's extensions by OID (extnValue contents); undefined when the certificate does not parse or repeats one (RFC 5280 § 4.2). */
export function leafExtensions(leafDer: Uint8Array): Extensions | undefined {
  try {
    const out = new Map<string, Uint8Array>();
    for (const e of AsnConvert.parse(leafDer, Certificate).tbsCertificate.extensions ?? []) {
      if (out.has(e.extnID)) return undefined;
      out.set(e.extnID, new Uint8Array(e.extnValue.buffer));
    }
    return out;
  } catch {
    return undefined;
  }
}

function read(exts: Extensions, info: FulcioClaimInfo): Read {
  const v = exts.get(info.oid);
  if (v === undefined) return { absent: true };
  if (info.encoding === 'utf8String') return derUtf8String(v);
  if (v.length > MAX_VALUE) return { malformed: 'value too long' };
  try {
    return { value: utf8.decode(v) };
  } catch {
    return { malformed: 'not UTF-8' };
  }
}

/** The OIDC issuer the certificate names: v2 (.1.8) when present, else v1 (.1.1). */
export function certificateIssuer(exts: Extensions): Read {
  return exts.has(ISSUER_V2.oid) ? read(exts, ISSUER_V2) : read(exts, ISSUER_V1);
}

export const matches = (m: ClaimMatcher, value: string) => (typeof m === 'string' ? m === value : anchored(m).test(value));
const show = (m: ClaimMatcher) => (typeof m === 'string' ? JSON.stringify(m) : `/${m.source}/`);

/** undefined when the issuer and every configured claim match; else what did not (for the denial message). */
export function fulcioClaimMismatch(leafDer: Uint8Array, issuer: ClaimMatcher, want: FulcioClaimRequirements): string | undefined {
  const exts = leafExtensions(leafDer);
  if (exts === undefined) return 'the signing certificate does not parse';
  const iss = certificateIssuer(exts);
  if (!('value' in iss)) return `the certificate's issuer is ${'absent' in iss ? 'absent' : `malformed (${iss.malformed})`}`;
  if (!matches(issuer, iss.value)) return `issuer ${JSON.stringify(iss.value.slice(0, 200))} does not match ${show(issuer)}`;
  for (const [claim, m] of Object.entries(want) as [FulcioClaim, ClaimMatcher][]) {
    const got = read(exts, FULCIO_CLAIMS[claim]);
    if ('absent' in got) return `${claim} is absent, not ${show(m)}`;
    if ('malformed' in got) return `${claim} is malformed (${got.malformed})`;
    if (!matches(m, got.value)) return `${claim} is ${JSON.stringify(got.value.slice(0, 200))}, not ${show(m)}`;
  }
  return undefined;
}
