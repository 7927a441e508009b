/**
 * Named trust stores (trust-store-trust-policy.md § "Trust Store") and the rules notation-go applies when it
 * reads one (verifier/truststore truststore.go GetCertificates, ValidateCertificates, isRootCACertificate):
 *  - every entry of the store directory is a regular certificate file (sub-directories and symlinks fail the
 *    store; the spec says they are ignored, notation-go refuses them, and so do we);
 *  - every certificate is a CA certificate or a self-signed one (a pinned self-signed signing cert is allowed);
 *  - `tsa` stores hold root CA certificates only: CA, allowed to sign certificates, self-signed, self-issued;
 *  - a store without any certificate is an error.
 * A store that fails these rules is kept as a failed outcome, not thrown: notation discovers it when it loads
 * the store for a verification, and that failure is the authenticity (or authenticTimestamp, for `tsa`)
 * result — enforced or logged per the statement's level (vectors ERRATA 1). This module is pure: the loader
 * hands it file names and bytes.
 */
import { X509Certificate } from 'node:crypto';
import { parseCertificates } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';
import { LIMITS, X509ParseError } from '../../../pki/errors.ts';
import { checkTrustAnchor } from '../../../pki/trust.ts';
import { TrustStoreError } from './errors.ts';
import type { TrustStoreRef, TrustStoreType } from './trust-store-ref.ts';

/** One entry of a named store directory, as the loader found it. */
export type StoreEntry =
  | { readonly name: string; readonly kind: 'file'; readonly bytes: Uint8Array }
  /** `outside`: a symlink (followed when allowed) that leads out of the configuration directory. */
  | { readonly name: string; readonly kind: 'directory' | 'symlink' | 'outside' | 'other' };

export type NamedStoreOutcome =
  | { readonly ok: true; readonly type: TrustStoreType; readonly name: string; readonly certificates: readonly X509Certificate[] }
  | { readonly ok: false; readonly type: TrustStoreType; readonly name: string; readonly error: TrustStoreError };

/** Store files are operator configuration: bounded only by what one statement's stores may hold altogether. */
const STORE_FILE_LIMITS = { maxCertificates: LIMITS.trustStoreCertificates, maxBytes: LIMITS.trustStoreCertificates * LIMITS.certificateBytes };

type StoreFile =
  | { readonly ok: true; readonly certificates: readonly { readonly parsed: Certificate; readonly node: X509Certificate }[] }
  | { readonly ok: false; readonly reason: string };

/** notation-core-go ReadCertificateFile (PEM or concatenated DER); any unparseable certificate fails the file. */
function readStoreFile(bytes: Uint8Array): StoreFile {
  try {
    const parsed = parseCertificates(bytes, STORE_FILE_LIMITS);
    return { ok: true, certificates: parsed.map((c) => ({ parsed: c, node: new X509Certificate(c.der) })) };
  } catch (err) {
    if (err instanceof X509ParseError) return { ok: false, reason: err.message };
    return { ok: false, reason: `x509: malformed certificate: ${err instanceof Error ? err.message : String(err)}` }; // OpenSSL's refusal
  }
}

/**
 * Applies notation's rules to one named store's entries (taken in name order, as os.ReadDir lists them).
 * `location` (the directory) only goes into messages.
 */
export function buildNamedStore(type: TrustStoreType, name: string, entries: readonly StoreEntry[], location?: string): NamedStoreOutcome {
  const fail = (error: TrustStoreError): NamedStoreOutcome => ({ ok: false, type, name, error });
  const certificates: X509Certificate[] = [];
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const where = { storeType: type, storeName: name, file: entry.name, location };
    const file = `${entry.name} in trust store ${name} of type ${type}`;
    if (entry.kind === 'outside') {
      return fail(new TrustStoreError('STORE_ENTRY_NOT_FILE', `trusted certificate ${file} leads outside the configuration directory`, where));
    }
    if (entry.kind !== 'file') {
      return fail(new TrustStoreError('STORE_ENTRY_NOT_FILE', `trusted certificate ${file} is not a regular file (directories or symlinks are not supported)`, where));
    }
    const parsed = readStoreFile(entry.bytes);
    if (!parsed.ok) return fail(new TrustStoreError('CERT_MALFORMED', `failed to read the trusted certificate ${file}: ${parsed.reason}`, where));
    if (parsed.certificates.length === 0) {
      return fail(new TrustStoreError('CERT_MALFORMED', `failed to validate the trusted certificate ${file}: input certs cannot be empty`, where));
    }
    // notation-go checks the whole file for CA-or-self-signed first, then (tsa) for root CAs.
    for (const { parsed: cert } of parsed.certificates) {
      const anchor = checkTrustAnchor(cert, 'ca');
      if (!anchor.ok) return fail(new TrustStoreError('CERT_NOT_CA_OR_SELF_SIGNED', `failed to validate the trusted certificate ${file}: ${anchor.message}`, where));
    }
    if (type === 'tsa') {
      for (const { parsed: cert } of parsed.certificates) {
        const root = checkTrustAnchor(cert, 'tsa');
        if (!root.ok) return fail(new TrustStoreError('CERT_NOT_ROOT', `trusted certificate ${file} is invalid: ${root.message}`, where));
      }
    }
    certificates.push(...parsed.certificates.map((c) => c.node));
  }
  if (certificates.length === 0) {
    return fail(new TrustStoreError('STORE_EMPTY', `no x509 certificates were found in trust store ${JSON.stringify(name)} of type ${JSON.stringify(type)}`, { storeType: type, storeName: name, location }));
  }
  return { ok: true, type, name, certificates: Object.freeze(certificates) };
}

export type CertificatesOutcome =
  | { readonly ok: true; readonly certificates: readonly X509Certificate[] }
  | { readonly ok: false; readonly error: TrustStoreError };

/** The named stores read for a trust policy, each with its outcome. Immutable once built. */
export class TrustStore {
  readonly #stores: ReadonlyMap<string, NamedStoreOutcome>;

  constructor(stores: Iterable<NamedStoreOutcome>) {
    const map = new Map<string, NamedStoreOutcome>();
    for (const s of stores) map.set(`${s.type}:${s.name}`, s);
    this.#stores = map;
  }

  /** One named store. A store that was never read is reported as missing, as notation would find it. */
  get(type: TrustStoreType, name: string): NamedStoreOutcome {
    return this.#stores.get(`${type}:${name}`) ?? {
      ok: false,
      type,
      name,
      error: new TrustStoreError('STORE_NOT_FOUND', `the trust store ${JSON.stringify(name)} of type ${JSON.stringify(type)} does not exist`, { storeType: type, storeName: name }),
    };
  }

  /**
   * The certificates of every store of `type` among `refs` (a statement's `trustStores`), duplicates removed —
   * notation-go loadX509TrustStoresWithType. The first store that fails makes the whole lookup fail.
   */
  certificates(refs: readonly TrustStoreRef[], type: TrustStoreType): CertificatesOutcome {
    const out: X509Certificate[] = [];
    const seen = new Set<string>();
    for (const ref of refs) {
      if (ref.type !== type || seen.has(ref.name)) continue;
      seen.add(ref.name);
      const store = this.get(ref.type, ref.name);
      if (!store.ok) return { ok: false, error: store.error };
      out.push(...store.certificates);
    }
    return { ok: true, certificates: out };
  }

  /** Every store that was read and failed, for start-up warnings. */
  problems(): TrustStoreError[] {
    return [...this.#stores.values()].flatMap((s) => (s.ok ? [] : [s.error]));
  }
}
