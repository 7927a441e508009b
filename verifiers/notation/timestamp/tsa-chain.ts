/**
 * Builds the TSA certificate chain from the token's signing certificate to a trusted TSA root, with the semantics
 * of Go `x509.Certificate.Verify` as tspclient-go calls it (Roots = the `tsa:` trust store, Intermediates = the
 * token's certificates, CurrentTime = genTime, KeyUsages = [timeStamping]):
 *
 *  - parents are looked up by name (issuer DER = subject DER) and must have signed the child, trusted roots first;
 *  - every certificate on the path must be valid at genTime (RFC 5280 § 6.1.3 (a)(2));
 *  - every CA on the path must be a CA and respect pathLenConstraint (§ 6.1.4 (k), (l));
 *  - every certificate that carries an EKU extension must allow timeStamping or anyExtendedKeyUsage.
 *
 * The search is bounded (depth ≤ 10, ≤ 100 signature checks), so a hostile token cannot make it loop.
 */
import type { Certificate } from '../../../pki/certificate.ts';
import { EKU } from '../../../pki/extensions.ts';
import { bytesEqual } from '../../../pki/format.ts';
import { checkSignatureFrom } from '../../../pki/issuance.ts';
import { tsFail } from './errors.ts';
import type { TimestampFailure } from './errors.ts';

const MAX_DEPTH = 10;
const MAX_SIGNATURE_CHECKS = 100;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function validityError(cert: Certificate, at: Date): string | null {
  if (at < cert.notBefore) return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is before ${rfc3339(cert.notBefore)}`;
  if (at > cert.notAfter) return `x509: certificate has expired or is not yet valid: current time ${rfc3339(at)} is after ${rfc3339(cert.notAfter)}`;
  return null;
}

function allowsTimestamping(cert: Certificate): boolean {
  const ekus = cert.extKeyUsage?.oids ?? [];
  return ekus.length === 0 || ekus.includes(EKU.timeStamping) || ekus.includes(EKU.any);
}

export type TsaChainResult = { readonly ok: true; readonly chain: readonly Certificate[] } | TimestampFailure;

export function buildTsaChain(signer: Certificate, intermediates: readonly Certificate[], roots: readonly Certificate[], at: Date): TsaChainResult {
  let checks = 0;
  let lastError: TimestampFailure | null = null;
  const leafError = validityError(signer, at);
  if (leafError) return tsFail('tsa-certificate-invalid', leafError);

  const extend = (chain: Certificate[]): Certificate[] | null => {
    const tail = chain[chain.length - 1]!;
    if (roots.some((r) => bytesEqual(r.der, tail.der))) return chain;
    if (chain.length > MAX_DEPTH) return null;
    const candidates = [...roots, ...intermediates].filter(
      (c) => bytesEqual(c.subject.der, tail.issuer.der) && !chain.some((x) => bytesEqual(x.der, c.der)),
    );
    for (const parent of candidates) {
      if (++checks > MAX_SIGNATURE_CHECKS) return null;
      if (checkSignatureFrom(tail, parent) !== null) continue;
      const problem = validityError(parent, at);
      if (problem) {
        lastError = tsFail('tsa-certificate-invalid', problem);
        continue;
      }
      const bc = parent.basicConstraints;
      const intermediatesBelow = chain.length - 1;
      if (bc !== null && bc.pathLen !== null && intermediatesBelow > bc.pathLen) {
        lastError = tsFail('tsa-certificate-invalid', 'x509: too many intermediates for path length constraint');
        continue;
      }
      const found = extend([...chain, parent]);
      if (found) return found;
    }
    return null;
  };

  const chain = extend([signer]);
  if (!chain) return lastError ?? tsFail('untrusted', 'x509: certificate signed by unknown authority');
  if (!chain.every(allowsTimestamping)) return tsFail('tsa-certificate-invalid', 'x509: certificate specifies an incompatible key usage');
  return { ok: true, chain };
}
