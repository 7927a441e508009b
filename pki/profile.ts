/**
 * The Notary Project certificate profile, per certificate (signature-specification.md § "Certificate
 * Requirements"), with notation-core-go's exact checks and wording (`x509/helper.go`,
 * `codesigning_cert_validations.go`, `timestamp_cert_validations.go`).
 */
import type { Certificate } from './certificate.ts';
import { fail, OK } from './errors.ts';
import type { X509Outcome } from './errors.ts';
import { EKU, KU, OID } from './extensions.ts';
import { goQuote } from './format.ts';

export type Purpose = 'codeSigning' | 'timestamping';

const EKU_NAMES: Readonly<Record<string, string>> = {
  [EKU.any]: 'Any',
  [EKU.serverAuth]: 'ServerAuth',
  [EKU.clientAuth]: 'ClientAuth',
  [EKU.codeSigning]: 'CodeSigning',
  [EKU.emailProtection]: 'EmailProtection',
  [EKU.timeStamping]: 'Timestamping',
  [EKU.ocspSigning]: 'OCSPSigning',
};

/** Go-quoted subject, the way notation prints `%q` of `cert.Subject`. */
export function subjectQ(cert: Certificate): string {
  return goQuote(cert.subject.string);
}

function hasExtension(cert: Certificate, oid: string): { present: boolean; critical: boolean } {
  const ext = cert.extensions.find((e) => e.oid === oid);
  return { present: ext !== undefined, critical: ext?.critical === true };
}

/** Key Usage MUST be present (and critical, for code signing; notation does not require it for TSA certs). */
function keyUsagePresent(cert: Certificate, purpose: Purpose): X509Outcome {
  const ku = hasExtension(cert, OID.keyUsage);
  if (ku.present && !ku.critical && purpose === 'codeSigning') {
    return fail('key-usage', `certificate with subject ${subjectQ(cert)}: key usage extension must be marked critical`);
  }
  if (!ku.present) return fail('key-usage', `certificate with subject ${subjectQ(cert)}: key usage extension must be present`);
  return OK;
}

/** RFC 5280 § 4.2.1.9: CA certificates carry basicConstraints cA=TRUE; pathLenConstraint bounds the CAs below. */
export function validateCaCertificate(cert: Certificate, expectedPathLen: number, purpose: Purpose): X509Outcome {
  const bc = cert.basicConstraints;
  if (bc === null || !bc.ca) {
    return fail('basic-constraints', `certificate with subject ${subjectQ(cert)}: ca field in basic constraints must be present, critical, and set to true`);
  }
  if (bc.pathLen !== null && bc.pathLen < expectedPathLen) {
    return fail('path-length', `certificate with subject ${subjectQ(cert)}: expected path length of ${expectedPathLen} but certificate has path length ${bc.pathLen} instead`);
  }
  const present = keyUsagePresent(cert, purpose);
  if (!present.ok) return present;
  if (((cert.keyUsage?.bits ?? 0) & KU.keyCertSign) === 0) {
    return fail('key-usage', `certificate with subject ${subjectQ(cert)}: key usage must have the bit positions for key cert sign set`);
  }
  return OK;
}

const FORBIDDEN_LEAF_KU: readonly [number, string][] = [
  [KU.keyEncipherment, 'KeyEncipherment'],
  [KU.dataEncipherment, 'DataEncipherment'],
  [KU.keyAgreement, 'KeyAgreement'],
  [KU.keyCertSign, 'CertSign'],
  [KU.cRLSign, 'CRLSign'],
  [KU.encipherOnly, 'EncipherOnly'],
  [KU.decipherOnly, 'DecipherOnly'],
];

