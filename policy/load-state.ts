/**
 * Builds the PolicyEngine's state from a notation config directory. A missing trust policy is not fatal (the
 * gate runs and denies everything, and /readyz says why); an invalid one is, because the operator wrote it and
 * must hear about the mistake at start rather than find every pull denied.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PolicyState } from './engine.ts';
import { parseTrustPolicyDocument, statementFor } from './trust/trust-policy.ts';
import { TrustPolicyError } from './trust/errors.ts';

/** notation ≥ 1.2 reads `trustpolicy.oci.json` first and falls back to the older `trustpolicy.json`. */
const POLICY_FILES = ['trustpolicy.oci.json', 'trustpolicy.json'];

export async function loadPolicyState(configDir: string): Promise<PolicyState> {
  for (const name of POLICY_FILES) {
    const file = path.join(configDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TrustPolicyError('POLICY_MALFORMED', `malformed trust policy: ${(err as Error).message}`, { source: file });
    }
    const doc = parseTrustPolicyDocument(json, file);
    return {
      loaded: true,
      policy: {
        statementFor(scope) {
          const s = statementFor(doc, scope);
          return s === undefined ? undefined : { name: s.name, level: s.signatureVerification.level };
        },
      },
      verifier: undefined,
    };
  }
  return { loaded: false, problem: `no ${POLICY_FILES.join(' or ')} in ${configDir}` };
}
