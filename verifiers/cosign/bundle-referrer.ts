/**
 * Sigstore bundles attached to an image as OCI referrers (cosign `specs/BUNDLE_SPEC.md`): a manifest with
 * `artifactType: application/vnd.dev.sigstore.bundle.v0.3+json` whose single layer is the bundle JSON
 * (protobuf-specs `sigstore_bundle.proto`, JSON form). `cosign sign --new-bundle-format` writes a DSSE envelope over an
 * in-toto Statement whose subject is the image digest and whose predicateType is `https://sigstore.dev/cosign/sign/v1`
 * (cosign `cmd/cosign/cli/sign/sign.go` `signDigestBundle`). This file turns such a bundle into a CandidateSignature
 * for the key-based checks; certificate (keyless) bundles are recognised and reported, not verified here.
 */
import type { ArtifactFetcher } from '../../oci/discovery/fetcher.ts';
import { fail } from './errors.ts';
import type { CandidateSignature } from './key-verification.ts';
import type { RekorBundle } from './rekor-set.ts';

export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_MEDIA_TYPES = new Set([
  BUNDLE_ARTIFACT_TYPE, 'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2', 'application/vnd.dev.sigstore.bundle+json;version=0.1',
]);
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);
export const MAX_BUNDLE_BYTES = 64 * 1024; // public-good bundles are 4–10 KiB
const MAX_BUNDLES = 16;
const MANIFEST_ACCEPT = ['application/vnd.oci.image.manifest.v1+json'] as const;
const MAX_MANIFEST = 64 * 1024;
const INDEX_ACCEPT = ['application/vnd.oci.image.index.v1+json'] as const;
const MAX_INDEX = 256 * 1024;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isB64 = (s: unknown): s is string => typeof s === 'string' && s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

/** DSSE pre-authentication encoding (secure-systems-lab/dsse `protocol.md`): what a DSSE signature covers. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

function tlogSet(entries: unknown): RekorBundle | undefined {
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const e = entries[0];
  if (!isObj(e) || !isObj(e.inclusionPromise) || !isB64(e.inclusionPromise.signedEntryTimestamp)) return undefined;
  const { logIndex, integratedTime, logId, canonicalizedBody } = e;
  const keyId = isObj(logId) ? logId.keyId : undefined;
  // protobuf JSON writes int64 as decimal strings
  const int = (v: unknown): number => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : typeof v === 'number' && Number.isSafeInteger(v) ? v : NaN);
  if (!isB64(canonicalizedBody) || !isB64(keyId) || Number.isNaN(int(logIndex)) || Number.isNaN(int(integratedTime))) {
    fail('set_invalid', 'cosign: bundle tlog entry has the wrong shape');
  }
  return {
    set: Buffer.from(e.inclusionPromise.signedEntryTimestamp, 'base64'), body: canonicalizedBody,
    integratedTime: int(integratedTime), logIndex: int(logIndex), logID: Buffer.from(keyId, 'base64').toString('hex'),
  };
}

function checkStatement(payload: Buffer, digest: string): void {
  let st: unknown;
  try {
    st = JSON.parse(payload.toString('utf8'));
  } catch {
    fail('malformed', 'cosign: DSSE payload is not JSON');
  }
  if (!isObj(st) || !STATEMENT_TYPES.has(st._type as string)) fail('wrong_payload_type', 'cosign: DSSE payload is not an in-toto Statement');
  if (st.predicateType !== COSIGN_SIGN_PREDICATE) {
    fail('wrong_payload_type', `cosign: predicateType ${JSON.stringify(String(st.predicateType)).slice(0, 80)} is not ${COSIGN_SIGN_PREDICATE}`);
  }
  const [alg, hex] = digest.split(':');
  const subjects = Array.isArray(st.subject) ? st.subject.slice(0, 64) : [];
  if (!subjects.some((s) => isObj(s) && isObj(s.digest) && s.digest[alg as string] === hex)) {
    fail('payload_digest_mismatch', `cosign: DSSE statement's subject is not ${digest}`);
  }
}

/** One parsed bundle → a candidate for the key-based checks (throws CosignError for what cannot be judged). */
export function bundleCandidate(doc: unknown, digest: string): CandidateSignature {
  if (!isObj(doc) || !BUNDLE_MEDIA_TYPES.has(doc.mediaType as string) || !isObj(doc.verificationMaterial)) {
    fail('malformed', 'cosign: not a Sigstore bundle');
  }
  const vm = doc.verificationMaterial;
  if (!isObj(vm.publicKey)) fail('keyless_unsupported', 'cosign: certificate (keyless) bundle: not verified by a key rule');
  const rekorBundle = tlogSet(vm.tlogEntries);
  const env = doc.dsseEnvelope;
  if (isObj(env)) {
    const sigs = env.signatures;
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail('wrong_payload_type', `cosign: DSSE payloadType ${String(env.payloadType).slice(0, 60)} is not in-toto`);
    if (!isB64(env.payload) || !Array.isArray(sigs) || sigs.length !== 1 || !isObj(sigs[0]) || !isB64(sigs[0].sig)) {
      // Sigstore bundles carry exactly one signature (protobuf-specs `sigstore_bundle.proto`)
      fail('malformed', 'cosign: DSSE envelope needs a base64 payload and exactly one signature');
    }
    const payload = Buffer.from(env.payload, 'base64');
    return {
      signedBytes: pae(IN_TOTO_PAYLOAD_TYPE, payload), signature: Buffer.from(sigs[0].sig, 'base64'), rekorBundle,
      loggedBytes: payload, checkClaims: () => checkStatement(payload, digest),
    };
  }
  // A message signature signs an artifact the bundle does not carry; for an image cosign never writes one.
  fail('wrong_payload_type', 'cosign: message-signature bundle: an image signature is a DSSE in-toto statement');
}

