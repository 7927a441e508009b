/**
 * The Fulcio certificate extensions an identity can check, by the names sigstore-go's `certificate.Extensions`
 * and cosign's `--certificate-github-workflow-*` flags give them, with their OIDs and how each value is encoded.
 * Fulcio `docs/oid-info.md` § "Extension values": 1.3.6.1.4.1.57264.1.1–.1.6 are raw strings without any DER
 * encoding; .1.8 onward are DER-encoded strings whose ASN.1 tag is UTF8String (0x0C), universal class. The GitHub
 * workflow OIDs (.1.2–.1.6) are deprecated "in favor of provider generic extensions starting from .1.8" but still
 * issued next to them, so both sets are checkable. The issuer (.1.1 raw, .1.8 DER) is the identity's `issuer`,
 * checked with the subject, not here.
 *
 * No imports: the config parser reads this table at start without loading any certificate code.
 */

export type FulcioClaimEncoding = 'raw' | 'utf8String';
export type FulcioClaimInfo = { readonly oid: string; readonly encoding: FulcioClaimEncoding };

const ARC = '1.3.6.1.4.1.57264.1';
const raw = (n: number): FulcioClaimInfo => ({ oid: `${ARC}.${n}`, encoding: 'raw' });
const der = (n: number): FulcioClaimInfo => ({ oid: `${ARC}.${n}`, encoding: 'utf8String' });

export const FULCIO_CLAIMS = {
  // v1, GitHub Actions only (deprecated): raw strings.
  githubWorkflowTrigger: raw(2),
  githubWorkflowSha: raw(3),
  githubWorkflowName: raw(4),
  githubWorkflowRepository: raw(5),
  githubWorkflowRef: raw(6),
  // v2, provider-generic: DER UTF8String.
  buildSignerURI: der(9),
  buildSignerDigest: der(10),
  runnerEnvironment: der(11),
  sourceRepositoryURI: der(12),
  sourceRepositoryDigest: der(13),
  sourceRepositoryRef: der(14),
  sourceRepositoryIdentifier: der(15),
  sourceRepositoryOwnerURI: der(16),
  sourceRepositoryOwnerIdentifier: der(17),
  buildConfigURI: der(18),
  buildConfigDigest: der(19),
  buildTrigger: der(20),
  runInvocationURI: der(21),
  sourceRepositoryVisibilityAtSigning: der(22),
  deploymentEnvironment: der(23),
} as const satisfies Record<string, FulcioClaimInfo>;

export type FulcioClaim = keyof typeof FULCIO_CLAIMS;
export const FULCIO_CLAIM_NAMES = Object.keys(FULCIO_CLAIMS) as FulcioClaim[];

/** The issuer: .1.8 (DER UTF8String) is the RFC 5280-conformant form of the deprecated raw .1.1 (oid-info.md). */
export const ISSUER_V1 = raw(1);
export const ISSUER_V2 = der(8);
