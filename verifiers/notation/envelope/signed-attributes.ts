/**
 * Notation signed attributes, common to both encodings once the protected
 * header is decoded into a label → value map.
 *
 * signature-specification.md § "Signed Attributes":
 * - Signing Scheme (critical, REQUIRED): notary.x509 | notary.x509.signingAuthority.
 * - Signing Time: REQUIRED and only valid for notary.x509 (not critical).
 * - Authentic Signing Time (critical): REQUIRED and only valid for notary.x509.signingAuthority.
 * - Expiry (critical, OPTIONAL).
 * - Extended attributes MAY be critical; "unknown critical attributes MUST cause
 *   signature verification to fail". Verification-plugin attributes are critical
 *   (§ "Extended attributes for Notation Plugins"); this verifier has no plugin
 *   support, so it MUST fail on them (§ "Guidelines for implementations").
 * `crit` must list exactly the required critical headers present; notation-core-go
 * (signature/jws/jws.go validateCriticalHeaders, signature/cose/envelope.go
 * validateCritHeaders) also rejects crit entries that are absent from the header,
 * and "expiry must be after signing time" (signature/internal/base/envelope.go).
 */
import { EnvelopeError, malformed } from './errors.ts';
import { LIMITS } from './limits.ts';
import { HEADER, type ExtendedAttribute, type SignatureAlgorithm, type SignerInfo, type SigningScheme } from './types.ts';

export type Label = string | number;

export interface ProtectedHeaderView {
  /** Every protected header entry, by label. */
  readonly entries: ReadonlyMap<Label, unknown>;
  /** Label of `crit` in this encoding ('crit' or 2). */
  readonly critLabel: Label;
  /** Labels the envelope spec itself defines; they must never appear in `crit`. */
  readonly isRegistered: (label: Label) => boolean;
  /** Labels handled by the encoding-specific parser (alg, cty, …); not extended attributes. */
  readonly encodingLabels: ReadonlySet<Label>;
  readonly decodeTime: (value: unknown, what: string) => Date;
}

type SignedKeys = 'signingScheme' | 'signingTime' | 'authenticSigningTime' | 'expiry' | 'extendedAttributes' | 'critical';
/** The signed-attribute part of SignerInfo, keeping the signing-scheme discriminant. */
export type SignedAttributes = SignerInfo extends infer S ? (S extends SignerInfo ? Pick<S, SignedKeys> : never) : never;

/** Critical headers this verifier understands and processes. */
const UNDERSTOOD_CRITICAL = new Set<Label>([HEADER.signingScheme, HEADER.authenticSigningTime, HEADER.expiry]);
/** Plugin attributes: always critical, never supported here. */
const PLUGIN_HEADERS = new Set<Label>([HEADER.verificationPlugin, HEADER.verificationPluginMinVersion]);
const NOTATION_LABELS = new Set<Label>([HEADER.signingScheme, HEADER.signingTime, HEADER.authenticSigningTime, HEADER.expiry]);

function describe(label: Label): string {
  return typeof label === 'string' ? JSON.stringify(label) : String(label);
}

/** Validates the shape and content of `crit`; returns it. */
function readCritical(view: ProtectedHeaderView): Label[] {
  const crit = view.entries.get(view.critLabel);
  if (crit === undefined) return malformed('protected header has no "crit" list');
  if (!Array.isArray(crit) || crit.length === 0) return malformed('"crit" must be a non-empty array');
  if (crit.length > LIMITS.maxCritical)
    throw new EnvelopeError('LIMIT_EXCEEDED', `"crit" has more than ${LIMITS.maxCritical} entries`);
  const seen = new Set<Label>();
  for (const label of crit as unknown[]) {
    if (typeof label !== 'string' && !(typeof label === 'number' && Number.isSafeInteger(label))) {
      return malformed('"crit" entries must be header labels');
    }
    if (seen.has(label)) malformed(`"crit" lists ${describe(label)} twice`);
    seen.add(label);
    if (view.isRegistered(label)) malformed(`"crit" must not list the registered header ${describe(label)}`);
    if (!view.entries.has(label)) malformed(`header ${describe(label)} is marked critical but not present`);
    if (label === HEADER.signingTime) malformed(`${HEADER.signingTime} is informational and must not be critical`);
    if (PLUGIN_HEADERS.has(label)) {
      throw new EnvelopeError(
        'UNKNOWN_CRITICAL_HEADER',
        `critical header ${describe(label)} requires a verification plugin, which is not supported`,
      );
    }
    if (!UNDERSTOOD_CRITICAL.has(label)) {
      throw new EnvelopeError('UNKNOWN_CRITICAL_HEADER', `unknown critical header ${describe(label)}`);
    }
  }
  return crit as Label[];
}

