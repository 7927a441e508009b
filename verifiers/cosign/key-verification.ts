/**
 * Key-based cosign verification over a set of candidate signatures, independent of where they came from (tag layout
 * or bundle). A signature counts for a key when, in cosign's order (`pkg/cosign/verify.go` `verifyInternal`):
 * the signature verifies over the payload with that key, the payload's claims hold (digest, type, reference), and a
 * Rekor bundle, when present, verifies and describes this very signature. A Rekor entry is required only when the
 * rule says so (cosign's `--insecure-ignore-tlog` is our default for keys, as in Connaisseur's `tlog: false`).
 *
 * Threshold semantics follow Connaisseur's multi-signer cosign validator: count DISTINCT trusted keys that verified
 * at least one signature (one key signing twice counts once); `required` names keys that must be among them.
 */
import { CosignError, type CosignReasonCode, REASON_PRIORITY } from './errors.ts';
import { type TrustedKey, verifiesWith } from './keys.ts';
import { type RekorBundle, type RekorKey, verifyRekorBundle } from './rekor-set.ts';

/** One signature as the checks see it; `checkClaims` throws a CosignError when the signed content is not acceptable. */
export type CandidateSignature = {
  /** The exact bytes the signature covers (simple-signing payload, or the DSSE pre-authentication encoding). */
  readonly signedBytes: Buffer;
  readonly signature: Buffer | undefined;
  readonly rekorBundle: RekorBundle | undefined;
  /** Bytes the Rekor entry hashes (the payload; for DSSE cosign logs the envelope differently: no SET there yet). */
  readonly loggedBytes: Buffer;
  readonly checkClaims: () => void;
};

export type KeyRule = {
  readonly keys: readonly TrustedKey[];
  readonly threshold: number;
  readonly required: readonly string[];
  readonly rekor: { readonly required: boolean; readonly logs: readonly RekorKey[] };
};

export type KeyVerdict =
  | { readonly ok: true; readonly keys: readonly { readonly name: string; readonly fingerprint: string; readonly integratedTime?: number }[] }
  | { readonly ok: false; readonly code: CosignReasonCode; readonly message: string };

export function verifyWithKeys(candidates: readonly CandidateSignature[], rule: KeyRule): KeyVerdict {
  const verified = new Map<string, { name: string; fingerprint: string; integratedTime?: number }>();
  const failures: CosignError[] = [];
  let signed = 0;
  for (const c of candidates) {
    if (c.signature === undefined) continue; // cosign: a layer without a signature annotation is not a signature
    signed++;
    const key = rule.keys.find((k) => verifiesWith(k, c.signedBytes, c.signature as Buffer));
    if (!key) {
      failures.push(new CosignError('key_not_trusted', 'cosign: no signature verified with a trusted key'));
      continue;
    }
    try {
      c.checkClaims();
      let integratedTime: number | undefined;
      if (c.rekorBundle !== undefined) {
        integratedTime = verifyRekorBundle(c.rekorBundle, rule.rekor.logs, c.loggedBytes, c.signature, key.spki);
      } else if (rule.rekor.required) {
        throw new CosignError('rekor_required', `cosign: signature by ${key.name} has no Rekor entry and the rule requires one`);
      }
      if (!verified.has(key.fingerprint)) verified.set(key.fingerprint, { name: key.name, fingerprint: key.fingerprint, ...(integratedTime === undefined ? {} : { integratedTime }) });
    } catch (e) {
      if (!(e instanceof CosignError)) throw e;
      failures.push(e);
    }
  }
  const names = new Set([...verified.values()].map((v) => v.name));
  const missing = rule.required.filter((r) => !names.has(r));
  if (verified.size >= rule.threshold && missing.length === 0 && verified.size > 0) return { ok: true, keys: [...verified.values()] };
  if (signed === 0) return { ok: false, code: 'no_signature', message: 'cosign: no signature found' };
  if (verified.size > 0) {
    const why = missing.length > 0 ? `missing required signatures from ${missing.join(', ')}` : `${verified.size} of ${rule.threshold} required keys verified`;
    return { ok: false, code: 'threshold_not_met', message: `cosign: ${why}` };
  }
  failures.sort((a, b) => REASON_PRIORITY.indexOf(a.code) - REASON_PRIORITY.indexOf(b.code));
  const first = failures[0] as CosignError;
  return { ok: false, code: first.code, message: first.message };
}
