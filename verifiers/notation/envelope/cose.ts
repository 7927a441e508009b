/**
 * COSE_Sign1 envelope (media type application/cose).
 *
 * Spec: signature-envelope-cose.md; RFC 9052 § 4.2 (COSE_Sign1), § 4.4 (Sig_structure),
 * § 3 / § 3.1 (header buckets, crit); RFC 9360 § 2 (x5chain, label 33).
 *
 *   18([ protected: bstr .cbor header_map, unprotected: header_map,
 *        payload: bstr, signature: bstr ])
 *
 * Protected labels: 1 alg, 2 crit, 3 content type, and the text labels
 * io.cncf.notary.{signingScheme,signingTime,authenticSigningTime,expiry}
 * (times are CBOR tag 1). Unprotected: 33 x5chain, io.cncf.notary.timestampSignature
 * (bstr), io.cncf.notary.signingAgent (tstr). The signing input is
 * ["Signature1", protected_bstr, h'', payload_bstr] over the protected bytes
 * *as received*. COSE Hash Envelopes (no content type) are not supported.
 */
import { algorithmFromCose } from './algorithm.ts';
import { CborTag, decodeCbor, encodeSigStructure } from './cbor.ts';
import { EnvelopeError, malformed } from './errors.ts';
import { LIMITS } from './limits.ts';
import { parseSignedAttributes, signerInfoOf, type Label } from './signed-attributes.ts';
import { fromEpochSeconds } from './time.ts';
import { HEADER, MEDIA_TYPE_COSE, PAYLOAD_CONTENT_TYPE, type SignatureEnvelope } from './types.ts';

const TAG_COSE_SIGN1 = 18;
const TAG_EPOCH_TIME = 1;
const LABEL_ALG = 1;
const LABEL_CRIT = 2;
const LABEL_CONTENT_TYPE = 3;
const LABEL_X5CHAIN = 33;
const EMPTY = new Uint8Array(0);

function headerMap(value: unknown, what: string): Map<Label, unknown> {
  if (!(value instanceof Map)) return malformed(`${what} must be a CBOR map`);
  for (const label of value.keys()) {
    // RFC 9052 § 3: label = int / tstr
    if (typeof label !== 'string' && !(typeof label === 'number' && Number.isSafeInteger(label))) {
      malformed(`${what} has a label that is neither int nor tstr`);
    }
  }
  return value as Map<Label, unknown>;
}

function decodeTime(value: unknown, what: string): Date {
  if (!(value instanceof CborTag) || value.tag !== TAG_EPOCH_TIME) {
    return malformed(`${what} must be a tag 1 epoch date/time`);
  }
  return fromEpochSeconds(value.value, what);
}

/** RFC 9360 § 2: a single bstr, or an array of bstr, leaf first. */
function readChain(value: unknown): Uint8Array[] {
  if (value === undefined) return malformed('x5chain (label 33) is required');
  const certs: unknown[] = value instanceof Uint8Array ? [value] : Array.isArray(value) ? value : [];
  if (certs.length === 0) malformed('x5chain must be a non-empty array of byte strings');
  if (certs.length > LIMITS.maxChainLength) {
    throw new EnvelopeError('LIMIT_EXCEEDED', `x5chain has more than ${LIMITS.maxChainLength} certificates`);
  }
  return certs.map((cert) => {
    if (!(cert instanceof Uint8Array) || cert.length === 0) return malformed('x5chain entries must be non-empty byte strings');
    return cert;
  });
}

export function parseCoseEnvelope(bytes: Uint8Array): SignatureEnvelope {
  const top = decodeCbor(bytes, 'COSE envelope', [TAG_COSE_SIGN1]);
  if (!(top instanceof CborTag) || top.tag !== TAG_COSE_SIGN1) {
    return malformed('COSE envelope must be a COSE_Sign1_Tagged message (tag 18)');
  }
  const message = top.value;
  if (!Array.isArray(message) || message.length !== 4) return malformed('COSE_Sign1 must be an array of 4 items');
  const [protectedBytes, unprotectedValue, payload, signature] = message as unknown[];
  if (!(protectedBytes instanceof Uint8Array) || protectedBytes.length === 0) {
    return malformed('COSE protected header must be a non-empty byte string');
  }
  // Detached payloads (nil) are not used by Notation; empty content is rejected as in notation-core-go.
  if (!(payload instanceof Uint8Array) || payload.length === 0)
    return malformed('COSE payload must be a non-empty attached byte string');
  if (!(signature instanceof Uint8Array) || signature.length === 0)
    return malformed('COSE signature must be a non-empty byte string');

  const unprotected = headerMap(unprotectedValue, 'COSE unprotected header');
  const prot = headerMap(decodeCbor(protectedBytes, 'COSE protected header', [TAG_EPOCH_TIME]), 'COSE protected header');
  for (const label of unprotected.keys()) {
    if (prot.has(label)) malformed(`label ${String(label)} appears in both the protected and unprotected header`);
  }
  if (unprotected.has(LABEL_CRIT)) malformed('crit (label 2) must be in the protected header'); // RFC 9052 § 3.1

  const signed = parseSignedAttributes({
    entries: prot,
    critLabel: LABEL_CRIT,
    // signature-envelope-cose.md: crit "MUST only contain parameters apart from integer labels in the range of 0 to 8"
    isRegistered: (label) => typeof label === 'number' && label >= 0 && label <= 8,
    encodingLabels: new Set<Label>([LABEL_ALG, LABEL_CONTENT_TYPE, LABEL_X5CHAIN]),
    decodeTime,
  });

  if (!prot.has(LABEL_ALG)) malformed('COSE protected header has no alg (label 1)');
  const signatureAlgorithm = algorithmFromCose(prot.get(LABEL_ALG));
  const contentType = prot.get(LABEL_CONTENT_TYPE);
  if (contentType === undefined) malformed('COSE protected header has no content type (label 3)');
  if (contentType !== PAYLOAD_CONTENT_TYPE) {
    throw new EnvelopeError(
      'UNSUPPORTED_CONTENT_TYPE',
      `unsupported payload content type ${JSON.stringify(String(contentType))}`,
    );
  }

  // signature-envelope-cose.md § "Unprotected Headers"; x5chain may also be protected.
  const certificateChain = readChain(prot.get(LABEL_X5CHAIN) ?? unprotected.get(LABEL_X5CHAIN));
  const timestamp = unprotected.get(HEADER.timestampSignature);
  if (timestamp !== undefined && !(timestamp instanceof Uint8Array))
    malformed(`${HEADER.timestampSignature} must be a byte string`);
  const agent = unprotected.get(HEADER.signingAgent);

  return {
    mediaType: MEDIA_TYPE_COSE,
    payload: { content: payload, contentType: PAYLOAD_CONTENT_TYPE },
    signerInfo: signerInfoOf(signed, { signatureAlgorithm, signature, certificateChain, agent, timestamp }),
    signingInput: encodeSigStructure('Signature1', protectedBytes, EMPTY, payload),
  };
}
