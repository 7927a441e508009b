/**
 * OCSP's error vocabulary and response size bound, apart from the codec (ocsp.ts): the revocation fetcher
 * (registry/ocsp-source.ts) and the Notation verifier need them at start-up, while the codec and its ASN.1
 * schema library are loaded on the first OCSP check (issue #16: a node whose policy never asks a responder
 * does not pay for them).
 */

import { CodedError } from '../errors/coded-error.ts';

/** Closed vocabulary of OCSP failures (parse and verification). */
export type OcspErrorCode =
  | 'ocsp-malformed' // not a DER OCSPResponse / BasicOCSPResponse
  | 'ocsp-too-large' // a size bound was exceeded
  | 'ocsp-unsuccessful' // responseStatus other than successful (§ 4.2.1)
  | 'ocsp-unsupported-type' // responseType other than id-pkix-ocsp-basic (§ 4.2.1)
  | 'ocsp-request' // the request could not be built (unsupported hash, malformed issuer key)
  | 'ocsp-responder' // the signer is neither the issuer nor an authorized delegated responder (§ 4.2.2.2)
  | 'ocsp-signature' // the signature over tbsResponseData does not verify
  | 'ocsp-no-matching-response' // no SingleResponse for the requested CertID (§ 3.2 item 1)
  | 'ocsp-not-yet-valid' // thisUpdate in the future (§ 3.2 item 4)
  | 'ocsp-no-next-update' // nextUpdate absent: notation treats this as expired
  | 'ocsp-expired' // nextUpdate has passed (§ 3.2 item 5)
  | 'ocsp-unsupported-critical-extension';

export class OcspError extends CodedError<OcspErrorCode> {
  override readonly name = 'OcspError';
}

/** notation-core-go `ocspMaxResponseSize`. */
export const MAX_OCSP_RESPONSE_BYTES = 20_480;
