/**
 * Signs an image already in a registry the way `notation sign` does, for cases the real vectors lack (a
 * runnable image CRI can unpack, a signed multi-arch index, a moved tag): a JWS envelope over the subject's
 * descriptor, a Notary Project signature manifest (legacy form, as the vectors use) whose `subject` is the
 * image, and the `sha256-<hex>` referrers tag index distribution 2.8 needs in place of the referrers API.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signJws, targetPayload } from '../policy/envelope/make-signed.ts';
import { getManifest, pushBlob, putManifest, sha256Digest, MEDIA } from '../harness/images.ts';
import { VECTORS } from './pullgate-process.ts';

export interface Signer {
  readonly key: KeyObject;
  readonly chain: Buffer[];
}

const KEYS = join(VECTORS, 'notation/test/e2e/testdata/config/localkeys');
const SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';
const EMPTY = Buffer.from('{}');

/** The notation e2e signing key and its self-signed certificate (CN=e2e), as `notation sign` used them. */
export function e2eSigner(): Signer {
  return {
    key: createPrivateKey(readFileSync(join(KEYS, 'e2e.key'))),
    chain: [Buffer.from(new X509Certificate(readFileSync(join(KEYS, 'e2e.crt'))).raw)],
  };
}

export interface Subject {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

/** Pushes a signature for `subject` into `repo`; returns the signature manifest's digest. */
export async function signInRegistry(registryUrl: string, repo: string, subject: Subject, signer: Signer): Promise<string> {
  const envelope = signJws(targetPayload(subject), signer.key, signer.chain);
  const envelopeDigest = await pushBlob(registryUrl, repo, envelope);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: SIGNATURE_TYPE, digest: await pushBlob(registryUrl, repo, EMPTY), size: 2 },
    layers: [{ mediaType: 'application/jose+json', digest: envelopeDigest, size: envelope.length }],
    subject,
    annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '[]' },
  }));
  const digest = await putManifest(registryUrl, repo, sha256Digest(manifest), manifest, MEDIA.manifest);
  await addToReferrersTag(registryUrl, repo, subject.digest, { mediaType: MEDIA.manifest, digest, size: manifest.length, artifactType: SIGNATURE_TYPE });
  return digest;
}

/** Appends a descriptor to the subject's `sha256-<hex>` tag index (OCI distribution-spec § Referrers Tag Schema). */
export async function addToReferrersTag(registryUrl: string, repo: string, subjectDigest: string, descriptor: object): Promise<void> {
  const tag = subjectDigest.replace(':', '-');
  const existing = await getManifest(registryUrl, repo, tag);
  const manifests = existing.status === 200 ? (JSON.parse(existing.bytes.toString()) as { manifests: object[] }).manifests : [];
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [...manifests, descriptor] }));
  await putManifest(registryUrl, repo, tag, index, MEDIA.index);
}
