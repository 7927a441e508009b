/**
 * RFC 3161 timestamp-countersignature primitives for Notary Project signatures
 * (trust-store-trust-policy.md § "Timestamp Countersignature Verification details"). Pure: no I/O.
 */
export { parseTimestampToken } from './token.ts';
export type { CmsAttribute, SignerInfoView, TimestampToken } from './token.ts';
export { checkImprint, parseTstInfo } from './tstinfo.ts';
export type { TstInfo } from './tstinfo.ts';
export { checkTimestampCoversChain, verifyTimestampToken } from './verify.ts';
export type { AuthenticTimestamp, TimestampResult, TimestampVerifyOptions, TimestampWindow } from './verify.ts';
export { TIMESTAMP_LIMITS, TimestampParseError } from './errors.ts';
export type { TimestampErrorCode, TimestampFailure } from './errors.ts';
