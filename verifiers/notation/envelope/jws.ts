/**
 * JWS envelope (media type application/jose+json), flattened JSON serialization only.
 *
 * Spec: signature-envelope-jws.md; RFC 7515 § 7.2.2 (flattened syntax),
 * § 4.1.11 (crit), § 5.2 (validation), § 7.2.1 (protected/unprotected names disjoint).
 *
 *   { "payload": b64url, "protected": b64url(JSON), "header": {...}, "signature": b64url }
 *
 * "no additional top level fields are supported" (§ "Signature Envelope"), so
 * compact serialization, general serialization ("signatures") and unknown
 * members are rejected. Protected: alg, cty, crit, io.cncf.notary.* (RFC 3339
 * times). Unprotected: x5c (std base64 DER, leaf first), io.cncf.notary.timestampSignature
 * (std base64), io.cncf.notary.signingAgent; other unprotected members are ignored.
 * Signing input: ASCII(protected) "." ASCII(payload) from the strings as received.
 */
import { algorithmFromJws } from './algorithm.ts';
import { decodeBase64, decodeBase64Url } from './base64.ts';
import { EnvelopeError, malformed } from './errors.ts';
import { isJsonObject, own, parseJsonBytes, type JsonObject } from './json.ts';
import { LIMITS } from './limits.ts';
import { parseSignedAttributes, signerInfoOf } from './signed-attributes.ts';
import { parseRfc3339 } from './time.ts';
import { HEADER, MEDIA_TYPE_JWS, PAYLOAD_CONTENT_TYPE, type SignatureEnvelope } from './types.ts';

const TOP_LEVEL_MEMBERS = new Set(['payload', 'protected', 'header', 'signature']);
/** RFC 7515 § 4.1: names "crit" MUST NOT list. */
const REGISTERED_HEADERS = new Set<unknown>(['alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit']);
const ENCODING_HEADERS = new Set<string | number>(['alg', 'cty']);

function stringMember(doc: JsonObject, name: string): string {
  const value = own(doc, name);
  if (typeof value !== 'string') return malformed(`JWS member "${name}" must be a string`);
  return value;
}

function decodeTime(value: unknown, what: string): Date {
  if (typeof value !== 'string') return malformed(`${what} must be an RFC 3339 string`);
  return parseRfc3339(value, what);
}

/** RFC 7515 § 4.1.6: array of standard-base64 DER certificates, leaf first. */
function readX5c(value: unknown): Uint8Array[] {
  if (value === undefined) return malformed('unprotected header "x5c" is required');
  if (!Array.isArray(value) || value.length === 0) return malformed('"x5c" must be a non-empty array');
  if (value.length > LIMITS.maxChainLength) {
    throw new EnvelopeError('LIMIT_EXCEEDED', `"x5c" has more than ${LIMITS.maxChainLength} certificates`);
  }
  return (value as unknown[]).map((cert, i) => {
    if (typeof cert !== 'string' || cert.length === 0) return malformed(`"x5c"[${i}] must be a non-empty base64 string`);
    return decodeBase64(cert, `"x5c"[${i}]`);
  });
}

export function parseJwsEnvelope(bytes: Uint8Array): SignatureEnvelope {
  const doc = parseJsonBytes(bytes, 'JWS envelope');
  if (!isJsonObject(doc)) return malformed('JWS envelope must be a JSON object (flattened JSON serialization)');
  if (Object.hasOwn(doc, 'signatures'))
    malformed('general JWS JSON serialization is not supported; Notation requires the flattened form');
  for (const name of Object.keys(doc)) {
    if (!TOP_LEVEL_MEMBERS.has(name)) malformed(`unsupported JWS member ${JSON.stringify(name)}`);
  }
  const protectedText = stringMember(doc, 'protected');
  const payloadText = stringMember(doc, 'payload');
  const signatureText = stringMember(doc, 'signature');
  const header = own(doc, 'header');
  if (!isJsonObject(header)) return malformed('JWS member "header" (unprotected header) must be an object');

  const protectedHeader = parseJsonBytes(decodeBase64Url(protectedText, 'JWS protected header'), 'JWS protected header');
  if (!isJsonObject(protectedHeader)) return malformed('JWS protected header must be a JSON object');
  const entries = new Map<string, unknown>(Object.entries(protectedHeader));
  for (const name of Object.keys(header)) {
    if (entries.has(name)) malformed(`header ${JSON.stringify(name)} appears in both the protected and unprotected header`);
  }
  if (Object.hasOwn(header, 'crit')) malformed('"crit" must be integrity protected'); // RFC 7515 § 4.1.11

  const signed = parseSignedAttributes({
    entries,
    critLabel: 'crit',
    isRegistered: (label) => REGISTERED_HEADERS.has(label),
    encodingLabels: ENCODING_HEADERS,
    decodeTime,
  });
  if (!entries.has('alg')) malformed('JWS protected header has no "alg"');
  const signatureAlgorithm = algorithmFromJws(entries.get('alg'));
  const contentType = entries.get('cty');
  if (contentType === undefined) malformed('JWS protected header has no "cty"');
  if (contentType !== PAYLOAD_CONTENT_TYPE) {
    throw new EnvelopeError('UNSUPPORTED_CONTENT_TYPE', `unsupported payload content type ${JSON.stringify(contentType)}`);
  }

  const certificateChain = readX5c(own(header, 'x5c'));
  const timestampText = own(header, HEADER.timestampSignature);
  if (timestampText !== undefined && typeof timestampText !== 'string')
    malformed(`${HEADER.timestampSignature} must be a base64 string`);
  const agent = own(header, HEADER.signingAgent);
  const signature = decodeBase64Url(signatureText, 'JWS signature');
  if (signature.length === 0) malformed('JWS signature is empty');
  const content = decodeBase64Url(payloadText, 'JWS payload');
  if (content.length === 0) malformed('JWS payload is empty'); // notation-core-go validatePayload

  return {
    mediaType: MEDIA_TYPE_JWS,
    payload: { content, contentType: PAYLOAD_CONTENT_TYPE },
    signerInfo: signerInfoOf(signed, {
      signatureAlgorithm,
      signature,
      certificateChain,
      agent,
      timestamp: timestampText ? decodeBase64(timestampText, HEADER.timestampSignature) : undefined,
    }),
    // The base64url alphabet is ASCII, so latin1 is the identity mapping.
    signingInput: Buffer.from(`${protectedText}.${payloadText}`, 'latin1'),
  };
}
