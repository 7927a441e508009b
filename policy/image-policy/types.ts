/**
 * The image policy: which signature systems an image must satisfy, chosen by the image's `registry/repository`.
 * Anchors (DESIGN.md "The image policy"): Connaisseur's `validators` + `policy` (most specific pattern wins),
 * sighup's `repositories` with `signers: {role, publicKey}`, Kyverno's attestors with `count`.
 *
 * These types are what `parse.ts` produces from the config's optional `policy:` section. They are verifier-
 * agnostic data: the engine hands each requirement to the verifier its `verifier` field names. Without a
 * `policy:` section there is no ImagePolicy at all and the Notation trust policy alone decides (today's gate).
 */
import type { KeyObject } from 'node:crypto';

/** The bounded `verifier` label of decisions, logs and metrics: one per signature system the gate knows. */
export type VerifierName = 'notation' | 'notaryv1' | 'cosign';
export const VERIFIER_NAMES: readonly VerifierName[] = ['notation', 'notaryv1', 'cosign'];
export type SupportedVerifier = VerifierName;

/**
 * Where a rule applies. `text` is the scope exactly as validated (lowercase host, no scheme, no tag), the key
 * for duplicate detection and for logs.
 * - exact: one repository, `ghcr.io/acme/app` (matches only that repository).
 * - prefix: `ghcr.io/acme/*` — every repository one or more path segments below `ghcr.io/acme`; `prefix` is
 *   `ghcr.io/acme` and `depth` its number of `/`-separated segments (2), which orders prefix scopes.
 * - global: `*`, every image.
 */
export type Scope =
  | { readonly kind: 'exact'; readonly text: string; readonly registry: string; readonly repository: string }
  | { readonly kind: 'prefix'; readonly text: string; readonly prefix: string; readonly depth: number }
  | { readonly kind: 'global'; readonly text: '*' };

/** A public key pinned in the config (PEM SubjectPublicKeyInfo or an X.509 certificate's key). */
export interface PinnedKey {
  readonly key: KeyObject;
  /** DER SubjectPublicKeyInfo: compare keys by this, never by a Notary key ID (x509 and bare forms differ). */
  readonly spki: Buffer;
  /** Where it came from, for messages: a key path (`policy.rules[0].require[0].rootKeys[0]`) or a file. */
  readonly source: string;
}

/** A Notary v1 server, defined once under `policy.trustServers` and named by requirements. */
export interface TrustServer {
  readonly name: string;
  /** Origin only (`https://notary.example:4443`); trust data lives at `/v2/<GUN>/_trust/tuf/<role>.json`. */
  readonly url: URL;
  /** Extra CA bundle (absolute path) for a server whose certificate a public CA did not issue. */
  readonly caFile: string | undefined;
  /**
   * The entry of the config's `credentials` file (docker config.json `auths` key) to authenticate with;
   * undefined = anonymous. A reference, never the secret itself, so the policy can live in a ConfigMap.
   */
  readonly credentials: string | undefined;
}

interface RequirementBase {
  /** Unique within its rule: the user's `name`, else the verifier name (suffixed `#<n>` when repeated). */
  readonly name: string;
  /** Config key path of the requirement, e.g. `policy.rules[2].require[0]`, for messages and logs. */
  readonly key: string;
  /** Position within the rule's list; outcomes are reported in this order. */
  readonly index: number;
}

/**
 * Defers to the Notation trust policy files verbatim: the statement is chosen by the trust policy's own
 * `registryScopes`, exactly as `notation verify` chooses it (see README.md § Image policy for why a requirement does
 * not name a statement).
 */
export interface NotationRequirement extends RequirementBase {
  readonly verifier: 'notation';
}

/**
 * Which targets roles must vouch for the tag (NOTARYV1.md "Trust anchor and which role to trust"):
 * - default: `targets/releases` when it exists, else `targets` (what the Docker CLI does);
 * - delegations: every listed delegation must exist, verify and list the tag, all with one digest (Connaisseur);
 * - signers: every `{role, key}` must be a key of that role and the role must sign the tag (sighup, Portieris).
 */
export type NotaryRoles =
  | { readonly kind: 'default' }
  | { readonly kind: 'delegations'; readonly roles: readonly string[] }
  | { readonly kind: 'signers'; readonly signers: readonly { readonly role: string; readonly publicKey: PinnedKey }[] };

export interface NotaryV1Requirement extends RequirementBase {
  readonly verifier: 'notaryv1';
  readonly trustServer: TrustServer;
  /**
   * Root trust pinned by public key (Connaisseur's form): the GUN's root.json must carry a valid signature by
   * EVERY one of these keys (verifiers/notaryv1/root-trust.ts checkAnchoredRoot, as Connaisseur's validateRoot),
   * on top of root.json's own threshold. Pinning two keys therefore requires both signatures; a root rotated away
   * from a pinned key is followed through `<version>.root.json` from the last root the pin accepted. May be
   * empty only when `certificateRule` is set.
   */
  readonly rootKeys: readonly PinnedKey[];
  /**
   * notary's own root trust rule (trustpinning/certs.go ValidateRoot): only root-role keys that are X.509
   * certificates whose CN is the GUN and that are valid now count towards root's threshold. With `rootKeys`,
   * both apply.
   */
  readonly certificateRule: boolean;
  readonly roles: NotaryRoles;
  /**
   * `exact` (default; TUF and notary): fetched metadata must have the length its signed parent lists;
   * `hash-only`: only the hashes are checked (Connaisseur's behaviour).
   */
  readonly metadataLengths: 'exact' | 'hash-only';
}

