/**
 * Typed errors for the trust policy and trust store layer. Each has a code from a closed union so callers map
 * codes, not message text. Messages keep notation-go's own wording (verifier/trustpolicy, verifier/truststore)
 * so an operator can search them, prefixed with the file they came from.
 */

export type TrustPolicyErrorCode =
  // reading the document (loader) — notation-go trustpolicy.go getDocument
  | 'POLICY_NOT_FOUND'
  | 'POLICY_NOT_REGULAR_FILE'
  | 'POLICY_UNREADABLE'
  | 'POLICY_MALFORMED'
  // document level — notation-go oci.go OCIDocument.Validate
  | 'POLICY_VERSION'
  | 'POLICY_EMPTY'
  | 'STATEMENT_NAME_MISSING'
  | 'STATEMENT_NAME_DUPLICATE'
  // signatureVerification — trustpolicy.go GetVerificationLevel / validatePolicyCore
  | 'LEVEL_MISSING'
  | 'LEVEL_UNKNOWN'
  | 'OVERRIDE_ON_SKIP'
  | 'OVERRIDE_CHECK_UNKNOWN'
  | 'OVERRIDE_ACTION_UNKNOWN'
  | 'OVERRIDE_INTEGRITY'
  | 'OVERRIDE_SKIP_FORBIDDEN'
  | 'VERIFY_TIMESTAMP_INVALID'
  // trust stores and identities — validatePolicyCore, validateTrustStore, validateTrustedIdentities
  | 'SKIP_WITH_TRUST'
  | 'TRUST_MISSING'
  | 'TRUST_STORE_MALFORMED'
  | 'TRUST_STORE_TYPE'
  | 'TRUST_STORE_NAME'
  | 'IDENTITY_WILDCARD_MIXED'
  | 'IDENTITY_EMPTY'
  | 'IDENTITY_SEPARATOR'
  | 'IDENTITY_VALUE_EMPTY'
  | 'IDENTITY_DN_INVALID'
  | 'IDENTITY_OVERLAP'
  // registry scopes — oci.go validateRegistryScopes
  | 'SCOPE_MISSING'
  | 'SCOPE_WILDCARD_MIXED'
  | 'SCOPE_INVALID'
  | 'SCOPE_DUPLICATE';

export interface TrustPolicyErrorDetails {
  /** The file (or other origin) the document came from. */
  readonly source: string;
  /** The statement the problem is in, when it is in one. */
  readonly statement?: string | undefined;
  /** Where in the document, e.g. `trustPolicies[0].registryScopes[1]`. */
  readonly path?: string | undefined;
}

export class TrustPolicyError extends Error {
  readonly code: TrustPolicyErrorCode;
  readonly source: string;
  readonly statement: string | undefined;
  readonly path: string | undefined;
  /** notation-go's message for the same problem, without the source prefix. */
  readonly detail: string;

  constructor(code: TrustPolicyErrorCode, detail: string, details: TrustPolicyErrorDetails, options?: { cause?: unknown }) {
    super(`${details.source}: ${detail}${details.path === undefined ? '' : ` (at ${details.path})`}`, options);
    this.name = 'TrustPolicyError';
    this.code = code;
    this.source = details.source;
    this.statement = details.statement;
    this.path = details.path;
    this.detail = detail;
  }
}

export type TrustStoreErrorCode =
  /** The policy names a store whose directory does not exist (notation: "the trust store … does not exist"). */
  | 'STORE_NOT_FOUND'
  /** The named store is not a directory, or is a symlink (spec § "Trust Store": symlinks are not supported). */
  | 'STORE_NOT_DIRECTORY'
  /** `.` or `..` as a store name: valid per notation's name charset, but they leave the store type folder. */
  | 'STORE_NAME_INVALID'
  /** The store directory or a file in it could not be read. */
  | 'STORE_UNREADABLE'
  /** An entry in the store is a directory or a symlink. */
  | 'STORE_ENTRY_NOT_FILE'
  /** A file holds no parseable certificate (also: empty file, a PEM block that is not a certificate). */
  | 'CERT_MALFORMED'
  /** A `ca`/`signingAuthority` certificate is neither a CA nor a self-signed certificate. */
  | 'CERT_NOT_CA_OR_SELF_SIGNED'
  /** A `tsa` certificate is not a self-signed, self-issued CA certificate. */
  | 'CERT_NOT_ROOT'
  /** The store holds no certificate at all. */
  | 'STORE_EMPTY';

export interface TrustStoreErrorWhere {
  readonly storeType: string;
  readonly storeName: string;
  readonly file?: string | undefined;
  readonly location?: string | undefined;
}

export class TrustStoreError extends Error {
  readonly code: TrustStoreErrorCode;
  readonly storeType: string;
  readonly storeName: string;
  /** The file inside the store the problem is about, if any. */
  readonly file: string | undefined;
  /** The store directory on disk, when it was read from one. */
  readonly location: string | undefined;

  constructor(code: TrustStoreErrorCode, message: string, where: TrustStoreErrorWhere, options?: { cause?: unknown }) {
    super(where.location === undefined ? message : `${message} (${where.location})`, options);
    this.name = 'TrustStoreError';
    this.code = code;
    this.storeType = where.storeType;
    this.storeName = where.storeName;
    this.file = where.file;
    this.location = where.location;
  }
}
