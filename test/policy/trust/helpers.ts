// Small helpers shared by the trust policy / trust store tests.
import { TrustPolicyError } from '../../../verifiers/notation/trust/errors.ts';

/** The error `fn` throws, or undefined when it returns. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** The TrustPolicyError `fn` throws; anything else thrown (or nothing) is returned as a description. */
export function policyErrorOf(fn: () => unknown): TrustPolicyError | string {
  const err = thrownBy(fn);
  if (err instanceof TrustPolicyError) return err;
  return err === undefined ? 'did not throw' : `threw ${String(err)}`;
}
