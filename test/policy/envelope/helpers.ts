// Small helpers shared by the envelope tests.
import { EnvelopeError } from '../../../verifiers/notation/envelope/index.ts';
import type { EnvelopeErrorCode } from '../../../verifiers/notation/envelope/index.ts';

/** The EnvelopeError code `fn` throws, or 'ok' when it returns; anything else thrown is rethrown. */
export function codeOf(fn: () => unknown): EnvelopeErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof EnvelopeError) return err.code;
    throw err;
  }
}
