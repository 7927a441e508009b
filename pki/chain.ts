/**
 * Signing-chain validation: signature-specification.md § "Certificate Requirements", implemented with the exact
 * order and wording of notation-core-go `ValidateCodeSigningCertChain` / `ValidateTimestampingCertChain`:
 *
 *  - the chain is ordered leaf → root; each certificate is issued (name + signature) by the next one;
 *  - the last one is a self-signed root; no other certificate is self-signed;
 *  - a single certificate must be a self-signed (and self-issued) *leaf*;
 *  - CA certificates: basicConstraints cA=TRUE, pathLenConstraint ≥ number of CAs below, keyUsage keyCertSign;
 *  - the leaf: not a CA, keyUsage digitalSignature only, EKU rules per purpose, RSA 2048/3072/4096 or P-256/384/521;
 *  - every certificate valid at the chosen time (RFC 5280 § 4.1.2.5, bounds inclusive).
 *
 * Additionally (RFC 5280 § 4.2, not done by notation-core-go for signing chains) a critical extension outside the
 * set Go's x509 understands is rejected unless `unknownCriticalExtensions: 'ignore'`.
 */
import { parseCertificate } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { fail, LIMITS, X509ParseError } from './errors.ts';
import type { X509Failure } from './errors.ts';
import { goTime, rfc1123z } from './format.ts';
import { checkSelfSignature, isIssuedBy, isSelfSigned } from './issuance.ts';
import { subjectQ, validateCaCertificate, validateLeafCertificate } from './profile.ts';
import type { EkuOptions, Purpose } from './profile.ts';

export type CertificateInput = Uint8Array | Certificate;

export interface ChainOptions extends EkuOptions {
  readonly purpose: Purpose;
  /** The verifier's clock. */
  readonly now: Date;
  /**
   * When every certificate must be within its validity period. Omitted: at `now`. A Date: at that instant (a
   * signing time, or an authentic timestamp's time). null: not checked here, because the caller decides validity
   * in a later step (notation's authenticTimestamp step for the notary.x509 scheme).
   */
  readonly validAt?: Date | null;
  readonly unknownCriticalExtensions?: 'reject' | 'ignore';
}

export type ChainFailure = X509Failure & { readonly index?: number };
export type ChainResult = { readonly ok: true; readonly chain: readonly Certificate[] } | ChainFailure;

/** Parses DER inputs (already-parsed certificates pass through), enforcing a count bound (default: chain length). */
export function toCertificates(inputs: readonly CertificateInput[], max: number = LIMITS.chainLength): { ok: true; certs: Certificate[] } | ChainFailure {
  if (inputs.length > max) return fail('too-large', `${inputs.length} certificates given, at most ${max} are accepted`);
  const certs: Certificate[] = [];
  for (const [index, input] of inputs.entries()) {
    if (!(input instanceof Uint8Array)) {
      certs.push(input);
      continue;
    }
    try {
      certs.push(parseCertificate(input));
    } catch (err) {
      if (err instanceof X509ParseError) return { ...fail(err.code, err.message), index };
      throw err;
    }
  }
  return { ok: true, certs };
}

/** Validity of one certificate at `at`; `signingTime` selects notation-core-go's wording over notation-go's. */
export function checkValidity(cert: Certificate, at: Date, signingTime: boolean): X509Failure | null {
  const before = at.getTime() < cert.notBefore.getTime();
  const after = at.getTime() > cert.notAfter.getTime();
  if (!before && !after) return null;
  const code = before ? 'not-yet-valid' : 'expired';
  if (signingTime) {
    return fail(code, `certificate with subject ${subjectQ(cert)} was invalid at signing time of ${goTime(at)}. Certificate is valid from [${goTime(cert.notBefore)}] to [${goTime(cert.notAfter)}]`);
  }
  return before
    ? fail(code, `verification time is before certificate ${subjectQ(cert)} validity period, it will be valid from "${rfc1123z(cert.notBefore)}"`)
    : fail(code, `verification time is after certificate ${subjectQ(cert)} validity period, it was expired at "${rfc1123z(cert.notAfter)}"`);
}

