/**
 * cosign's legacy signature layout, written the way cosign writes it (REAL-PEERS.md § 8: no cosign binary exists
 * here, so the test signs): the simple-signing payload (sigstore `pkg/signature/payload`) signed with an ECDSA
 * P-256 key (ASN.1 DER signature over SHA-256, base64 in the layer annotation `dev.cosignproject.cosign/signature`),
 * stored as an OCI manifest tagged `sha256-<hex>.sig` whose layers are the payload blobs. One manifest may carry
 * several signature layers (cosign appends): `signCosign` replaces the tag with the given layers.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { MEDIA, pushBlob, putManifest } from '../harness/images.ts';
import { addToReferrersTag } from './sign-and-push.ts';

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';

export interface CosignKey {
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

export function cosignKey(): CosignKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** cosign's payload for `dockerReference` (`registry/repo`, as `cosign sign` writes it) and the image digest. */
export function simpleSigningPayload(dockerReference: string, digest: string): Buffer {
  return Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));
}

export interface SignatureLayer {
  readonly payload: Buffer;
  readonly signature: Buffer;
  /** Extra layer annotations (keyless: certificate, chain, Rekor bundle). */
  readonly annotations?: Record<string, string>;
}

export function signPayload(key: CosignKey, payload: Buffer): SignatureLayer {
  return { payload, signature: sign('sha256', payload, key.privateKey) };
}

/** Pushes the layers as the `sha256-<hex>.sig` manifest for `imageDigest` in `repo`. */
export async function pushCosignSignatures(registryUrl: string, repo: string, imageDigest: string, layers: readonly SignatureLayer[]): Promise<void> {
  const config = Buffer.from('{}');
  const configDigest = await pushBlob(registryUrl, repo, config);
  const described = [];
  for (const l of layers) {
    described.push({ mediaType: SIMPLE_SIGNING, digest: await pushBlob(registryUrl, repo, l.payload), size: l.payload.length, annotations: { 'dev.cosignproject.cosign/signature': l.signature.toString('base64'), ...l.annotations } });
  }
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: described }));
  await putManifest(registryUrl, repo, `${imageDigest.replace(':', '-')}.sig`, manifest, MEDIA.manifest);
}

/** `cosign sign --key`: one signature by `key` over the image's own payload. */
export async function signCosign(registryUrl: string, host: string, repo: string, imageDigest: string, key: CosignKey): Promise<void> {
  await pushCosignSignatures(registryUrl, repo, imageDigest, [signPayload(key, simpleSigningPayload(`${host}/${repo}`, imageDigest))]);
}

export const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * `cosign sign --new-bundle-format --key`: a Sigstore v0.3 bundle (DSSE over an in-toto statement whose subject is
 * the image digest, predicateType `https://sigstore.dev/cosign/sign/v1`) attached as a referrer of the image. On a
 * registry without the referrers API (distribution 2.8) it is listed in the `sha256-<hex>` tag index, as cosign does.
 * `statementDigest` lets a test sign a statement about another image.
 */
export async function pushKeyBundle(registryUrl: string, repo: string, image: { digest: string; size: number }, key: CosignKey, statementDigest = image.digest): Promise<void> {
  const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: repo, digest: { sha256: statementDigest.slice('sha256:'.length) } }], predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {} }));
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${statement.length} `), statement]);
  const bundle = Buffer.from(JSON.stringify({
    mediaType: BUNDLE_TYPE,
    verificationMaterial: { publicKey: { hint: createHash('sha256').update(key.publicPem).digest('base64') }, tlogEntries: [] },
    dsseEnvelope: { payload: statement.toString('base64'), payloadType: type, signatures: [{ sig: sign('sha256', pae, key.privateKey).toString('base64'), keyid: '' }] },
  }));
  await pushBundleReferrer(registryUrl, repo, image, bundle);
}

/** A Sigstore bundle attached as a referrer of `image`: the manifest cosign writes, listed in the `sha256-<hex>` tag index. */
export async function pushBundleReferrer(registryUrl: string, repo: string, image: { digest: string; size: number }, bundle: Buffer): Promise<void> {
  const empty = Buffer.from('{}');
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MEDIA.manifest, artifactType: BUNDLE_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: await pushBlob(registryUrl, repo, empty), size: empty.length },
    layers: [{ mediaType: BUNDLE_TYPE, digest: await pushBlob(registryUrl, repo, bundle), size: bundle.length }],
    subject: { mediaType: MEDIA.manifest, digest: image.digest, size: image.size },
  }));
  const digest = await putManifest(registryUrl, repo, `sha256:${sha256Hex(manifest)}`, manifest, MEDIA.manifest);
  await addToReferrersTag(registryUrl, repo, image.digest, { mediaType: MEDIA.manifest, digest, size: manifest.length, artifactType: BUNDLE_TYPE });
}