/** A cosign public key from the config: kept as text; verifiers/cosign/keys.ts parses it (done at parse time too). */
export interface CosignKey {
  /** What decisions report and `required` names: `publicKeys[<i>]`, or the key file's name without extension. */
  readonly name: string;
  readonly pem: string;
  /** Config key path or absolute file, for messages. */
  readonly source: string;
}

/**
 * A keyless identity as Kyverno's and policy-controller's `keyless` attestors take it: the certificate's issuer
 * (Fulcio extension 1.3.6.1.4.1.57264.1.1 / .1.8) and subject (SAN), each exact or a whole-string (anchored)
 * regular expression, plus optional GitHub workflow claims that must equal the certificate's (cosign
 * `--certificate-github-workflow-*`, extensions 1.3.6.1.4.1.57264.1.2–.1.6).
 */
export interface CosignIdentity {
  readonly name: string | undefined;
  readonly issuer: string | RegExp;
  readonly subject: string | RegExp;
  readonly github: Readonly<Partial<Record<GithubWorkflowClaim, string>>>;
  /**
   * Every Fulcio claim the identity checks, by its name in verifiers/cosign/fulcio-oids.ts (GitHub workflow v1
   * .1.2–.1.6 and the provider-generic .1.9+), exact or anchored regexp; includes the exact `github` ones.
   */
  readonly claims?: Readonly<Record<string, string | RegExp>>;
}
export type GithubWorkflowClaim = 'githubWorkflowTrigger' | 'githubWorkflowSha' | 'githubWorkflowName' | 'githubWorkflowRepository' | 'githubWorkflowRef';
export const GITHUB_WORKFLOW_CLAIMS: readonly GithubWorkflowClaim[] = ['githubWorkflowTrigger', 'githubWorkflowSha', 'githubWorkflowName', 'githubWorkflowRepository', 'githubWorkflowRef'];

/** Which Sigstore instance a cosign requirement trusts (Fulcio CAs, Rekor and CT log keys): a `trusted_root.json`. */
export interface CosignTrustedRoot {
  /** Absolute path, or `(shipped public-good)` for the default. */
  readonly source: string;
  readonly json: unknown;
}

/**
 * `verifier: cosign` (issue 14): the image's digest must carry cosign signatures, in the legacy tag layout
 * (`sha256-<hex>.sig`) and/or as a Sigstore bundle referrer, by configured keys (`threshold` distinct keys) or by a
 * keyless identity whose Fulcio certificate chains to the trusted root with its Rekor entry verified offline.
 */
export interface CosignRequirement extends RequirementBase {
  readonly verifier: 'cosign';
  readonly mode:
    | { readonly kind: 'keys'; readonly keys: readonly CosignKey[]; readonly threshold: number; readonly required: readonly string[] }
    | { readonly kind: 'keyless'; readonly identities: readonly CosignIdentity[] };
  readonly trustedRoot: CosignTrustedRoot;
  /** Keys: `optional` (default; a Rekor SET that is present must still verify) or `required`. Keyless: always required. */
  readonly rekor: 'required' | 'optional';
  readonly layouts: readonly ('tag' | 'referrer')[];
  /** How the payload's `docker-reference` is matched: `ignore` (cosign, default), `repository`, `exact` (containers/image). */
  readonly dockerReference: 'ignore' | 'repository' | 'exact';
  /** Payload annotations that must be present with these values (cosign `verify -a k=v`). */
  readonly annotations: Readonly<Record<string, string>>;
}

export type Requirement = NotationRequirement | NotaryV1Requirement | CosignRequirement;

/**
 * What a rule requires. `verify` covers both forms users write: `require: [...]` (all of them, count = length)
 * and `anyOf: [...]` with `count` (at least `count` of them; 1 by default), as Kyverno's attestors.
 */
export type RuleAction =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly message: string | undefined }
  | { readonly kind: 'verify'; readonly mode: 'allOf' | 'anyOf'; readonly requirements: readonly Requirement[]; readonly count: number };

export interface ImagePolicyRule {
  /** Position in the config's list: rules are kept in the order written, though order never decides a match. */
  readonly index: number;
  /** Config key path, e.g. `policy.rules[2]`. */
  readonly key: string;
  readonly scope: Scope;
  readonly action: RuleAction;
}

export interface ImagePolicy {
  /** The file the policy was read from (the config file for an inline section). */
  readonly file: string;
  readonly rules: readonly ImagePolicyRule[];
  readonly trustServers: ReadonlyMap<string, TrustServer>;
  /** Verifiers some rule requires: the engine starts only these. */
  readonly verifiers: ReadonlySet<SupportedVerifier>;
  /** Every file read while parsing (policy file, key files): hot reload watches these. */
  readonly sources: readonly string[];
}
