/**
 * Notation (Notary Project) signature verification for the PolicyEngine: `NotationVerifier` discovers a target's
 * signatures and runs the specification's checks on each (one file per check), under the trust policy's levels.
 */
export { NotationVerifier, type NotationVerifierOptions } from './notation-verifier.ts';
export { CertificateCache } from './certificate-cache.ts';
export { CrlRevocationChecker } from './crl-revocation.ts';
export { checkByOcsp, type OcspAnswer } from './ocsp-revocation.ts';
export { combineChainResults, type CertificateRevocation, type ChainRevocation, type RevocationChecker, type RevocationCheckOptions } from './revocation-checker.ts';
export { CHECK_ORDER } from './verify-signature.ts';
