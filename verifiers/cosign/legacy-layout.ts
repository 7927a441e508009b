/**
 * cosign's tag layout (cosign `pkg/oci/remote/remote.go` `SignatureTag`): the signatures of `repo@sha256:<hex>` live in
 * the image manifest tagged `sha256-<hex>.sig` in the same repository. Each layer of mediaType
 * `application/vnd.dev.cosign.simplesigning.v1+json` is one signature: the blob is the signed payload, the layer
 * descriptor's annotations carry the rest (cosign `pkg/oci/static/options.go`, `pkg/oci/remote/signatures.go`):
 *   dev.cosignproject.cosign/signature  base64 signature over the blob (required: cosign skips layers without it)
 *   dev.sigstore.cosign/certificate     PEM leaf certificate (keyless)
 *   dev.sigstore.cosign/chain           PEM intermediates + root
 *   dev.sigstore.cosign/bundle          Rekor bundle JSON: {"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex, logID}}
 * Everything is parsed bounded and typed here, so the checks work on values, not on registry JSON.
 */
import type { ArtifactFetcher } from '../../oci/discovery/fetcher.ts';
import { fail } from './errors.ts';
import { MAX_PAYLOAD_BYTES } from './simple-signing.ts';
import { parseRekorBundle, type RekorBundle } from './rekor-set.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const ANN_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANN_CHAIN = 'dev.sigstore.cosign/chain';
export const ANN_BUNDLE = 'dev.sigstore.cosign/bundle';
const MANIFEST_ACCEPT = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'] as const;
export const MAX_SIG_MANIFEST_BYTES = 256 * 1024;
export const MAX_SIGNATURE_LAYERS = 32; // more than any real signer writes; bounds the blob fetches per decision
const MAX_ANNOTATION = 32 * 1024;

export type LegacySignature = {
  readonly payload: Buffer;
  /** Absent when the layer has no signature annotation: cosign reports such a layer as unsigned, so do we. */
  readonly signature: Buffer | undefined;
  readonly certificatePem: string | undefined;
  readonly chainPem: string | undefined;
  readonly rekorBundle: RekorBundle | undefined;
};

/** `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) fail('malformed', `cosign: ${digest} is not a sha256 digest`);
  return `${digest.replace(':', '-')}.sig`;
}

function b64(raw: string, what: string): Buffer {
  // Go's base64 decoder skips CR and LF (encoding/base64 "New line characters (\r and \n) are ignored"), and some
  // signers wrap the annotation at 76 columns (containers-image dir-img-cosign-pki-valid): do the same, nothing more.
  const s = raw.replace(/[\r\n]/g, '');
  if (s.length > MAX_ANNOTATION || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) fail('malformed', `cosign: ${what} is not base64`);
  return Buffer.from(s, 'base64');
}

export type SignatureLayer = { readonly digest: string; readonly size: number; readonly annotations: Readonly<Record<string, string>> };

/** The signature layers of a `.sig` manifest, typed; other layers (attachments) are left out, as cosign does. */
export function parseSignatureManifest(bytes: Buffer): SignatureLayer[] {
  if (bytes.length > MAX_SIG_MANIFEST_BYTES) fail('malformed', 'cosign: signature manifest over its size bound');
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('malformed', 'cosign: signature manifest is not JSON');
  }
  const layers = (doc as { layers?: unknown } | null)?.layers;
  if (layers === undefined) return []; // e.g. Connaisseur's `{}`: a manifest with nothing in it signs nothing
  if (!Array.isArray(layers)) fail('malformed', 'cosign: signature manifest "layers" is not an array');
  const out: SignatureLayer[] = [];
  for (const l of layers as unknown[]) {
    if (typeof l !== 'object' || l === null) fail('malformed', 'cosign: signature manifest layer is not an object');
    const { mediaType, digest, size, annotations } = l as Record<string, unknown>;
    if (mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) fail('malformed', 'cosign: signature layer digest is not sha256');
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_PAYLOAD_BYTES) {
      fail('malformed', `cosign: signature layer size ${String(size)} out of bounds (limit ${MAX_PAYLOAD_BYTES})`);
    }
    const ann: Record<string, string> = {};
    if (annotations !== undefined && annotations !== null) {
      if (typeof annotations !== 'object' || Array.isArray(annotations)) fail('malformed', 'cosign: layer annotations are not an object');
      for (const [k, v] of Object.entries(annotations)) {
        if (typeof v !== 'string' || v.length > MAX_ANNOTATION) fail('malformed', `cosign: annotation ${k} is not a bounded string`);
        ann[k] = v;
      }
    }
    out.push({ digest, size, annotations: ann });
    if (out.length > MAX_SIGNATURE_LAYERS) fail('malformed', `cosign: more than ${MAX_SIGNATURE_LAYERS} signature layers`);
  }
  return out;
}

/** One layer + its blob → a typed signature (the blob was digest-checked by the fetcher). */
export function toLegacySignature(layer: SignatureLayer, payload: Buffer): LegacySignature {
  const a = layer.annotations;
  const sig = a[ANN_SIGNATURE];
  return {
    payload,
    signature: sig === undefined || sig === '' ? undefined : b64(sig, 'signature annotation'),
    certificatePem: a[ANN_CERTIFICATE] || undefined,
    chainPem: a[ANN_CHAIN] || undefined,
    rekorBundle: a[ANN_BUNDLE] === undefined ? undefined : parseRekorBundle(a[ANN_BUNDLE]),
  };
}

/** Fetch the `.sig` manifest and its signature blobs. `found: false` = no signature tag at all. */
export async function fetchLegacySignatures(
  fetcher: ArtifactFetcher, repository: string, digest: string, signal?: AbortSignal,
): Promise<{ readonly found: false } | { readonly found: true; readonly signatures: LegacySignature[] }> {
  const m = await fetcher.manifest(repository, signatureTag(digest), MANIFEST_ACCEPT, MAX_SIG_MANIFEST_BYTES, signal);
  if (!m.found) return { found: false };
  const signatures: LegacySignature[] = [];
  for (const layer of parseSignatureManifest(m.bytes)) {
    const blob = await fetcher.blob(repository, layer.digest, MAX_PAYLOAD_BYTES, signal);
    signatures.push(toLegacySignature(layer, blob));
  }
  return { found: true, signatures };
}
