/**
 * Which root to trust, and following it through rotations.
 *
 * Anchors (configured per trust server / rule, prepared once at config load):
 *  - `publicKeys` — Connaisseur's form (`notaryv1_validator.go trustRootKeys`, `repo.go validateRoot`): PEM SPKI
 *    keys, each of which must have produced a valid signature over root. Matched by public key, not by key ID (a key's
 *    ID differs between its bare and x509 forms).
 *  - `certificateRule` — notary's rule (`trustpinning/certs.go ValidateRoot`): only root-role keys that are x509
 *    certificates whose CN equals the GUN and that are valid now count towards the root threshold.
 * In every case the root must also meet its own root-role threshold (distinct keys) and be unexpired.
 *
 * Rotation (notary `tuf/builder.go`, TUF spec § 5.3): when the current root no longer satisfies the anchor, the chain
 * `<v>.root.json` is walked from the last root the anchor accepted (kept in the version state, else from 1): each
 * next root must be signed by a threshold of the previous root's root keys *and* of its own. Bounded.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { fail, NotaryV1Error } from './errors.ts';
import { parsePinnedKey, type TufKey } from './keys.ts';
import { MAX_BYTES, parseRoot, parseSigned, type Root, type Signed } from './roles.ts';
import { checkThreshold, signedByKey } from './signatures.ts';
import type { NotaryV1MetadataSource } from './source.ts';
import type { NotaryV1VersionState } from './version-state.ts';

export type RootTrustConfig = {
  /** PEM `PUBLIC KEY` blocks; every one must have signed root (Connaisseur). */
  readonly publicKeys?: readonly string[];
  /** notary's certificate rule: root keys are certificates with CN = GUN, valid now. */
  readonly certificateRule?: boolean;
  /** How many `<version>.root.json` steps may be followed (default 32). */
  readonly maxRootRotations?: number;
};

export type PreparedRootTrust = {
  readonly pinned: readonly TufKey[];
  readonly certificateRule: boolean;
  readonly maxRootRotations: number;
  /** Identity of this anchor: a remembered root is reused only under the same anchor. */
  readonly pinId: string;
};

/** Validate the anchor once (config load). Throws NotaryV1Error (root_untrusted / unsupported_key) with the reason. */
export function prepareRootTrust(config: RootTrustConfig): PreparedRootTrust {
  const keys = config.publicKeys ?? [];
  if (keys.length === 0 && !config.certificateRule) fail('root_untrusted', 'no trust root: configure publicKeys or certificateRule');
  if (keys.length > 16) fail('root_untrusted', 'at most 16 trust-root keys per anchor');
  const pinned = keys.map((pem): TufKey => {
    const { key, spki } = parsePinnedKey(pem);
    const type = key.asymmetricKeyType === 'ec' ? 'ecdsa' : key.asymmetricKeyType === 'rsa' ? 'rsa' : 'ed25519';
    return { id: createHash('sha256').update(spki).digest('hex'), type, key, spki };
  });
  const maxRootRotations = Math.min(Math.max(config.maxRootRotations ?? 32, 0), 1024);
  const pinId = createHash('sha256').update(JSON.stringify([pinned.map((k) => k.spki.toString('base64')).sort(), !!config.certificateRule])).digest('hex');
  return { pinned, certificateRule: !!config.certificateRule, maxRootRotations, pinId };
}

function cnOf(cert: X509Certificate): string | undefined {
  // node renders the subject as "K=V" lines; a CN holding a newline cannot be told apart, so refuse it
  const cns = cert.subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
  return cns.length === 1 ? cns[0] : undefined;
}

/** The root role as the anchor sees it: with the certificate rule, only certificates for this GUN valid now. */
function anchoredRootRole(root: Root, gun: string, trust: PreparedRootTrust, now: Date) {
  if (!trust.certificateRule) return root.roles.root;
  const keys = new Map([...root.roles.root.keys].filter(([, k]) => {
    const c = k.certificate;
    return c !== undefined && cnOf(c) === gun && c.validFromDate <= now && now <= c.validToDate;
  }));
  if (keys.size === 0) fail('root_untrusted', `no root certificate for ${gun} is valid now (notary's certificate rule: CN = GUN, unexpired)`);
  return { ...root.roles.root, keys };
}

