/**
 * Test-only helpers for the verifier tests: notation config directories on disk (trust policy + trust stores, the
 * notation CLI layout), ImageTargets out of a MemoryRegistry, signature manifests in both OCI forms, and the
 * engine built through the public API (loadPolicyState / loadNotationConfig + NotationVerifier + PolicyEngine).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ImageTarget } from '../../../policy/decision.ts';
import type { CrlSource, OcspSource } from '../../../oci/discovery/fetcher.ts';
import { PolicyEngine } from '../../../policy/engine.ts';
import { loadPolicyState } from '../../../policy/load-state.ts';
import { digestOf } from '../../../oci/digest.ts';
import { loadNotationConfig } from '../../../verifiers/notation/trust/notation-config.ts';
import { statementFor } from '../../../verifiers/notation/trust/trust-policy.ts';
import { NotationVerifier, type NotationVerifierOptions } from '../../../verifiers/notation/verifier/index.ts';
import type { MemoryRegistry } from './memory-registry.ts';

export const VECTORS = join(import.meta.dirname, '../../vectors');
export const FIXED_CLOCK = new Date('2026-01-01T00:00:00Z');
export const SIGNATURE_TYPE = 'application/vnd.cncf.notary.signature';
export const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2, data: 'e30=' };

export interface Teardown {
  teardown(fn: () => void): void;
}

/** `type:name` → certificate files (paths) or DER/PEM bytes; `root` copies a whole truststore/x509 tree first. */
export interface NotationDirSpec {
  readonly policy: unknown;
  readonly stores?: Readonly<Record<string, readonly (string | Uint8Array)[]>>;
  readonly x509Root?: string;
}

export function notationDir(t: Teardown, spec: NotationDirSpec): string {
  const dir = mkdtempSync(join(tmpdir(), 'pullgate-notation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'trustpolicy.oci.json'), typeof spec.policy === 'string' ? spec.policy : JSON.stringify(spec.policy, null, 2));
  const x509 = join(dir, 'truststore', 'x509');
  if (spec.x509Root !== undefined) cpSync(spec.x509Root, x509, { recursive: true });
  for (const [ref, files] of Object.entries(spec.stores ?? {})) {
    const [type, name] = ref.split(':') as [string, string];
    const store = join(x509, type, name);
    mkdirSync(store, { recursive: true });
    files.forEach((f, i) => {
      if (typeof f === 'string') cpSync(f, join(store, basename(f)));
      else writeFileSync(join(store, `cert-${i}.crt`), f);
    });
  }
  return dir;
}

/** The ImageTarget for `ref` (tag or digest) of `repository` as the registry holds it. */
export function targetOf(registry: MemoryRegistry, host: string, repository: string, ref: string): ImageTarget {
  const m = registry.resolve(ref);
  return { registry: host, repository, reference: ref, digest: digestOf(m.bytes), mediaType: m.mediaType, size: m.bytes.length, bytes: m.bytes };
}

/** A target known only by its descriptor (the notation-go envelope vectors ship no manifest bytes). */
export function descriptorTarget(host: string, repository: string, d: { mediaType: string; digest: string; size: number }): ImageTarget {
  const [algorithm, hex] = d.digest.split(':') as ['sha256', string];
  return { registry: host, repository, reference: d.digest, digest: { algorithm, hex, text: d.digest }, mediaType: d.mediaType, size: d.size, bytes: Buffer.alloc(0) };
}

export type SignatureForm = 'legacy' | 'artifactType';

/** A Notary Project signature manifest for `envelope` (already stored as a blob) on `subject`. */
export function signatureManifest(envelope: { digest: string; size: number; mediaType: string }, subject: { mediaType: string; digest: string; size: number }, form: SignatureForm = 'legacy'): object {
  const layer = { mediaType: envelope.mediaType, digest: envelope.digest, size: envelope.size };
  const common = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [layer], subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '[]' } };
  return form === 'artifactType'
    ? { ...common, artifactType: SIGNATURE_TYPE, config: EMPTY_CONFIG }
    : { ...common, config: { mediaType: SIGNATURE_TYPE, digest: EMPTY_CONFIG.digest, size: 2 } };
}

/** Stores `envelope` and a signature manifest for it on `subject` in `registry`; returns the manifest digest. */
export function attachSignature(registry: MemoryRegistry, envelope: Uint8Array, mediaType: string, subject: { mediaType: string; digest: string; size: number }, form: SignatureForm = 'legacy'): string {
  const digest = registry.putBlob(envelope);
  if (form === 'legacy') registry.putBlob(Buffer.from('{}'));
  return registry.putManifest(signatureManifest({ digest, size: envelope.length, mediaType }, subject, form)).digest;
}

const NO_CRLS: CrlSource = { fetchCrl: async () => ({ ok: false, reason: 'no CRL server in this test' }) };

/** The engine the proxy and CLI use, built by loadPolicyState from a notation config dir. */
export async function engineFor(configDir: string, registry: MemoryRegistry, opts: { clock?: Date; crlSource?: CrlSource; ocspSource?: OcspSource } = {}): Promise<PolicyEngine> {
  const clock = opts.clock ?? FIXED_CLOCK;
  const state = await loadPolicyState(configDir, { fetcherFor: () => registry, crlSource: opts.crlSource ?? NO_CRLS, ...(opts.ocspSource ? { ocspSource: opts.ocspSource } : {}), clock: () => clock });
  return new PolicyEngine(state);
}

/** Same, with NotationVerifier options the loader does not expose (revocation checkers, limits). */
export async function engineWith(configDir: string, registry: MemoryRegistry, opts: Omit<Partial<NotationVerifierOptions>, 'clock'> & { clock?: Date } = {}): Promise<PolicyEngine> {
  const config = await loadNotationConfig(configDir);
  const clock = opts.clock ?? FIXED_CLOCK;
  const verifier = new NotationVerifier({ crlSource: NO_CRLS, ...opts, policy: config.policy, trustStore: config.trustStore, fetcherFor: opts.fetcherFor ?? (() => registry), clock: () => clock });
  return new PolicyEngine({
    loaded: true,
    verifier,
    policy: {
      statementFor(scope) {
        const s = statementFor(config.policy, scope);
        return s === undefined ? undefined : { name: s.name, level: s.signatureVerification.level };
      },
    },
  });
}