function criticalCheck(cert: Certificate, options: ChainOptions): X509Failure | null {
  if (options.unknownCriticalExtensions === 'ignore' || cert.unhandledCriticalExtensions.length === 0) return null;
  return fail('unhandled-critical-extension', `certificate with subject ${subjectQ(cert)} has unhandled critical extension(s) ${cert.unhandledCriticalExtensions.join(', ')}`);
}

/** Validates an ordered leaf → root signing chain. Never throws. */
export function validateSigningChain(chainInput: readonly CertificateInput[], options: ChainOptions): ChainResult {
  if (chainInput.length === 0) return fail('empty-chain', 'certificate chain must contain at least one certificate');
  const parsed = toCertificates(chainInput);
  if (!parsed.ok) return parsed;
  const chain = parsed.certs;
  const at = options.validAt === undefined ? options.now : options.validAt;
  const signingTime = options.validAt instanceof Date;
  const at_ = (index: number, f: X509Failure | null): ChainFailure | null => (f ? { ...f, index } : null);

  if (chain.length === 1) {
    const cert = chain[0]!;
    const sigErr = checkSelfSignature(cert);
    if (sigErr !== null) return { ...fail('invalid-self-signed', `invalid self-signed certificate. subject: ${subjectQ(cert)}. Error: ${sigErr}`), index: 0 };
    if (!Buffer.from(cert.subject.der).equals(cert.issuer.der)) {
      return { ...fail('invalid-self-signed', `invalid self-signed certificate. subject: ${subjectQ(cert)}. Error: issuer(${cert.issuer.string}) and subject(${cert.subject.string}) are not the same`), index: 0 };
    }
    const timeErr = at === null ? null : at_(0, checkValidity(cert, at, signingTime));
    if (timeErr) return timeErr;
    const leaf = validateLeafCertificate(cert, options.purpose, options);
    if (!leaf.ok) return { ...fail(leaf.code, `invalid self-signed certificate. Error: ${leaf.message}`), index: 0 };
    return at_(0, criticalCheck(cert, options)) ?? { ok: true, chain };
  }

  for (const [i, cert] of chain.entries()) {
    const timeErr = at === null ? null : at_(i, checkValidity(cert, at, signingTime));
    if (timeErr) return timeErr;
    const selfSigned = isSelfSigned(cert);
    if (i === chain.length - 1) {
      if (!selfSigned.issued) {
        const message = selfSigned.error !== null
          ? `root certificate with subject ${subjectQ(cert)} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: ${selfSigned.error}`
          : `root certificate with subject ${subjectQ(cert)} is not self-signed. Certificate chain must end with a valid self-signed root certificate`;
        return { ...fail('root-not-self-signed', message), index: i };
      }
    } else {
      if (selfSigned.issued) {
        return i === 0
          ? { ...fail('leaf-self-signed', `leaf certificate with subject ${subjectQ(cert)} is self-signed. Certificate chain must not contain self-signed leaf certificate`), index: i }
          : { ...fail('intermediate-self-signed', `intermediate certificate with subject ${subjectQ(cert)} is self-signed. Certificate chain must not contain self-signed intermediate certificate`), index: i };
      }
      const parent = chain[i + 1]!;
      const issued = isIssuedBy(cert, parent);
      if (!issued.issued) {
        const message = issued.error !== null
          ? `invalid certificates or certificate with subject ${subjectQ(cert)} is not issued by ${subjectQ(parent)}. Error: ${issued.error}`
          : `certificate with subject ${subjectQ(cert)} is not issued by ${subjectQ(parent)}`;
        return { ...fail('not-issued-by', message), index: i };
      }
    }
    const profile = i === 0 ? validateLeafCertificate(cert, options.purpose, options) : validateCaCertificate(cert, i - 1, options.purpose);
    if (!profile.ok) return { ...profile, index: i };
    const critical = at_(i, criticalCheck(cert, options));
    if (critical) return critical;
  }
  return { ok: true, chain };
}