/** Does the anchor accept this root on its own (pinned keys signed it, certificate rule, own threshold)? */
export function checkAnchoredRoot(signed: Signed, root: Root, gun: string, trust: PreparedRootTrust, now: Date): void {
  for (const pin of trust.pinned) {
    if (signed.signatures.length === 0) fail('threshold_not_met', 'root has no signatures');
    if (!signedByKey(pin, signed.signatures, signed.canonical)) fail('root_untrusted', 'root is not signed by the pinned trust-root key');
  }
  checkThreshold(anchoredRootRole(root, gun, trust, now), signed.signatures, signed.canonical);
}

/** A successor root: a threshold of the previous root's root keys, and its own (anchor rule applied). */
function checkSuccessor(prev: Root, signed: Signed, next: Root, gun: string, trust: PreparedRootTrust, now: Date): void {
  checkThreshold({ ...prev.roles.root, name: `root v${next.version} (by root v${prev.version} keys)` }, signed.signatures, signed.canonical);
  checkThreshold(anchoredRootRole(next, gun, trust, now), signed.signatures, signed.canonical);
}

type Fetched = { bytes: Uint8Array; maxAgeSeconds?: number };

async function fetchRoot(source: NotaryV1MetadataSource, gun: string, name: string): Promise<{ signed: Signed; root: Root } | undefined> {
  let r;
  try {
    r = await source.fetchRole(gun, name);
  } catch (err) {
    return fail('fetch_failed', `fetching ${name}: ${String((err as Error)?.message ?? err).slice(0, 200)}`);
  }
  if ('notFound' in r) return undefined;
  const signed = parseSigned(r.bytes, name, MAX_BYTES.root);
  return { signed, root: parseRoot(signed, name) };
}

/**
 * Establish the current root (already fetched and parsed by the caller) under the anchor, walking the rotation
 * chain when needed. Returns the root the anchor now vouches for; expiry is the caller's check (only the newest
 * root's expiry matters, TUF § 5.3.10).
 */
export async function trustCurrentRoot(
  current: { signed: Signed; root: Root; fetched: Fetched },
  gun: string, trust: PreparedRootTrust, now: Date, source: NotaryV1MetadataSource, state?: NotaryV1VersionState,
): Promise<Root> {
  const remembered = state?.peek(gun)?.trustedRoot;
  const base = remembered && remembered.pinId === trust.pinId && remembered.version <= current.root.version ? remembered.root : undefined;
  let directError: NotaryV1Error | undefined;
  if (!base) {
    try {
      checkAnchoredRoot(current.signed, current.root, gun, trust, now);
      return current.root;
    } catch (err) {
      if (!(err instanceof NotaryV1Error)) throw err;
      directError = err;
    }
  }
  // Rotation walk: from the remembered root, else from the first root the anchor accepts.
  const target = current.root.version;
  let prev = base;
  let v = base ? base.version + 1 : 1;
  if (target - v > trust.maxRootRotations) {
    fail('root_untrusted', `root rotation chain of ${target - v} versions exceeds the bound of ${trust.maxRootRotations}${directError ? ` (${directError.message})` : ''}`);
  }
  for (; v < target; v++) {
    const step = await fetchRoot(source, gun, `${v}.root`);
    if (!step) {
      if (prev) fail('root_untrusted', `root rotation chain is broken: ${v}.root.json is missing`);
      continue;
    }
    if (step.root.version !== v) fail('root_untrusted', `${v}.root.json carries version ${step.root.version}`);
    if (!prev) {
      try {
        checkAnchoredRoot(step.signed, step.root, gun, trust, now);
        prev = step.root;
      } catch (err) {
        if (!(err instanceof NotaryV1Error)) throw err;
      }
      continue;
    }
    checkSuccessor(prev, step.signed, step.root, gun, trust, now);
    prev = step.root;
  }
  if (!prev) throw directError ?? new NotaryV1Error('root_untrusted', 'no root in the rotation chain is signed by the trust root');
  checkSuccessor(prev, current.signed, current.root, gun, trust, now);
  return current.root;
}
