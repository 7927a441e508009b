/**
 * Closed error vocabulary of the RFC 3161 timestamp primitives. Parsing throws `TimestampParseError`; verification
 * never throws and returns a `TimestampFailure`. Messages follow tspclient-go / notation-go wording.
 */

import { CodedError } from '../../../errors/coded-error.ts';

export type TimestampErrorCode =
  | 'malformed-token' // not a DER CMS ContentInfo carrying SignedData (RFC 5652 § 3, § 5.1)
  | 'too-large'
  | 'unsupported-version' // SignedData version ≠ 3 or SignerInfo version ≠ 1 (tspclient-go supports only these)
  | 'content-type' // eContentType is not id-ct-TSTInfo (RFC 3161 § 2.4.2)
  | 'malformed-tstinfo'
  | 'tstinfo-version'
  | 'unsupported-hash' // messageImprint / digest algorithm other than SHA-256/384/512
  | 'imprint-mismatch' // messageImprint ≠ hash(signature bytes)
  | 'no-signer'
  | 'signing-certificate-attribute' // SigningCertificateV2 missing / malformed / hash mismatch (RFC 5035, RFC 5816)
  | 'signer-certificate-not-found'
  | 'signed-attributes' // content-type / message-digest / signing-time attributes (RFC 5652 § 5.3, § 11)
  | 'signature-invalid'
  | 'no-trust-anchors'
  | 'untrusted' // no chain from the TSA certificate to a trusted TSA root
  | 'tsa-certificate-invalid' // a TSA chain certificate invalid at genTime, or failing the timestamping profile
  | 'timestamp-outside-validity'; // the timestamp does not fall inside a signing certificate's validity

export type TimestampFailure = { readonly ok: false; readonly code: TimestampErrorCode; readonly message: string };

export class TimestampParseError extends CodedError<TimestampErrorCode> {
  override readonly name = 'TimestampParseError';
}

export function tsFail(code: TimestampErrorCode, message: string): TimestampFailure {
  return { ok: false, code, message };
}

export const TIMESTAMP_LIMITS = {
  /** A TimeStampToken: the real ones here are 5–8 KiB (several embedded certificates). */
  tokenBytes: 256 * 1024,
  certificates: 20,
  signerInfos: 4,
} as const;

export const OIDS = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingTimeAttr: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** ETSI EN 319 421 best-practices policy; tspclient-go assumes 1 s accuracy for it when none is given. */
  baselineTimestampPolicy: '0.4.0.2023.1.1',
} as const;

export const HASHES: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
