/**
 * Builds the PolicyEngine's state from a notation config directory. A missing trust policy is not fatal (the
 * gate runs and denies everything, and /readyz says why); an invalid one is, because the operator wrote it and
 * must hear about the mistake at start rather than find every pull denied.
 */
import type { PolicyState } from './engine.ts';

export async function loadPolicyState(configDir: string): Promise<PolicyState> {
  return { loaded: false, problem: `trust policy loader pending (${configDir})` };
}
