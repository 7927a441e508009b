/**
 * Reading and discarding undici response bodies safely. A destroyed BodyReadable emits an `error` event
 * (RequestAbortedError) that would crash the process if nobody listened, so bodies are only ever discarded here.
 */
import type { Dispatcher } from 'undici';

type Body = Dispatcher.ResponseData['body'];

/** Drops a body we do not want (too large, error status): the connection is closed, no error escapes. */
export function discard(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}

/** Reads a body up to `max` bytes; undefined (and the body discarded) when it is longer. */
export async function readCapped(body: Body, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > max) {
      discard(body);
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
