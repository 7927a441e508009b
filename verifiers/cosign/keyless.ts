/**
 * Keyless (Fulcio certificate) cosign signatures in both layouts, verified offline against a rule's trusted root.
 *
 * The tag layout maps one to one onto a v0.1 Sigstore bundle (test/vectors/sigstore/README.md § 11; cosign
 * `pkg/cosign/bundle` does the same conversion): message signature over the simple-signing payload, the
 * `…/certificate` + `…/chain` annotations as the x509 chain, and one tlog entry whose inclusion promise is the
 * `…/bundle` SET. The bundle math (chain to the Fulcio CA, SCT against the CT log keys, SET against the Rekor key,
 * certificate valid at the log's integrated time, identity) is sigstore-bundle.ts; the OCI claims are ours.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { FetchErrorCode } from '../../oci/discovery/fetcher.ts';
import { bundleCandidateClaims } from './bundle-referrer.ts';
import { fulcioClaimMismatch, type FulcioClaimRequirements } from './fulcio-claims.ts';
import { CosignError, type CosignReasonCode, REASON_PRIORITY } from './errors.ts';
import type { LegacySignature } from './legacy-layout.ts';
import { checkPayload, parseSimpleSigning, type ReferenceMatch } from './simple-signing.ts';
import { type PreparedTrustedRoot, prepareTrustedRoot, verifySigstoreBundle } from './sigstore-bundle.ts';

export type KeylessIdentity = {
  readonly name?: string;
  readonly subject: string | RegExp;
  readonly issuer: string | RegExp;
  /** Fulcio claims (GitHub workflow v1, provider-generic v2) the certificate must carry, exact or anchored (fulcio-claims.ts). */
  readonly claims?: FulcioClaimRequirements;
};
export type KeylessRule = {
  readonly trust: PreparedTrustedRoot;
  readonly identities: readonly KeylessIdentity[]; // any one of them
  readonly referenceMatch: ReferenceMatch;
  readonly annotations: Readonly<Record<string, string>>;
};
export type KeylessOutcome =
  | { readonly ok: true; readonly verifiedBy: readonly KeylessSigner[] }
  | { readonly ok: false; readonly code: CosignReasonCode; readonly message: string; readonly fetchCode?: FetchErrorCode };

/** Who signed, and when the log recorded it (seconds since the epoch, from the verified tlog entry). */
export type KeylessSigner = { readonly name: string; readonly signer: string; readonly integratedTime?: number };

const MAX_CHAIN = 10;

/** The integrated time of the bundle's (already verified) first tlog entry. */
function integratedTime(bundle: unknown): number | undefined {
  const t = (bundle as { verificationMaterial?: { tlogEntries?: { integratedTime?: unknown }[] } })?.verificationMaterial?.tlogEntries?.[0]?.integratedTime;
  const n = typeof t === 'string' || typeof t === 'number' ? Number(t) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function pemCerts(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(new X509Certificate(m[0]).raw);
    if (out.length > MAX_CHAIN) throw new CosignError('malformed', 'cosign: certificate chain too long');
  }
  return out;
}

/** Tag-layout signature → v0.1 bundle JSON (protobuf-specs JSON names). */
export function legacyToBundle(s: LegacySignature): unknown {
  if (s.certificatePem === undefined || s.signature === undefined) throw new CosignError('no_signature', 'cosign: signature has no certificate');
  let chain: Buffer[];
  try {
    chain = [...pemCerts(s.certificatePem), ...(s.chainPem ? pemCerts(s.chainPem) : [])];
  } catch (e) {
    if (e instanceof CosignError) throw e;
    throw new CosignError('malformed', 'cosign: certificate annotation does not parse');
  }
  if (chain.length === 0) throw new CosignError('malformed', 'cosign: certificate annotation holds no certificate');
  const tlogEntries = [];
  if (s.rekorBundle) {
    const b = s.rekorBundle;
    let kind = { kind: 'hashedrekord', version: '0.0.1' };
    try {
      const body = JSON.parse(Buffer.from(b.body, 'base64').toString('utf8')) as { kind?: unknown; apiVersion?: unknown };
      if (typeof body.kind === 'string' && typeof body.apiVersion === 'string') kind = { kind: body.kind, version: body.apiVersion };
    } catch { /* the library rejects a body it cannot read */ }
    tlogEntries.push({
      logIndex: String(b.logIndex), logId: { keyId: Buffer.from(b.logID, 'hex').toString('base64') }, kindVersion: kind,
      integratedTime: String(b.integratedTime), inclusionPromise: { signedEntryTimestamp: b.set.toString('base64') }, canonicalizedBody: b.body,
    });
  }
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.toString('base64') })) }, tlogEntries },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(s.payload).digest('base64') },
      signature: s.signature.toString('base64'),
    },
  };
}

