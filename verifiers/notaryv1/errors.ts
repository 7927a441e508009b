/**
 * Closed vocabulary of Notary v1 (Docker Content Trust / TUF) verification failures. Every check in this folder
 * fails with one of these codes; the verifier never throws past its entry point. The message is written to be read
 * after `pullgate: <ref>: ` (e.g. "pullgate: reg/app:v1: notary v1: snapshot expired at 2022-10-27T08:00:05Z").
 */

import { CodedError } from '../../errors/coded-error.ts';

export type NotaryV1ReasonCode =
  | 'no_trust_data' // root/timestamp/snapshot/targets is 404 on the trust server: the GUN is not signed at all
  | 'fetch_failed' // the metadata source failed (network, status, auth): fail closed, retry later
  | 'metadata_invalid' // not JSON / wrong shape / wrong _type / over a size or count bound / float or duplicate key
  | 'root_untrusted' // no pinned key signed root, the certificate rule failed, or the rotation chain broke
  | 'unsupported_key' // a key type, curve, size or signature method notary would refuse
  | 'signature_invalid' // a role key's signature does not verify, or a signature names a key by a wrong ID
  | 'threshold_not_met' // fewer distinct valid keys than the role's threshold (including "no signatures")
  | 'expired' // a role's `expires` is before the clock
  | 'rollback' // a version is lower than the last one seen for this GUN (version state)
  | 'hash_mismatch' // bytes do not hash to what timestamp/snapshot lists (sha256 / sha512, base64)
  | 'length_mismatch' // bytes are not the length timestamp/snapshot lists
  | 'delegation_invalid' // a delegation is malformed, undeclared, outside its parent's paths, or fails its checks
  | 'delegation_missing' // a delegation the policy requires does not exist in this repository
  | 'tag_not_signed' // the trusted role(s) do not list the tag
  | 'digest_not_signed' // a by-digest reference is not listed under any tag by a trusted role
  | 'digest_mismatch' // a tag@digest reference whose digest differs from the signed one
  | 'digest_conflict' // required roles / signers sign different digests for the tag
  | 'signer_untrusted'; // a configured signer key is not a key of its role, or did not sign the tag's digest

export class NotaryV1Error extends CodedError<NotaryV1ReasonCode> {
  override readonly name = 'NotaryV1Error';
}

export function fail(code: NotaryV1ReasonCode, message: string): never {
  throw new NotaryV1Error(code, message);
}
