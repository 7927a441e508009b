/**
 * The GitHub Actions workflow claims Fulcio writes into a keyless certificate, checked exactly as cosign's
 * `--certificate-github-workflow-{trigger,sha,name,repository,ref}` flags and Kyverno's / policy-controller's
 * `additionalExtensions` do: the extension's raw value must equal the configured string. OIDs from Fulcio
 * `docs/oid-info.md` (1.3.6.1.4.1.57264.1.2–.1.6, deprecated but still issued next to the newer .1.9+ forms;
 * their values are the raw UTF-8 string, not DER).
 *
 * @sigstore/verify only checks the SAN and the issuer, so these claims are read here from the leaf certificate
 * the library has already verified (the caller checks them only after the bundle verified).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

export type GithubClaims = Readonly<Partial<Record<'githubWorkflowTrigger' | 'githubWorkflowSha' | 'githubWorkflowName' | 'githubWorkflowRepository' | 'githubWorkflowRef', string>>>;

const OIDS: Readonly<Record<keyof GithubClaims, string>> = {
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
};

/** undefined when every configured claim matches; else which one did not (for the denial message). */
export function githubClaimMismatch(leafDer: Buffer, want: GithubClaims): string | undefined {
  const entries = Object.entries(want) as [keyof GithubClaims, string][];
  if (entries.length === 0) return undefined;
  let extensions: { extnID: string; extnValue: { buffer: ArrayBuffer } }[];
  try {
    extensions = AsnConvert.parse(leafDer, Certificate).tbsCertificate.extensions ?? [];
  } catch {
    return 'the signing certificate does not parse';
  }
  for (const [claim, value] of entries) {
    const ext = extensions.find((e) => e.extnID === OIDS[claim]);
    const got = ext === undefined ? undefined : Buffer.from(ext.extnValue.buffer).toString('utf8');
    if (got !== value) return `${claim} is ${got === undefined ? 'absent' : JSON.stringify(got.slice(0, 200))}, not ${JSON.stringify(value)}`;
  }
  return undefined;
}
