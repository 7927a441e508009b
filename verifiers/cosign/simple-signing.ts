/**
 * The simple-signing payload cosign signs (sigstore/sigstore `pkg/signature/payload/payload.go`, the "Red Hat simple
 * signing" format): `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
 * "type":"cosign container image signature"},"optional":{…}|null}`.
 *
 * cosign's own checks (cosign `pkg/cosign/verify.go`, `SimpleClaimVerifier`): the payload must decode, its type must
 * be cosign's (sigstore's unmarshal refuses any other type), and D must equal the digest being verified; the
 * `optional` annotations must contain the ones the caller requires. cosign does NOT check R by default; containers/image
 * does (`signedIdentity` matchRepository / matchExact), so the rule chooses.
 */
import { fail } from './errors.ts';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const MAX_PAYLOAD_BYTES = 64 * 1024; // cosign payloads are a few hundred bytes; optional claims stay small

/** How `critical.identity.docker-reference` is matched against the pulled reference. */
export type ReferenceMatch =
  | 'ignore' // cosign's default
  | 'repository' // containers/image matchRepository: same registry/repository, any tag
  | 'exact'; // containers/image matchExact: same repository and tag

export type SimpleSigningPayload = {
  readonly dockerReference: string;
  readonly manifestDigest: string;
  readonly optional: Readonly<Record<string, unknown>>;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse bounded and typed; a payload of another type is `wrong_payload_type`, anything unreadable `malformed`. */
export function parseSimpleSigning(bytes: Buffer): SimpleSigningPayload {
  if (bytes.length > MAX_PAYLOAD_BYTES) fail('malformed', `cosign: signature payload is ${bytes.length} bytes (limit ${MAX_PAYLOAD_BYTES})`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('malformed', 'cosign: signature payload is not JSON');
  }
  if (!isObject(doc) || !isObject(doc.critical)) fail('malformed', 'cosign: signature payload has no "critical" object');
  const critical = doc.critical;
  if (critical.type !== COSIGN_SIGNATURE_TYPE) {
    fail('wrong_payload_type', `cosign: payload type ${JSON.stringify(String(critical.type)).slice(0, 80)} is not "${COSIGN_SIGNATURE_TYPE}"`);
  }
  const image = critical.image;
  const identity = critical.identity;
  const digest = isObject(image) ? image['docker-manifest-digest'] : undefined;
  if (typeof digest !== 'string' || !/^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/.test(digest)) {
    fail('malformed', 'cosign: payload has no valid critical.image.docker-manifest-digest');
  }
  const ref = isObject(identity) ? identity['docker-reference'] : undefined;
  if (ref !== undefined && typeof ref !== 'string') fail('malformed', 'cosign: payload docker-reference is not a string');
  const optional = doc.optional === undefined || doc.optional === null ? {} : doc.optional;
  if (!isObject(optional)) fail('malformed', 'cosign: payload "optional" is not an object');
  return { dockerReference: ref ?? '', manifestDigest: digest, optional };
}

/** Split `host/repo[:tag][@digest]` into the repository and the tag (a ':' after the last '/' starts the tag). */
export function splitReference(ref: string): { readonly repository: string; readonly tag: string | undefined } {
  const at = ref.indexOf('@');
  const named = at >= 0 ? ref.slice(0, at) : ref;
  const colon = named.lastIndexOf(':');
  if (colon > named.lastIndexOf('/')) return { repository: named.slice(0, colon), tag: named.slice(colon + 1) };
  return { repository: named, tag: undefined };
}

export type PayloadExpectation = {
  readonly digest: string;
  /** The reference being pulled, `registry/repository[:tag]` (no scheme). Needed unless `match` is 'ignore'. */
  readonly reference?: string;
  readonly match: ReferenceMatch;
  /** Annotations the payload's `optional` map must carry with exactly these string values (cosign `-a k=v`). */
  readonly annotations?: Readonly<Record<string, string>>;
};

export function checkPayload(p: SimpleSigningPayload, want: PayloadExpectation): void {
  if (p.manifestDigest !== want.digest) {
    fail('payload_digest_mismatch', `cosign: signature is for ${p.manifestDigest}, not ${want.digest}`);
  }
  if (want.match !== 'ignore') {
    const got = splitReference(p.dockerReference);
    const exp = splitReference(want.reference ?? '');
    const same = got.repository === exp.repository && (want.match === 'repository' || got.tag === exp.tag);
    if (!same || exp.repository === '') {
      fail('identity_mismatch', `cosign: signature names ${JSON.stringify(p.dockerReference)}, not ${JSON.stringify(want.reference ?? '')} (${want.match} match)`);
    }
  }
  for (const [k, v] of Object.entries(want.annotations ?? {})) {
    if (p.optional[k] !== v) fail('identity_mismatch', `cosign: payload annotation ${JSON.stringify(k)} is not ${JSON.stringify(v)}`);
  }
}