/** For a keyless (certificate) bundle: what it signs, and the OCI claims to check once the bundle verified. */
export function bundleCandidateClaims(doc: unknown, digest: string): { readonly artifact: Buffer; readonly checkClaims: () => void } {
  const env = isObj(doc) ? doc.dsseEnvelope : undefined;
  if (!isObj(env) || !isB64(env.payload)) fail('wrong_payload_type', 'cosign: an image signature bundle is a DSSE in-toto statement');
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail('wrong_payload_type', `cosign: DSSE payloadType ${String(env.payloadType).slice(0, 60)} is not in-toto`);
  const payload = Buffer.from(env.payload, 'base64');
  return { artifact: payload, checkClaims: () => checkStatement(payload, digest) };
}

/** The descriptors an OCI image index lists (a referrers API page, or the referrers tag schema's index). */
function indexedManifests(bytes: Buffer): unknown[] {
  let index: unknown;
  try {
    index = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('malformed', 'cosign: referrers index is not JSON');
  }
  return isObj(index) && Array.isArray(index.manifests) ? index.manifests : [];
}

/**
 * The bundles attached to `digest`: the referrers API, or — on a registry without it, such as distribution 2.8 —
 * the referrers tag schema (OCI distribution-spec 1.1 § "Referrers Tag Schema": an index tagged `sha256-<hex>`),
 * which is where cosign (go-containerregistry `remote.Referrers`) writes and reads them then.
 */
export async function fetchBundles(fetcher: ArtifactFetcher, repository: string, digest: string, signal?: AbortSignal): Promise<unknown[]> {
  const out: unknown[] = [];
  let next: string | undefined;
  for (let page = 0; page < 4; page++) {
    const r = await fetcher.referrers(repository, digest, BUNDLE_ARTIFACT_TYPE, next, signal);
    if (!r.supported) {
      const tagged = await fetcher.manifest(repository, digest.replace(':', '-'), INDEX_ACCEPT, MAX_INDEX, signal);
      if (tagged.found) await collect(fetcher, repository, indexedManifests(tagged.bytes), out, signal);
      return out;
    }
    if (await collect(fetcher, repository, indexedManifests(r.bytes), out, signal)) return out;
    next = r.next;
    if (next === undefined) return out;
  }
  return out;
}

/** Fetches the bundles among `manifests` into `out`; true when the bound on bundles is reached. */
async function collect(fetcher: ArtifactFetcher, repository: string, manifests: readonly unknown[], out: unknown[], signal?: AbortSignal): Promise<boolean> {
  for (const d of manifests) {
    if (!isObj(d) || d.artifactType !== BUNDLE_ARTIFACT_TYPE || typeof d.digest !== 'string') continue;
    if (out.length >= MAX_BUNDLES) return true;
    const m = await fetcher.manifest(repository, d.digest, MANIFEST_ACCEPT, MAX_MANIFEST, signal);
    if (!m.found) continue;
    let layers: unknown;
    try {
      layers = (JSON.parse(m.bytes.toString('utf8')) as { layers?: unknown }).layers;
    } catch {
      fail('malformed', 'cosign: bundle manifest is not JSON');
    }
    const l = Array.isArray(layers) ? layers[0] : undefined;
    if (!isObj(l) || !BUNDLE_MEDIA_TYPES.has(l.mediaType as string) || typeof l.digest !== 'string') continue;
    const blob = await fetcher.blob(repository, l.digest, MAX_BUNDLE_BYTES, signal);
    try {
      out.push(JSON.parse(blob.toString('utf8')));
    } catch {
      fail('malformed', 'cosign: bundle is not JSON');
    }
  }
  return false;
}
