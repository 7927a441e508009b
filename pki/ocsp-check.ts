/**
 * Verifying a parsed BasicOCSPResponse (ocsp.ts) for one certificate, RFC 6960 § 3.2 and § 4.2.2:
 *
 *  - the signer is the certificate's issuer, or a delegated responder (§ 4.2.2.2): a certificate from the
 *    response's `certs`, named by the ResponderID, issued directly by the issuer (name and signature), carrying
 *    id-kp-OCSPSigning in its EKU and valid now. Like notation-core-go, the delegated responder's own revocation
 *    (id-pkix-ocsp-nocheck, § 4.2.2.2.1) is not checked. SHA-1 response signatures are accepted, as Go's
 *    `ocsp.ParseResponseForCert` (x509 `CheckSignature`) accepts them; MD5/MD2 are not;
 *  - the SingleResponse whose CertID (any of SHA-1/256/384/512) names this certificate (§ 3.2 item 1, § 4.1.1);
 *  - thisUpdate ≤ now + skew (§ 3.2 item 4); nextUpdate present (notation treats a missing one as expired) and
 *    after now (§ 3.2 item 5);
 *  - critical extensions other than the nonce (response, § 4.4.1) and invalidityDate (single, RFC 5280 § 5.3.2,
 *    allowed by § 4.4 "CRL entry extensions") are refused.
 *
 * Never throws for bad input: every failure is an `OcspCheck` with a code from the closed union.
 */
