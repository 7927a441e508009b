/**
 * Parsed certificates, shared across verifications. The x509 primitives memoize signature checks per
 * `Certificate` object (issuance.ts), so handing the same object for the same DER makes a chain that was
 * validated once cost nothing the next time — the common case on a node, where every image of a publisher
 * carries the same chain. Keyed by the full DER, so two different certificates can never share an entry.
 */
import type { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { parseCertificate } from '../../../pki/certificate.ts';
import type { Certificate } from '../../../pki/certificate.ts';

export class CertificateCache {
  readonly #byDer: LRUCache<string, Certificate>;
  /** Trust-store certificates live as long as their store; their parsed form is attached to the object. */
  readonly #anchors = new WeakMap<X509Certificate, Certificate>();

  constructor(max = 512) {
    this.#byDer = new LRUCache({ max });
  }

  /** Parses (or reuses) one DER certificate. Throws X509ParseError like parseCertificate. */
  parse(der: Uint8Array): Certificate {
    const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
    let cert = this.#byDer.get(key);
    if (cert === undefined) {
      cert = parseCertificate(der);
      this.#byDer.set(key, cert);
    }
    return cert;
  }

  /** A trust-store certificate in the x509 primitives' form. */
  anchor(x: X509Certificate): Certificate {
    let cert = this.#anchors.get(x);
    if (cert === undefined) {
      cert = this.parse(x.raw);
      this.#anchors.set(x, cert);
    }
    return cert;
  }
}
