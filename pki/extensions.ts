/**
 * Certificate extensions (RFC 5280 § 4.2). Only Basic Constraints, Key Usage and Extended Key Usage are *honoured*
 * by the Notary Project profile (signature-specification.md § "Other requirements"); the rest are decoded for
 * callers (revocation: CRL distribution points, AIA OCSP; chain building: SKI/AKI).
 *
 * The "handled" set is the one Go's `crypto/x509` parser understands; a critical extension outside it is what Go
 * reports in `UnhandledCriticalExtensions` and what RFC 5280 § 4.2 says MUST make a certificate be rejected.
 *
 * Every value is decoded with the DER reader (extension-values.ts): no schema library is loaded with the
 * certificate parser (issue #16; test/policy/x509/no-asn1-schema-at-load.test.ts keeps it so).
 */
import { contentBytes, DerError, readTlv, readWhole, TAG } from './der.ts';
import {
  decodeAuthorityInfoAccess,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectKeyIdentifier,
} from './extension-values.ts';

export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocsp: '1.3.6.1.5.5.7.48.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
} as const;

/** RFC 5280 § 4.2.1.12 key purposes named in the Notary Project profile. */
export const EKU = {
  any: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

/** RFC 5280 § 4.2.1.3 bit positions (bit 0 = digitalSignature), as in Go's `x509.KeyUsage`. */
export const KU = {
  digitalSignature: 1 << 0,
  contentCommitment: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
  encipherOnly: 1 << 7,
  decipherOnly: 1 << 8,
} as const;

const HANDLED = new Set<string>([
  OID.subjectKeyIdentifier, OID.keyUsage, OID.subjectAltName, OID.basicConstraints, OID.nameConstraints,
  OID.crlDistributionPoints, OID.certificatePolicies, OID.policyMappings, OID.authorityKeyIdentifier,
  OID.policyConstraints, OID.extKeyUsage, OID.inhibitAnyPolicy, OID.authorityInfoAccess,
]);

export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** Content of extnValue (the DER of the extension's own structure). */
  readonly value: Uint8Array;
}

export interface DecodedExtensions {
  readonly keyUsage: { readonly bits: number; readonly critical: boolean } | null;
  readonly extKeyUsage: { readonly oids: readonly string[]; readonly critical: boolean } | null;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | null; readonly critical: boolean } | null;
  readonly subjectKeyId: Uint8Array | null;
  readonly authorityKeyId: Uint8Array | null;
  readonly crlDistributionPoints: readonly string[];
  readonly ocspServers: readonly string[];
  readonly issuingCertificateUrls: readonly string[];
  readonly criticalExtensions: readonly string[];
  readonly unhandledCriticalExtensions: readonly string[];
}

/**
 * URIs of a CRLDistributionPoints / FreshestCRL value, decoded exactly as Go's `parseCRLDistributionPoints` does
 * (and notation-core-go's copy of it for FreshestCRL): distribution points without a fullName are skipped, and
 * within a fullName only the leading uniformResourceIdentifier entries are taken.
 */
export function parseDistributionPointUris(value: Uint8Array): string[] {
  const fail = (): never => {
    throw new DerError('x509: invalid CRL distribution point');
  };
  let outer;
  try {
    outer = readWhole(value, TAG.SEQUENCE);
  } catch {
    throw new DerError('x509: invalid CRL distribution points');
  }
  const urls: string[] = [];
  let pos = outer.contentStart;
  while (pos < outer.end) {
    const dp = readTlv(value, pos, outer.end);
    pos = dp.end;
    if (dp.id !== TAG.SEQUENCE) fail();
    if (dp.contentStart === dp.end) continue;
    const first = readTlv(value, dp.contentStart, dp.end);
    if (first.id !== 0xa0) continue; // no distributionPoint: reasons / cRLIssuer only
    if (first.contentStart === first.end) fail();
    const fullName = readTlv(value, first.contentStart, first.end);
    if (fullName.id !== 0xa0) fail(); // nameRelativeToCRLIssuer is not supported, as in Go
    let p = fullName.contentStart;
    while (p < fullName.end) {
      const gn = readTlv(value, p, fullName.end);
      if (gn.id !== 0x86) break;
      urls.push(Buffer.from(contentBytes(value, gn)).toString('latin1'));
      p = gn.end;
    }
  }
  return urls;
}

