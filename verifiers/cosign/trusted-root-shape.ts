/**
 * The shape check of a `trusted_root.json` that needs no Sigstore library: what the config parser runs at start
 * (so a bad root names its config key), and what prepareTrustedRoot runs before handing the root to
 * `@sigstore/verify` (sigstore-bundle.ts), which is loaded only when a rule needs cosign. protobuf-specs
 * `TimeRange`: `start` is required; the library would read a log key without it as valid since the beginning of
 * time (conformance vector `trust-root-tlog-missing-validity-start_fail`).
 */

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuse what the library would read too generously: every log key needs a validity start. */
export function checkTrustedRoot(root: unknown): string | undefined {
  if (!isObj(root)) return 'trusted root is not a JSON object';
  for (const field of ['tlogs', 'ctlogs'] as const) {
    const logs = root[field];
    if (logs === undefined) continue;
    if (!Array.isArray(logs)) return `trusted root ${field} is not an array`;
    for (const l of logs) {
      const vf = isObj(l) && isObj(l.publicKey) ? l.publicKey.validFor : undefined;
      if (!isObj(vf) || typeof vf.start !== 'string') return `trusted root ${field} entry has no publicKey.validFor.start`;
    }
  }
  return undefined;
}
