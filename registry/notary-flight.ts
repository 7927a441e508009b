/**
 * One request per key at a time (single flight), shared by every caller that asks while it runs, each of which may
 * give up on its own signal. The shared request is aborted only when every caller waiting on it has given up: one
 * impatient decision must not fail the others, and a request nobody waits for any more should not run on.
 */
import { NotaryServerError } from './notary-errors.ts';

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
}

export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** Runs `start(signal)` unless a run for `key` is under way, and waits for it (or for `signal`). */
  join(key: string, signal: AbortSignal | undefined, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(aborted());
    let flight = this.#flights.get(key);
    if (flight === undefined) {
      const controller = new AbortController();
      const promise = start(controller.signal).finally(() => this.#forget(key, created));
      // Settled by whoever waits; when every waiter left, nobody does, and the rejection is expected.
      promise.catch(() => {});
      const created: Flight<T> = { promise, controller, waiters: 0 };
      flight = created;
      this.#flights.set(key, created);
    }
    const f = flight;
    f.waiters++;
    if (signal === undefined) return f.promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        f.waiters--;
        if (f.waiters === 0) {
          // A caller arriving after this must start afresh, not join a request that is being torn down.
          this.#forget(key, f);
          f.controller.abort();
        }
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
        (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
      );
    });
  }

  /** Aborts every run under way (client close). */
  abortAll(): void {
    for (const [key, f] of this.#flights) {
      this.#forget(key, f);
      f.controller.abort();
    }
  }

  get size(): number {
    return this.#flights.size;
  }

  #forget(key: string, f: Flight<T>): void {
    if (this.#flights.get(key) === f) this.#flights.delete(key);
  }
}

function aborted(): NotaryServerError {
  return new NotaryServerError('aborted', 'trust-server request aborted by the caller');
}
