/**
 * One signature of the target: its signature manifest, checked, and its envelope blob. signature-specification.md
 * § "OCI Signatures" / § "Storage": an image manifest that is a Notary Project signature — image-spec 1.1 form
 * (`artifactType: application/vnd.cncf.notary.signature`, normally with the empty config) or the legacy 1.0 form
 * (no artifactType, `config.mediaType` = the signature type) — whose `subject` is the signed manifest and which
 * has exactly one layer, the envelope, of type `application/jose+json` or `application/cose` (notation-go
 * `FetchSignatureBlob`: one blob, ≤ 32 MiB).
 *
 * A manifest that breaks these rules is reported as `invalid` so the verifier records it as that signature's
 * integrity failure and moves on to the next: a stray or hostile referrer never hides a valid signature, and
 * never counts as one either.
 */
import type { ImageTarget } from '../../../policy/decision.ts';
import { parseDigest } from '../../../oci/digest.ts';
import { MEDIA_TYPE_COSE, MEDIA_TYPE_JWS, type EnvelopeMediaType } from '../envelope/types.ts';
import type { DiscoveryLimits } from './discover.ts';
import { FetchError, type ArtifactFetcher, type FetchErrorCode } from '../../../oci/discovery/fetcher.ts';
import { OCI_MANIFEST, SIGNATURE_ARTIFACT_TYPE, type SignatureDescriptor } from '../../../oci/discovery/referrers-index.ts';

export type SignatureForm = 'artifactType' | 'legacy';

export interface FetchedSignature {
  readonly ok: true;
  /** Digest of the signature manifest. */
  readonly manifest: string;
  readonly form: SignatureForm;
  readonly envelopeMediaType: EnvelopeMediaType;
  readonly envelope: Buffer;
  readonly annotations: Readonly<Record<string, string>>;
}

export type SignatureFetchFailure =
  | { readonly ok: false; readonly kind: 'invalid' | 'limit'; readonly manifest: string; readonly envelopeMediaType?: string; readonly message: string }
  | { readonly ok: false; readonly kind: 'fetch'; readonly manifest: string; readonly code: FetchErrorCode; readonly message: string };

export type SignatureFetch = FetchedSignature | SignatureFetchFailure;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringAnnotations(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Fetches and checks the signature manifest `desc` of `target`, then its envelope blob. Never throws. */
export async function fetchSignature(fetcher: ArtifactFetcher, target: ImageTarget, desc: SignatureDescriptor, limits: DiscoveryLimits): Promise<SignatureFetch> {
  const manifest = desc.digest;
  const invalid = (message: string, envelopeMediaType?: string): SignatureFetchFailure =>
    envelopeMediaType === undefined ? { ok: false, kind: 'invalid', manifest, message } : { ok: false, kind: 'invalid', manifest, envelopeMediaType, message };
  const limit = (message: string): SignatureFetchFailure => ({ ok: false, kind: 'limit', manifest, message });
  try {
    if (desc.size > limits.maxManifestBytes) return limit(`signature manifest ${manifest} is ${desc.size} bytes, more than ${limits.maxManifestBytes}`);
    const found = await fetcher.manifest(target.repository, manifest, [OCI_MANIFEST], limits.maxManifestBytes);
    if (!found.found) return invalid(`signature manifest ${manifest} is listed as a referrer but does not exist`);
    let doc: unknown;
    try {
      doc = JSON.parse(found.bytes.toString('utf8'));
    } catch {
      return invalid(`signature manifest ${manifest} is not JSON`);
    }
    if (!isObject(doc) || doc['schemaVersion'] !== 2) return invalid(`signature manifest ${manifest} is not an OCI image manifest`);
    if (doc['mediaType'] !== undefined && doc['mediaType'] !== OCI_MANIFEST) return invalid(`signature manifest ${manifest} has media type ${JSON.stringify(doc['mediaType'])}`);

    const config = isObject(doc['config']) ? doc['config'] : {};
    let form: SignatureForm;
    if (doc['artifactType'] === SIGNATURE_ARTIFACT_TYPE) form = 'artifactType';
    else if (doc['artifactType'] === undefined && config['mediaType'] === SIGNATURE_ARTIFACT_TYPE) form = 'legacy';
    else return invalid(`manifest ${manifest} is not a Notary Project signature (artifactType ${JSON.stringify(doc['artifactType'] ?? null)}, config ${JSON.stringify(config['mediaType'] ?? null)})`);

    // The subject binds the signature manifest to the target; a manifest listed for another image is not ours.
    const subject = isObject(doc['subject']) ? doc['subject']['digest'] : undefined;
    if (subject !== target.digest.text) return invalid(`signature manifest ${manifest} has subject ${typeof subject === 'string' ? subject : '(none)'}, not ${target.digest.text}`);

    const layers = Array.isArray(doc['layers']) ? doc['layers'] : [];
    if (layers.length !== 1) return invalid(`signature manifest ${manifest} must have exactly one signature envelope layer, it has ${layers.length}`);
    const layer: unknown = layers[0];
    if (!isObject(layer)) return invalid(`signature manifest ${manifest} has a malformed layer`);
    const { mediaType, digest, size } = layer;
    if (mediaType !== MEDIA_TYPE_JWS && mediaType !== MEDIA_TYPE_COSE) {
      return invalid(`signature manifest ${manifest} has a layer of type ${JSON.stringify(mediaType)}, not a signature envelope (${MEDIA_TYPE_JWS} or ${MEDIA_TYPE_COSE})`, typeof mediaType === 'string' ? mediaType : undefined);
    }
    if (typeof digest !== 'string' || !parseDigest(digest).ok) return invalid(`signature manifest ${manifest} has an envelope layer without a valid digest`, mediaType);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return invalid(`signature manifest ${manifest} has an envelope layer without a valid size`, mediaType);
    if (size > limits.maxEnvelopeBytes) return limit(`signature envelope ${digest} is ${size} bytes, more than ${limits.maxEnvelopeBytes}`);
    const envelope = await fetcher.blob(target.repository, digest, size);
    if (envelope.byteLength !== size) return invalid(`signature envelope ${digest} is ${envelope.byteLength} bytes, the manifest says ${size}`, mediaType);
    return { ok: true, manifest, form, envelopeMediaType: mediaType, envelope, annotations: stringAnnotations(doc['annotations']) };
  } catch (err) {
    if (err instanceof FetchError) return { ok: false, kind: 'fetch', manifest, code: err.code, message: err.message };
    return { ok: false, kind: 'fetch', manifest, code: 'INVALID_RESPONSE', message: `fetching signature ${manifest} failed (${err instanceof Error ? err.message : String(err)})` };
  }
}