/** Leaf key usage: digitalSignature set, nothing but digitalSignature / nonRepudiation. */
export function validateLeafKeyUsage(cert: Certificate, purpose: Purpose): X509Outcome {
  const present = keyUsagePresent(cert, purpose);
  if (!present.ok) return present;
  const bits = cert.keyUsage?.bits ?? 0;
  if ((bits & KU.digitalSignature) === 0) {
    return fail('key-usage', `the certificate with subject ${subjectQ(cert)} is invalid. The key usage must have the bit positions for "Digital Signature" set`);
  }
  const found = FORBIDDEN_LEAF_KU.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => `"${name}"`);
  if (found.length > 0) {
    return fail('key-usage', `the certificate with subject ${subjectQ(cert)} is invalid. The key usage must be "Digital Signature" only, but found ${found.join(', ')}`);
  }
  return OK;
}

export interface EkuOptions {
  /**
   * Also require id-kp-codeSigning when a code-signing leaf has an EKU extension. The specification says the EKU
   * "MAY contain id-kp-codeSigning" and notation-core-go does not require it, so the default is false.
   */
  readonly requireCodeSigningEku?: boolean;
}

/** Extended key usage of the leaf (RFC 5280 § 4.2.1.12; RFC 3161 § 2.3 for TSA certificates). */
export function validateLeafExtendedKeyUsage(cert: Certificate, purpose: Purpose, options: EkuOptions = {}): X509Outcome {
  const ekus = cert.extKeyUsage?.oids ?? [];
  if (purpose === 'timestamping') {
    if (ekus.length !== 1 || ekus[0] !== EKU.timeStamping) {
      return fail('extended-key-usage', `timestamp signing certificate with subject ${subjectQ(cert)} must have and only have Timestamping as extended key usage`);
    }
    if (cert.extKeyUsage?.critical !== true) {
      return fail('extended-key-usage', `timestamp signing certificate with subject ${subjectQ(cert)} must have extended key usage extension marked as critical`);
    }
    return OK;
  }
  if (ekus.length === 0) return OK;
  const excluded = [EKU.serverAuth, EKU.clientAuth, EKU.emailProtection, EKU.timeStamping, EKU.ocspSigning];
  for (const eku of ekus) {
    const hit = excluded.find((x) => x === eku);
    if (hit) return fail('extended-key-usage', `certificate with subject ${subjectQ(cert)}: extended key usage must not contain ${EKU_NAMES[hit]} eku`);
  }
  if (options.requireCodeSigningEku === true && !ekus.includes(EKU.codeSigning)) {
    return fail('extended-key-usage', `certificate with subject ${subjectQ(cert)}: extended key usage must contain CodeSigning eku`);
  }
  return OK;
}

/** notation-core-go `signature.ExtractKeySpec`: RSA 2048/3072/4096, ECDSA P-256/P-384/P-521. */
export function validateKeySpec(cert: Certificate): X509Outcome {
  const key = cert.publicKey;
  if (key.algorithm === 'rsa') {
    if (key.bits === 2048 || key.bits === 3072 || key.bits === 4096) return OK;
    return fail('key-size', `certificate with subject ${subjectQ(cert)}: rsa key size ${key.bits} bits is not supported`);
  }
  if (key.algorithm === 'ec') {
    if (key.bits === 256 || key.bits === 384 || key.bits === 521) return OK;
    return fail('key-size', `certificate with subject ${subjectQ(cert)}: ecdsa key size ${key.bits} bits is not supported`);
  }
  return fail('unsupported-key', `certificate with subject ${subjectQ(cert)}: unsupported public key type`);
}

/** All leaf checks, in notation-core-go order. */
export function validateLeafCertificate(cert: Certificate, purpose: Purpose, options: EkuOptions = {}): X509Outcome {
  if (cert.basicConstraints?.ca === true) {
    return fail('basic-constraints', `certificate with subject ${subjectQ(cert)}: if the basic constraints extension is present, the ca field must be set to false`);
  }
  const ku = validateLeafKeyUsage(cert, purpose);
  if (!ku.ok) return ku;
  const eku = validateLeafExtendedKeyUsage(cert, purpose, options);
  if (!eku.ok) return eku;
  return validateKeySpec(cert);
}
