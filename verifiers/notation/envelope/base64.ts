/**
 * Strict base64 decoders. Buffer.from(s, 'base64') silently skips invalid
 * characters and accepts both alphabets, so the input is validated first.
 *
 * - base64url (RFC 7515 § 2 "Base64url Encoding"): URL-safe alphabet, all
 *   trailing '=' omitted, no other characters. signature-envelope-jws.md
 *   § "Create the JWS Signing Input" requires exactly this. A padded value is
 *   rejected: notation-go's ca_invalid_sig_env.json is a valid envelope with
 *   one '=' appended to `payload`, and must fail.
 * - base64 (RFC 4648 § 4, padded): used for JWS `x5c` (RFC 7515 § 4.1.6) and
 *   `io.cncf.notary.timestampSignature` (signature-envelope-jws.md § "Unprotected Headers").
 *
 * Both reject non-canonical encodings (non-zero unused trailing bits), so one
 * byte string has exactly one accepted encoding.
 */
import { malformed } from './errors.ts';

const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64Url(text: string, what: string): Buffer {
  if (!BASE64URL_RE.test(text) || text.length % 4 === 1) {
    malformed(`${what} is not unpadded base64url (RFC 7515 § 2)`);
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) malformed(`${what} is not canonical base64url`);
  return bytes;
}

export function decodeBase64(text: string, what: string): Buffer {
  if (!BASE64_RE.test(text)) malformed(`${what} is not padded standard base64 (RFC 4648 § 4)`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) malformed(`${what} is not canonical base64`);
  return bytes;
}