/**
 * cosign accepts intermediates from the `…/chain` annotation as untrusted path material when they chain to a
 * configured root (cosign `pkg/cosign/verify.go` `ValidateAndUnpackCertWithIntermediates`); @sigstore/verify only
 * builds paths inside the trusted root's CA chains. So: for each intermediate that is a CA, was issued by the last
 * (root) certificate of a configured authority and verifies with its key, add an authority [intermediate, …chain].
 */
function trustWithIntermediates(trust: PreparedTrustedRoot, chain: readonly Buffer[]): PreparedTrustedRoot {
  const cas = Array.isArray(trust.json.certificateAuthorities) ? trust.json.certificateAuthorities as Record<string, any>[] : [];
  const extra: unknown[] = [];
  for (const der of chain.slice(1)) {
    const inter = new X509Certificate(der);
    if (!inter.ca || inter.checkIssued(inter)) continue; // self-signed: a root from the signature is never trusted
    for (const ca of cas) {
      const certs = ca?.certChain?.certificates as { rawBytes: string }[] | undefined;
      const last = certs?.[certs.length - 1];
      if (!last) continue;
      const root = new X509Certificate(Buffer.from(last.rawBytes, 'base64'));
      if (inter.checkIssued(root) && inter.verify(root.publicKey) && !certs.some((c) => c.rawBytes === der.toString('base64'))) {
        extra.push({ ...ca, certChain: { certificates: [{ rawBytes: der.toString('base64') }, ...certs] } });
      }
    }
  }
  return extra.length === 0 ? trust : prepareTrustedRoot({ ...trust.json, certificateAuthorities: [...extra, ...cas] });
}

/** The bundle's certificates, leaf first: a v0.1/v0.2 chain, or the v0.3 single `certificate`. */
function bundleChain(bundle: unknown): Buffer[] {
  const material = (bundle as { verificationMaterial?: { x509CertificateChain?: { certificates?: { rawBytes?: string }[] }; certificate?: { rawBytes?: string } } })
    ?.verificationMaterial;
  const certs = material?.x509CertificateChain?.certificates ?? (material?.certificate ? [material.certificate] : []);
  return certs.filter((c) => typeof c?.rawBytes === 'string').map((c) => Buffer.from(c.rawBytes as string, 'base64'));
}

function judgeOne(bundle: unknown, artifact: Buffer, claims: () => void, rule: KeylessRule): KeylessSigner {
  let last: { code: CosignReasonCode; message: string } = { code: 'identity_mismatch', message: 'cosign: no identity configured' };
  const chain = bundleChain(bundle);
  const trust = trustWithIntermediates(rule.trust, chain);
  for (const id of rule.identities) {
    const v = verifySigstoreBundle(bundle, artifact, trust, { identity: id });
    if (v.ok) {
      // The bundle verified with this leaf, so its extensions are Fulcio's word for the workflow that signed. The
      // issuer is read again here by our strict reader (v2 preferred): a malformed v2 value must not pass.
      const wrong = chain[0] === undefined ? 'no signing certificate' : fulcioClaimMismatch(chain[0], id.issuer, id.claims ?? {});
      if (wrong !== undefined) {
        last = { code: 'identity_mismatch', message: `cosign: ${v.signer}: ${wrong}` };
        continue;
      }
      claims();
      const at = integratedTime(bundle);
      return { name: id.name ?? v.signer, signer: v.signer, ...(at === undefined ? {} : { integratedTime: at }) };
    }
    last = v;
    if (v.code !== 'identity_mismatch') break; // the bundle itself is bad: another identity will not help
  }
  throw new CosignError(last.code, last.message);
}

export function judgeKeyless(legacy: readonly LegacySignature[], bundles: readonly unknown[], request: { digest: string; reference?: string }, rule: KeylessRule): KeylessOutcome {
  const ok: KeylessSigner[] = [];
  const failures: CosignError[] = [];
  let seen = 0;
  const attempt = (f: () => KeylessSigner) => {
    seen++;
    try {
      ok.push(f());
    } catch (e) {
      if (!(e instanceof CosignError)) throw e;
      failures.push(e);
    }
  };
  for (const s of legacy) {
    if (s.signature === undefined) continue;
    attempt(() => judgeOne(legacyToBundle(s), s.payload, () => checkPayload(parseSimpleSigning(s.payload), {
      digest: request.digest, match: rule.referenceMatch, annotations: rule.annotations, ...(request.reference ? { reference: request.reference } : {}),
    }), rule));
  }
  for (const b of bundles) {
    attempt(() => {
      const c = bundleCandidateClaims(b, request.digest);
      return judgeOne(b, c.artifact, c.checkClaims, rule);
    });
  }
  if (ok.length > 0) return { ok: true, verifiedBy: ok };
  if (seen === 0) return { ok: false, code: 'no_signature', message: 'cosign: no signature found' };
  failures.sort((a, b) => REASON_PRIORITY.indexOf(a.code) - REASON_PRIORITY.indexOf(b.code));
  const first = failures[0] as CosignError;
  return { ok: false, code: first.code, message: first.message };
}
