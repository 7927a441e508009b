/**
 * Notation signature payload: `{"targetArtifact": <OCI descriptor>}`.
 *
 * signature-specification.md § "Payload": the descriptor MUST contain
 * mediaType, digest and size, MAY contain annotations (string → string,
 * image-spec annotations.md) and artifactType. Field rules follow image-spec
 * descriptor.md: media types per RFC 6838 § 4.2, digest grammar
 * `algorithm ":" encoded`, registered sha256/sha512 encodings are lower-case
 * hex of fixed length; size is a non-negative integer. Other descriptor
 * fields and other top-level members are ignored (as notation-go does).
 * Parse only after the signature has been verified (§ "Signed Attributes").
 */
import { EnvelopeError } from './errors.ts';
import { isJsonObject, own, parseJsonBytes } from './json.ts';
import { LIMITS } from './limits.ts';
import type { TargetArtifact } from './types.ts';

const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const REGISTERED_DIGESTS = new Map<string, RegExp>([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);

function bad(message: string): never {
  throw new EnvelopeError('MALFORMED_PAYLOAD', message);
}

function mediaType(value: unknown, field: string): string {
  if (typeof value !== 'string' || !MEDIA_TYPE_RE.test(value)) bad(`targetArtifact.${field} must be an RFC 6838 media type`);
  return value;
}

function digest(value: unknown): string {
  if (typeof value !== 'string' || !DIGEST_RE.test(value)) bad('targetArtifact.digest must be "<algorithm>:<encoded>"');
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const encoded = REGISTERED_DIGESTS.get(algorithm);
  if (encoded !== undefined && !encoded.test(value.slice(colon + 1)))
    bad(`targetArtifact.digest has an invalid ${algorithm} encoding`);
  return value;
}

function annotations(value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) bad('targetArtifact.annotations must be an object');
  const entries = Object.entries(value);
  if (entries.length > LIMITS.maxAnnotations) {
    throw new EnvelopeError('LIMIT_EXCEEDED', `targetArtifact has more than ${LIMITS.maxAnnotations} annotations`);
  }
  for (const [key, v] of entries) {
    if (typeof v !== 'string') bad(`annotation ${JSON.stringify(key)} must be a string`);
  }
  return Object.freeze(Object.fromEntries(entries) as Record<string, string>);
}

export function parseTargetArtifact(content: Uint8Array): TargetArtifact {
  let doc: unknown;
  try {
    doc = parseJsonBytes(content, 'signature payload');
  } catch (err) {
    if (err instanceof EnvelopeError && err.code === 'MALFORMED') bad(err.message);
    throw err;
  }
  if (!isJsonObject(doc)) bad('signature payload must be a JSON object');
  const target = own(doc, 'targetArtifact');
  if (!isJsonObject(target)) bad('signature payload has no "targetArtifact" descriptor object');
  const size = own(target, 'size');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    bad('targetArtifact.size must be a non-negative integer');
  const result: { -readonly [K in keyof TargetArtifact]: TargetArtifact[K] } = {
    mediaType: mediaType(own(target, 'mediaType'), 'mediaType'),
    digest: digest(own(target, 'digest')),
    size,
  };
  const artifactType = own(target, 'artifactType');
  if (artifactType !== undefined) result.artifactType = mediaType(artifactType, 'artifactType');
  const notes = annotations(own(target, 'annotations'));
  if (notes !== undefined) result.annotations = notes;
  return result;
}