/** Decodes the extensions of one certificate. Throws on a malformed handled extension or a duplicate. */
export function decodeExtensions(extensions: readonly RawExtension[]): DecodedExtensions {
  const seen = new Set<string>();
  let keyUsage: DecodedExtensions['keyUsage'] = null;
  let extKeyUsage: DecodedExtensions['extKeyUsage'] = null;
  let basicConstraints: DecodedExtensions['basicConstraints'] = null;
  let subjectKeyId: Uint8Array | null = null;
  let authorityKeyId: Uint8Array | null = null;
  let crlDistributionPoints: string[] = [];
  const ocspServers: string[] = [];
  const issuingCertificateUrls: string[] = [];
  const criticalExtensions: string[] = [];
  const unhandledCriticalExtensions: string[] = [];

  for (const ext of extensions) {
    if (seen.has(ext.oid)) throw new DerError(`x509: certificate contains duplicate extension ${ext.oid}`);
    seen.add(ext.oid);
    if (ext.critical) criticalExtensions.push(ext.oid);
    if (ext.critical && !HANDLED.has(ext.oid)) unhandledCriticalExtensions.push(ext.oid);
    switch (ext.oid) {
      case OID.keyUsage:
        keyUsage = { bits: decodeKeyUsage(ext.value), critical: ext.critical };
        break;
      case OID.extKeyUsage:
        extKeyUsage = { oids: decodeExtKeyUsage(ext.value), critical: ext.critical };
        break;
      case OID.basicConstraints:
        basicConstraints = { ...decodeBasicConstraints(ext.value), critical: ext.critical };
        break;
      case OID.subjectKeyIdentifier:
        subjectKeyId = decodeSubjectKeyIdentifier(ext.value);
        break;
      case OID.authorityKeyIdentifier: {
        // SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }. Only the key identifier is needed;
        // decoding the optional GeneralNames with asn1-schema cost ~170 µs per certificate (bench/x509.ts).
        const seq = readWhole(ext.value, TAG.SEQUENCE);
        const first = seq.contentStart < seq.end ? readTlv(ext.value, seq.contentStart, seq.end) : null;
        authorityKeyId = first?.id === 0x80 ? contentBytes(ext.value, first) : null;
        break;
      }
      case OID.crlDistributionPoints:
        crlDistributionPoints = parseDistributionPointUris(ext.value);
        break;
      case OID.authorityInfoAccess:
        for (const ad of decodeAuthorityInfoAccess(ext.value)) {
          if (ad.uri === null) continue;
          if (ad.method === OID.ocsp) ocspServers.push(ad.uri);
          else if (ad.method === OID.caIssuers) issuingCertificateUrls.push(ad.uri);
        }
        break;
      default:
        break;
    }
  }
  return {
    keyUsage, extKeyUsage, basicConstraints, subjectKeyId, authorityKeyId, crlDistributionPoints,
    ocspServers, issuingCertificateUrls, criticalExtensions, unhandledCriticalExtensions,
  };
}

/**
 * The delta-CRL location from a FreshestCRL extension (RFC 5280 § 4.2.1.15 in certificates, § 5.2.6 in CRLs),
 * parsed as notation-core-go does. Absent extension or no URI → url null; more than one URI is refused, since
 * notation-core-go supports a single delta CRL per distribution point.
 */
export function deltaCrlUrl(source: { readonly extensions: readonly RawExtension[] }): { readonly ok: true; readonly url: string | null } | { readonly ok: false; readonly message: string } {
  const ext = source.extensions.find((e) => e.oid === OID.freshestCrl);
  if (!ext) return { ok: true, url: null };
  let urls: string[];
  try {
    urls = parseDistributionPointUris(ext.value);
  } catch (err) {
    return { ok: false, message: `failed to parse Freshest CRL extension: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (urls.length > 1) return { ok: false, message: `multiple delta CRL URLs are not supported: ${urls.length} found` };
  return { ok: true, url: urls[0] ?? null };
}
