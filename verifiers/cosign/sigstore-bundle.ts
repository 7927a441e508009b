/**
 * Full Sigstore bundle verification (v0.1–v0.3: message signature or DSSE; key or Fulcio certificate; Rekor v1 SET /
 * inclusion proof / Rekor v2 checkpoint; RFC 3161 timestamps; SCTs) offline against a `trusted_root.json`, with
 * `@sigstore/verify` 4.x doing the bundle math. Chosen over our own code because it already passes 70 of the 71
 * conformance vectors; the one it gets wrong (`trust-root-tlog-missing-validity-start_fail`: a log key without
 * `validFor.start` is treated as valid from the beginning of time) is closed here by refusing such a trust root
 * before it reaches the library (protobuf-specs `TimeRange`: `start` is required).
 *
 * The OCI semantics (is this bundle about THIS image?) stay ours: the caller checks the DSSE subject / payload digest
 * (bundle-referrer.ts) before or after; this file answers "is this bundle genuinely signed by that key / identity".
 * The identity match is exact on both subject (SAN) and issuer, or an anchored regular expression when the rule
 * gives one (Kyverno / policy-controller take `subjectRegExp` whole-string; @sigstore/verify alone is unanchored).
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, type TrustMaterial, Verifier } from '@sigstore/verify';
import { createHash, createPublicKey } from 'node:crypto';
import { type CosignReasonCode } from './errors.ts';
import { checkTrustedRoot, isObj } from './trusted-root-shape.ts';

export type BundleExpectation =
  | { readonly key: string } // PEM public key: a "managed key" bundle (verificationMaterial.publicKey)
  | { readonly identity: { readonly subject: string | RegExp; readonly issuer: string | RegExp } };

export type BundleVerdict =
  | { readonly ok: true; readonly signer: string } // `key sha256:<fp>` or `<subject> (issuer <issuer>)`
  | { readonly ok: false; readonly code: CosignReasonCode; readonly message: string };

const anchored = (r: RegExp) => new RegExp(`^(?:${r.source})$`, r.flags.replace('g', ''));

/** Log entries plus RFC 3161 timestamps the bundle carries: what dates a certificate signature. */
function timeEvidence(bundle: unknown): number {
  const vm = isObj(bundle) && isObj(bundle.verificationMaterial) ? bundle.verificationMaterial : {};
  const tlog = Array.isArray(vm.tlogEntries) ? vm.tlogEntries.length : 0;
  const tsa = isObj(vm.timestampVerificationData) && Array.isArray(vm.timestampVerificationData.rfc3161Timestamps) ? vm.timestampVerificationData.rfc3161Timestamps.length : 0;
  return tlog + tsa;
}

/** A prepared trusted root: parse once per rule, reuse for every decision. */
export type PreparedTrustedRoot = { readonly root: TrustedRoot; readonly keyless: TrustMaterial; readonly json: Readonly<Record<string, unknown>> };
export function prepareTrustedRoot(json: unknown): PreparedTrustedRoot {
  const bad = checkTrustedRoot(json);
  if (bad !== undefined) throw new Error(`cosign: ${bad}`);
  const root = TrustedRoot.fromJSON(json);
  // Building the trust material parses every certificate and key of the root: once per rule, not per decision.
  return { root, keyless: toTrustMaterial(root), json: json as Record<string, unknown> };
}

export function verifySigstoreBundle(bundleJson: unknown, artifact: Buffer, trust: PreparedTrustedRoot, expect: BundleExpectation): BundleVerdict {
  let material: TrustMaterial;
  let keyFp: string | undefined;
  try {
    if ('key' in expect) {
      const key = createPublicKey(expect.key);
      keyFp = `sha256:${createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex')}`;
      // The bundle names its key by an opaque hint; a key rule trusts exactly one key whatever the hint says.
      material = toTrustMaterial(trust.root, () => ({ publicKey: key, validFor: () => true }));
    } else {
      material = trust.keyless;
    }
  } catch (e) {
    return { ok: false, code: 'unsupported_key', message: `cosign: trust material: ${(e as Error).message}` };
  }
  let entity;
  try {
    entity = toSignedEntity(bundleFromJSON(bundleJson), artifact);
  } catch (e) {
    return { ok: false, code: 'malformed', message: `cosign: bundle: ${(e as Error).message}` };
  }
  const isKey = 'key' in expect;
  // A certificate is only valid for minutes: without a log entry (or timestamp) nothing proves it signed inside its
  // validity. @sigstore/verify 4.1.3 crashes on such a bundle (no timestamp → no chain path) instead of saying so.
  if (!isKey && timeEvidence(bundleJson) === 0) {
    return { ok: false, code: 'rekor_required', message: 'cosign: keyless signature without a Rekor entry or timestamp: nothing proves the certificate was valid when it signed' };
  }
  try {
    // Thresholds as cosign's defaults: one log entry (or timestamp) per signature; SCTs only for certificates.
    const v = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: isKey ? 0 : 1, timestampThreshold: 0 });
    if (isKey) {
      if (entity.key.$case !== 'public-key') return { ok: false, code: 'key_not_trusted', message: 'cosign: bundle is signed by a certificate, the rule trusts a key' };
      v.verify(entity);
      return { ok: true, signer: `key ${keyFp}` };
    }
    const id = expect.identity;
    const signer = v.verify(entity, {
      ...(typeof id.subject === 'string' ? { subjectAlternativeName: id.subject } : { subjectAlternativeName: anchored(id.subject) }),
      ...(typeof id.issuer === 'string' ? { extensions: { issuer: id.issuer } } : {}),
    });
    const issuer = signer.identity?.extensions?.issuer ?? '';
    if (id.issuer instanceof RegExp && !anchored(id.issuer).test(issuer)) {
      return { ok: false, code: 'identity_mismatch', message: `cosign: issuer ${issuer} does not match ${String(id.issuer)}` };
    }
    return { ok: true, signer: `${signer.identity?.subjectAlternativeName ?? '?'} (issuer ${issuer})` };
  } catch (e) {
    const err = e as { code?: string; message?: string; name?: string };
    const code: CosignReasonCode = err.name === 'PolicyError' ? 'identity_mismatch'
      : /TLOG|SET|INCLUSION|CHECKPOINT/.test(err.code ?? '') ? 'set_invalid' : 'signature_invalid';
    return { ok: false, code, message: `cosign: ${err.code ?? err.name ?? 'error'}: ${err.message ?? String(e)}` };
  }
}
