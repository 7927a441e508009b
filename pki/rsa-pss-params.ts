/**
 * RSASSA-PSS-params (RFC 4055 § 3.1), decoded with the DER reader instead of @peculiar/asn1-rsa, whose schema
 * classes cost heap at load (issue #16):
 *
 *   RSASSA-PSS-params ::= SEQUENCE {
 *     hashAlgorithm     [0] HashAlgorithm     DEFAULT sha1Identifier,
 *     maskGenAlgorithm  [1] MaskGenAlgorithm  DEFAULT mgf1SHA1Identifier,
 *     saltLength        [2] INTEGER           DEFAULT 20,
 *     trailerField      [3] TrailerField      DEFAULT trailerFieldBC }   -- trailerFieldBC = 1
 *
 * The tags are EXPLICIT (the module is DEFINITIONS EXPLICIT TAGS, RFC 4055 Appendix A), so each present field is a
 * constructed [n] holding exactly one element. Fields come in tag order, each at most once. A field equal to its
 * DEFAULT but encoded anyway (X.690 § 11.5 forbids it) is accepted, as @peculiar/asn1-rsa accepted it: signers
 * write an explicit trailerField 1. Which parameter sets are *allowed* is signature.ts's business; this only says
 * what the parameters are.
 */
import { childrenOf, decodeAlgorithm, decodeSmallInteger, DerError, readWhole, TAG } from './der.ts';
import type { Tlv } from './der.ts';

export const OID_SHA1 = '1.3.14.3.2.26';
export const OID_MGF1 = '1.2.840.113549.1.1.8';

export interface PssParams {
  readonly hashOid: string;
  readonly maskGenOid: string;
  /** The MGF's hash (MGF1's parameter, an AlgorithmIdentifier, RFC 4055 § 2.2); null when the MGF is not MGF1. */
  readonly maskGenHashOid: string | null;
  readonly saltLength: number;
  readonly trailerField: number;
}

/** Defaults of RFC 4055 § 3.1: SHA-1, MGF1 with SHA-1, 20 octets of salt, trailer 1. */
const DEFAULTS: PssParams = { hashOid: OID_SHA1, maskGenOid: OID_MGF1, maskGenHashOid: OID_SHA1, saltLength: 20, trailerField: 1 };

/** The one element inside an EXPLICIT [n] wrapper. */
function explicitInner(der: Uint8Array, wrapper: Tlv): Tlv {
  const inner = childrenOf(der, wrapper, 1);
  if (inner.length !== 1) throw new DerError('empty explicitly tagged field');
  return inner[0]!;
}

/** Decodes the DER of an RSASSA-PSS-params SEQUENCE (an AlgorithmIdentifier's parameters). Throws `DerError`. */
export function decodePssParams(der: Uint8Array): PssParams {
  const seq = readWhole(der, TAG.SEQUENCE);
  let { hashOid, maskGenOid, maskGenHashOid, saltLength, trailerField } = DEFAULTS;
  let last = -1;
  for (const field of childrenOf(der, seq, 4)) {
    const n = field.id - 0xa0; // context-specific, constructed: 0xa0 | tag number
    if (n < 0 || n > 3 || n <= last) throw new DerError('unexpected field in RSASSA-PSS-params');
    last = n;
    const inner = explicitInner(der, field);
    if (n === 0) {
      hashOid = decodeAlgorithm(der, inner).oid; // its parameters (NULL or absent) are not looked at
    } else if (n === 1) {
      const mgf = decodeAlgorithm(der, inner);
      maskGenOid = mgf.oid;
      maskGenHashOid = null;
      if (mgf.oid === OID_MGF1) {
        // MGF1's parameters are the hash AlgorithmIdentifier; without them the MGF cannot be told.
        if (mgf.params === null) throw new DerError('MGF1 without its hash algorithm');
        maskGenHashOid = decodeAlgorithm(mgf.params, readWhole(mgf.params, TAG.SEQUENCE)).oid;
      }
    } else if (n === 2) {
      saltLength = decodeSmallInteger(der, inner);
      if (saltLength < 0) throw new DerError('negative saltLength');
    } else {
      trailerField = decodeSmallInteger(der, inner);
    }
  }
  return { hashOid, maskGenOid, maskGenHashOid, saltLength, trailerField };
}
