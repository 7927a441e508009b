/**
 * Making a denial's reason reach `ctr` and kubelet events although containerd resolves tags with a HEAD.
 *
 * A HEAD response has no body, so a 403 on the resolve shows only "403 Forbidden" (DESIGN.md). Instead, a
 * denied HEAD-by-tag answers 200 with the digest of a *denial note*: a manifest-shaped placeholder that names
 * the reason and a per-process random nonce. containerd then GETs that digest, and that GET is answered 403
 * with the reason in the OCI error body, which containerd prints. Fail-closed by construction:
 * - the note's bytes are never served, so no client can ever hold content under its digest;
 * - the nonce makes the digest unpredictable, so no cached image can share it (containerd's HEAD-only re-pull
 *   of cached content finds nothing under the note's digest and must GET it — and is denied);
 * - a GET for a note that has aged out of this table goes the normal way (upstream by digest: unknown, 404).
 * Only HEAD-by-tag is answered this way: a by-digest HEAD must echo the requested digest.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { byCount } from '../registry/cache-budget.ts';
import { digestOf } from '../oci/digest.ts';

export const DENIAL_NOTE_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface DenialNote {
  readonly digest: string;
  readonly size: number;
  readonly message: string;
}

export class DenialNotes {
  readonly #nonce = randomBytes(16).toString('hex');
  readonly #notes = new LRUCache<string, DenialNote>({ ...byCount(10_000), ttl: 10 * 60_000 });

  /** Records a denial and returns the placeholder to answer the HEAD with. */
  note(message: string): DenialNote {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DENIAL_NOTE_MEDIA_TYPE,
        annotations: { 'dev.pullgate.denied': message, 'dev.pullgate.nonce': this.#nonce },
      }),
    );
    const note = { digest: digestOf(bytes).text, size: bytes.length, message };
    this.#notes.set(note.digest, note);
    return note;
  }

  lookup(digest: string): DenialNote | undefined {
    return this.#notes.get(digest);
  }
}
