/**
 * Closed vocabulary of cosign verification failures. Every check in this folder fails with one of these codes; the
 * verifier's entry point never throws past itself. Messages are written to be read after `pullgate: <ref>: `
 * (e.g. "pullgate: reg/app@sha256:…: cosign: no signature verified with a trusted key").
 */

import { CodedError } from '../../errors/coded-error.ts';

export type CosignReasonCode =
  | 'no_signature' // no `sha256-<hex>.sig` manifest / bundle referrer, or it holds no signature layer
  | 'fetch_failed' // the registry did not give a clean answer: fail closed, never read as "unsigned"
  | 'malformed' // a manifest, layer, annotation, payload or bundle is not the shape cosign writes, or is over a bound
  | 'payload_digest_mismatch' // critical.image.docker-manifest-digest (or the DSSE subject) is another image
  | 'wrong_payload_type' // critical.type is not "cosign container image signature" / not a cosign in-toto statement
  | 'identity_mismatch' // critical.identity.docker-reference does not match the rule's reference mode
  | 'signature_invalid' // a signature did not verify with the key it was checked against
  | 'key_not_trusted' // signatures exist, none verifies with a configured key
  | 'unsupported_key' // a configured key or algorithm cosign would not use (curve, RSA size, key type)
  | 'threshold_not_met' // fewer distinct trusted keys verified than the rule's threshold
  | 'rekor_required' // the rule requires a Rekor entry and the verified signature has none
  | 'set_invalid' // the Rekor SET does not verify, names an unknown log, or describes another signature
  | 'keyless_unsupported' // a certificate-only signature (Fulcio) reached a key-only verifier
  | 'internal_error'; // a bug in this verifier: reported, and the pull is denied (fail closed)

export class CosignError extends CodedError<CosignReasonCode> {
  override readonly name = 'CosignError';
}

export function fail(code: CosignReasonCode, message: string): never {
  throw new CosignError(code, message);
}

/**
 * When several signatures each fail for a different reason, the one reported is the most specific: a signature
 * that verified but names another digest says more than "no trusted key". Lower index = reported first.
 */
export const REASON_PRIORITY: readonly CosignReasonCode[] = [
  'internal_error', 'fetch_failed', 'set_invalid', 'rekor_required', 'payload_digest_mismatch', 'wrong_payload_type', 'identity_mismatch',
  'threshold_not_met', 'signature_invalid', 'key_not_trusted', 'keyless_unsupported', 'unsupported_key', 'malformed', 'no_signature',
];
