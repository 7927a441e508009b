/**
 * X.509 primitives for Notary Project signature verification: a typed certificate view, the signing-chain
 * profile (signature-specification.md § "Certificate Requirements"), trust-store matching
 * (trust-store-trust-policy.md § "Trust Store"), CRL checking (RFC 5280 § 5, § 6.3) and OCSP (RFC 6960).
 * Pure: no I/O, no clock other than the `now` passed in.
 */
export { parseCertificate, parseCertificates } from './certificate.ts';
export type { BundleLimits, Certificate } from './certificate.ts';
export { deltaCrlUrl, EKU, KU } from './extensions.ts';
export type { RawExtension } from './extensions.ts';
export type { DistinguishedName, NameAttribute } from './names.ts';
export type { AlgorithmId, PublicKeyInfo } from './signature.ts';
export { checkValidity, toCertificates, validateSigningChain } from './chain.ts';
export type { CertificateInput, ChainFailure, ChainOptions, ChainResult } from './chain.ts';
export { validateCaCertificate, validateLeafCertificate } from './profile.ts';
export type { EkuOptions, Purpose } from './profile.ts';
export { checkSignatureFrom, isIssuedBy, isSelfSigned } from './issuance.ts';
export { chainsToTrustStore, checkTrustAnchor } from './trust.ts';
export type { TrustResult, TrustStoreType } from './trust.ts';
export { checkCertificateAgainstCrl, CrlParseError, lookupSerial, parseCrl, verifyCrl } from './crl.ts';
export type { Crl, CrlCheck, CrlErrorCode, CrlReason, RevocationStatus, RevokedEntry } from './crl.ts';
export { buildOcspRequest, checkOcspResponse, MAX_OCSP_RESPONSE_BYTES, OcspError, parseOcspResponse, verifyOcspResponse } from './ocsp.ts';
export type { BasicOcspResponse, OcspCheck, OcspCheckOptions, OcspErrorCode, OcspHash, OcspStatus } from './ocsp.ts';
export { LIMITS, X509ParseError } from './errors.ts';
export type { X509ErrorCode, X509Failure, X509Outcome } from './errors.ts';
