/**
 * Build a `trusted_root.json` (protobuf-specs `sigstore_trustroot.proto`, JSON form) from loose PEMs, the way
 * Connaisseur and containers/image configure a private Sigstore (`fulcioCert`, `rekorPubkey`, `ctLogPubkey`).
 * Log IDs are the sha256 of the key's DER SPKI (RFC 6962 § 3.2 for CT; Rekor does the same). Every key gets an
 * explicit validity start, since sigstore-bundle.ts refuses a log key without one.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';

export type LoosePems = {
  readonly fulcioCerts: readonly string[]; // CA chain, root last or first: each PEM may hold several
  readonly rekorKeys: readonly string[];
  readonly ctLogKeys: readonly string[];
  /** Validity start of the logs and CAs (default 1970: the PEMs carry no dates of their own). */
  readonly validFrom?: string;
};

function keyDetails(pem: string): { rawBytes: string; keyDetails: string; keyId: string } {
  const k = createPublicKey(pem);
  const der = k.export({ type: 'spki', format: 'der' });
  const curve = k.asymmetricKeyDetails?.namedCurve;
  const details = k.asymmetricKeyType === 'ed25519' ? 'PKIX_ED25519'
    : curve === 'secp384r1' ? 'PKIX_ECDSA_P384_SHA_384' : curve === 'prime256v1' ? 'PKIX_ECDSA_P256_SHA_256' : 'PKIX_RSA_PKCS1V15_2048_SHA256';
  return { rawBytes: der.toString('base64'), keyDetails: details, keyId: createHash('sha256').update(der).digest('base64') };
}

export function trustedRootFromPems(p: LoosePems): unknown {
  const start = p.validFrom ?? '1970-01-01T00:00:00Z';
  const log = (pem: string, url: string) => {
    const k = keyDetails(pem);
    return { baseUrl: url, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: k.rawBytes, keyDetails: k.keyDetails, validFor: { start } }, logId: { keyId: k.keyId } };
  };
  const certs = p.fulcioCerts.flatMap((pem) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0])));
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: p.rekorKeys.map((k, i) => log(k, `https://rekor.invalid/${i}`)),
    certificateAuthorities: certs.length === 0 ? [] : [{
      subject: { organization: 'configured', commonName: 'configured' }, uri: 'https://fulcio.invalid',
      certChain: { certificates: certs.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, validFor: { start },
    }],
    ctlogs: p.ctLogKeys.map((k, i) => log(k, `https://ct.invalid/${i}`)),
    timestampAuthorities: [],
  };
}
