/** The Notary v1 verifier's public surface: everything the engine needs, nothing of the internals. */
export { type NotaryV1ReasonCode, NotaryV1Error } from './errors.ts';
export type { MetadataFetch, NotaryV1MetadataSource, RoleHint } from './source.ts';
export type { RootTrustConfig } from './root-trust.ts';
export type { Reference, RoleSelection } from './target-lookup.ts';
export type { LengthRule } from './file-meta-check.ts';
export { NotaryV1VersionState } from './version-state.ts';
export {
  type CacheHints, type NotaryV1Failure, type NotaryV1Outcome, type NotaryV1PolicyConfig, type NotaryV1Request, type NotaryV1Success,
  type PreparedNotaryV1Policy, prepareNotaryV1Policy, verifyNotaryV1,
} from './notaryv1-verifier.ts';
