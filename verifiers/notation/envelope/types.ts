/**
 * Typed view of a Notary Project signature envelope.
 *
 * Spec: notaryproject/specifications specs/signature-specification.md
 * § "Signature Envelope" (payload m, signed attributes v, unsigned attributes u,
 * signature s), encoded per signature-envelope-jws.md / signature-envelope-cose.md.
 * Wire data is converted to these values once, by parseEnvelope().
 */

/** signature-envelope-jws.md § "OCI Signature Storage". */
export const MEDIA_TYPE_JWS = 'application/jose+json';
/** signature-envelope-cose.md § "OCI Signature Storage". */
export const MEDIA_TYPE_COSE = 'application/cose';
export type EnvelopeMediaType = typeof MEDIA_TYPE_JWS | typeof MEDIA_TYPE_COSE;

/** signature-specification.md § "Payload": the only supported payload content type. */
export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

/** signing-scheme.md; signature-specification.md § "Standard attributes". */
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

/** signature-specification.md § "Signature Algorithm Requirements" (JWS `alg` names). */
export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Header names shared by both encodings (JWS header names = COSE text labels). */
export const HEADER = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  timestampSignature: 'io.cncf.notary.timestampSignature',
  signingAgent: 'io.cncf.notary.signingAgent',
} as const;

/** A signed attribute that is not one of the standard Notation attributes. */
export interface ExtendedAttribute {
  /** JWS header name, or COSE label (text or integer). */
  readonly key: string | number;
  /** Decoded JSON value (JWS) or CBOR value (COSE: Uint8Array for bstr, Map for maps). */
  readonly value: unknown;
  readonly critical: boolean;
}

interface SignerInfoCommon {
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** "best by use" time (signature-specification.md § "Expiry"); undefined if absent. */
  readonly expiry?: Date;
  /** Raw signature bytes (RSASSA-PSS, or ECDSA r||s). The TSA countersigns these. */
  readonly signature: Uint8Array;
  /** DER certificates, leaf (signing certificate) first. Not validated here. */
  readonly certificateChain: readonly Uint8Array[];
  /** Unsigned, informational (MUST NOT be validated, signature-specification.md § "Unsigned Attributes"). */
  readonly signingAgent?: string;
  /** Unsigned RFC 3161 TimeStampToken bytes (`io.cncf.notary.timestampSignature`), not parsed here. */
  readonly timestampSignature?: Uint8Array;
  readonly extendedAttributes: readonly ExtendedAttribute[];
  /** The `crit` list as received. */
  readonly critical: readonly (string | number)[];
}

/** notary.x509: untrusted signing time; notary.x509.signingAuthority: authentic signing time. */
export type SignerInfo = SignerInfoCommon &
  (
    | { readonly signingScheme: 'notary.x509'; readonly signingTime: Date; readonly authenticSigningTime?: undefined }
    | {
        readonly signingScheme: 'notary.x509.signingAuthority';
        readonly authenticSigningTime: Date;
        readonly signingTime?: undefined;
      }
  );

export interface EnvelopePayload {
  /** Payload bytes exactly as signed. Parse with parseTargetArtifact() only after verification. */
  readonly content: Uint8Array;
  readonly contentType: typeof PAYLOAD_CONTENT_TYPE;
}

export interface SignatureEnvelope {
  readonly mediaType: EnvelopeMediaType;
  readonly payload: EnvelopePayload;
  readonly signerInfo: SignerInfo;
  /**
   * The exact bytes the signature covers, built from the bytes as received:
   * JWS `ASCII(protected) "." ASCII(payload)`; COSE Sig_structure
   * `["Signature1", protected_bstr, h'', payload_bstr]`.
   */
  readonly signingInput: Uint8Array;
}

/** signature-specification.md § "Payload": OCI descriptor of the signed artifact. */
export interface TargetArtifact {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}
