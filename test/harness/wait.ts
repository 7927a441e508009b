// Waiting for a condition instead of sleeping a fixed time and hoping: a test waits exactly as long as the
// thing it waits for takes (fast on an idle machine) and fails with its own message when the deadline passes
// (instead of asserting on a state that a busy CI machine had not reached yet).
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition` (sync or async) until it is true or `timeoutMs` has passed; true when it held. A condition
 * that throws counts as not yet true. Polls every 10 ms at first, backing off to every 100 ms.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    if (await Promise.resolve().then(condition).catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