function readScheme(value: unknown): SigningScheme {
  if (value === undefined) return malformed(`protected header has no ${HEADER.signingScheme}`);
  if (typeof value !== 'string') return malformed(`${HEADER.signingScheme} must be a string`);
  if (value !== 'notary.x509' && value !== 'notary.x509.signingAuthority') {
    throw new EnvelopeError('UNSUPPORTED_SIGNING_SCHEME', `unsupported signing scheme ${JSON.stringify(value)}`);
  }
  return value;
}

export function parseSignedAttributes(view: ProtectedHeaderView): SignedAttributes {
  const critical = readCritical(view);
  const entries = view.entries;
  const signingScheme = readScheme(entries.get(HEADER.signingScheme));

  const required: Label[] = [HEADER.signingScheme];
  const [present, absent] =
    signingScheme === 'notary.x509'
      ? [HEADER.signingTime, HEADER.authenticSigningTime]
      : [HEADER.authenticSigningTime, HEADER.signingTime];
  if (entries.has(absent)) malformed(`${absent} must not be present for signing scheme ${signingScheme}`);
  const rawTime = entries.get(present);
  if (rawTime === undefined) malformed(`${present} is required for signing scheme ${signingScheme}`);
  const time = view.decodeTime(rawTime, present);
  if (signingScheme === 'notary.x509.signingAuthority') required.push(HEADER.authenticSigningTime);

  let expiry: Date | undefined;
  if (entries.has(HEADER.expiry)) {
    expiry = view.decodeTime(entries.get(HEADER.expiry), HEADER.expiry);
    if (expiry.getTime() <= time.getTime()) malformed('expiry must be after the signing time');
    required.push(HEADER.expiry);
  }
  for (const label of required) {
    if (!critical.includes(label)) malformed(`header ${describe(label)} must be marked critical`);
  }
  for (const label of PLUGIN_HEADERS) {
    if (entries.has(label)) malformed(`header ${describe(label)} must be marked critical`);
  }

  const extendedAttributes: ExtendedAttribute[] = [];
  for (const [key, value] of entries) {
    if (NOTATION_LABELS.has(key) || view.encodingLabels.has(key) || key === view.critLabel) continue;
    extendedAttributes.push({ key, value, critical: critical.includes(key) });
  }
  const common = { expiry, extendedAttributes, critical };
  return signingScheme === 'notary.x509'
    ? { ...common, signingScheme, signingTime: time }
    : { ...common, signingScheme, authenticSigningTime: time };
}

export interface UnsignedParts {
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly certificateChain: readonly Uint8Array[];
  /** The signing agent as found, any type: it is informational and never fails the envelope. */
  readonly agent: unknown;
  readonly timestamp: Uint8Array | undefined;
}

/**
 * The SignerInfo of either envelope format: the signed attributes plus the unsigned ones, under the same rules
 * for both (signature-specification.md § "Unsigned Attributes": the signing agent is informational, never
 * validated; an empty timestamp countersignature means none, as notation-core-go treats it).
 */
export function signerInfoOf(signed: SignedAttributes, parts: UnsignedParts): SignerInfo {
  return {
    ...signed,
    signatureAlgorithm: parts.signatureAlgorithm,
    signature: parts.signature,
    certificateChain: parts.certificateChain,
    signingAgent: typeof parts.agent === 'string' ? parts.agent : undefined,
    timestampSignature: parts.timestamp !== undefined && parts.timestamp.length > 0 ? parts.timestamp : undefined,
  };
}