import { createHash } from 'node:crypto';
import { id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import type { CertID, SingleResponse } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { InvalidityDate } from '@peculiar/asn1-x509';
import type { Extension } from '@peculiar/asn1-x509';
import { integerValue } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { CRL_REASONS } from './crl.ts';
import type { CrlReason } from './crl.ts';
import { EKU } from './extensions.ts';
import { bytesEqual, goQuote } from './format.ts';
import { isIssuedBy } from './issuance.ts';
import { OCSP_HASH_OIDS, certIdHashes, parseOcspResponse, publicKeyBits } from './ocsp.ts';
import type { BasicOcspResponse, OcspHash, ResponderId } from './ocsp.ts';
import { OcspError } from './ocsp-errors.ts';
import type { OcspErrorCode } from './ocsp-errors.ts';
import { verifySignature } from './signature.ts';

const OID_INVALIDITY = '2.5.29.24';
/** Clock skew tolerated on thisUpdate. */
export const DEFAULT_OCSP_SKEW_MS = 5 * 60_000;

interface Validity {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

export type OcspStatus =
  | (Validity & { readonly status: 'good' })
  | (Validity & { readonly status: 'revoked'; readonly revokedAt: Date; readonly reason: CrlReason | null; readonly invalidityDate: Date | null })
  | (Validity & { readonly status: 'unknown' });

export type OcspCheck =
  | { readonly ok: true; readonly status: OcspStatus; readonly delegated: boolean }
  | { readonly ok: false; readonly code: OcspErrorCode; readonly message: string };

export interface OcspCheckOptions {
  readonly now: Date;
  /** Tolerated clock skew on thisUpdate (default 5 minutes). */
  readonly skewMs?: number;
}

const fail = (code: OcspErrorCode, message: string): OcspCheck => ({ ok: false, code, message });

function identifies(id: ResponderId, cert: Certificate): boolean {
  if ('byName' in id) return bytesEqual(id.byName, cert.subject.der);
  return bytesEqual(id.byKey, createHash('sha1').update(publicKeyBits(cert)).digest());
}

/** The responder's certificate (§ 4.2.2.2), or why none is authorized. */
function signerOf(resp: BasicOcspResponse, issuer: Certificate, now: Date): { signer: Certificate; delegated: boolean } | OcspCheck {
  if (identifies(resp.responderId, issuer)) return { signer: issuer, delegated: false };
  const who = goQuote(issuer.subject.string);
  const responder = resp.certs.find((c) => identifies(resp.responderId, c));
  if (!responder) return fail('ocsp-responder', `OCSP response is signed neither by CA ${who} nor by a responder certificate it includes`);
  const name = goQuote(responder.subject.string);
  const issued = isIssuedBy(responder, issuer);
  if (!issued.issued) return fail('ocsp-responder', `OCSP responder ${name} is not issued by CA ${who}${issued.error ? `: ${issued.error}` : ''}`);
  if (!responder.extKeyUsage?.oids.includes(EKU.ocspSigning)) return fail('ocsp-responder', `OCSP responder ${name} lacks the id-kp-OCSPSigning extended key usage`);
  if (now < responder.notBefore || now > responder.notAfter) return fail('ocsp-responder', `OCSP responder certificate ${name} is not valid at ${now.toISOString()}`);
  return { signer: responder, delegated: true };
}

function matches(id: CertID, cert: Certificate, issuer: Certificate): boolean {
  const hash = (Object.keys(OCSP_HASH_OIDS) as OcspHash[]).find((h) => OCSP_HASH_OIDS[h] === id.hashAlgorithm.algorithm);
  if (!hash) return false;
  const serial = new Uint8Array(id.serialNumber);
  if (serial.length === 0 || integerValue(serial) !== cert.serialNumber) return false;
  const want = certIdHashes(cert, issuer, hash);
  return bytesEqual(new Uint8Array(id.issuerNameHash.buffer), want.nameHash) && bytesEqual(new Uint8Array(id.issuerKeyHash.buffer), want.keyHash);
}

function criticalBeyond(exts: readonly Extension[] | undefined, allowed: string): string | undefined {
  return exts?.find((e) => e.critical && e.extnID !== allowed)?.extnID;
}

function statusOf(single: SingleResponse, validity: Validity): OcspStatus | OcspCheck {
  const cs = single.certStatus;
  if (cs.revoked !== undefined) {
    const code = cs.revoked.revocationReason?.reason;
    const inv = single.singleExtensions?.find((e) => e.extnID === OID_INVALIDITY);
    let invalidityDate: Date | null = null;
    if (inv) {
      try {
        invalidityDate = AsnConvert.parse(inv.extnValue.buffer, InvalidityDate).value;
      } catch {
        return fail('ocsp-malformed', 'malformed invalidityDate in the OCSP response');
      }
    }
    const reason = code === undefined ? null : (CRL_REASONS[code] ?? null);
    return { ...validity, status: 'revoked', revokedAt: cs.revoked.revocationTime, reason, invalidityDate };
  }
  if (cs.good !== undefined) return { ...validity, status: 'good' };
  if (cs.unknown !== undefined) return { ...validity, status: 'unknown' };
  return fail('ocsp-malformed', 'OCSP certStatus is empty');
}

/** Verifies `resp` as the answer about `cert`, issued by `issuer` (see the file comment). */
export function verifyOcspResponse(resp: BasicOcspResponse, cert: Certificate, issuer: Certificate, options: OcspCheckOptions): OcspCheck {
  try {
    const now = options.now;
    const signer = signerOf(resp, issuer, now);
    if ('ok' in signer) return signer;
    const sig = verifySignature(resp.signatureAlgorithm, resp.tbs, resp.signature, signer.signer.publicKey, { allowSha1: true });
    if (sig) return fail('ocsp-signature', `OCSP response signature does not verify: ${sig.message}`);
    const critical = criticalBeyond(resp.data.responseExtensions, id_pkix_ocsp_nonce);
    if (critical) return fail('ocsp-unsupported-critical-extension', `unsupported critical extension found in OCSP response: ${critical}`);
    const single = resp.data.responses.find((r) => matches(r.certID, cert, issuer));
    if (!single) return fail('ocsp-no-matching-response', `OCSP response has no status for certificate serial ${cert.serialHex}`);
    const skew = options.skewMs ?? DEFAULT_OCSP_SKEW_MS;
    if (single.thisUpdate.getTime() > now.getTime() + skew) {
      return fail('ocsp-not-yet-valid', `OCSP response is not yet valid: thisUpdate ${single.thisUpdate.toISOString()} is after ${now.toISOString()}`);
    }
    if (single.nextUpdate === undefined) return fail('ocsp-no-next-update', 'OCSP response NextUpdate is not set');
    if (single.nextUpdate.getTime() <= now.getTime()) return fail('ocsp-expired', `expired OCSP response: NextUpdate ${single.nextUpdate.toISOString()} has passed`);
    const badSingle = criticalBeyond(single.singleExtensions, OID_INVALIDITY);
    if (badSingle) return fail('ocsp-unsupported-critical-extension', `unsupported critical extension found in OCSP single response: ${badSingle}`);
    const status = statusOf(single, { thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate });
    return 'ok' in status ? status : { ok: true, status, delegated: signer.delegated };
  } catch (err) {
    // Only malformed input reaches here (a CertID or key that does not decode); never a trusted answer.
    return fail('ocsp-malformed', `malformed OCSP response: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parse and verify in one call; every failure, parse errors included, comes back as an `OcspCheck`. */
export function checkOcspResponse(bytes: Uint8Array, cert: Certificate, issuer: Certificate, options: OcspCheckOptions): OcspCheck {
  let resp: BasicOcspResponse;
  try {
    resp = parseOcspResponse(bytes);
  } catch (err) {
    if (err instanceof OcspError) return fail(err.code, err.message);
    throw err;
  }
  return verifyOcspResponse(resp, cert, issuer, options);
}
