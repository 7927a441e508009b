/**
 * Image references parsed and normalised exactly as the kubelet and containerd do: distribution/reference
 * `ParseNormalizedNamed` (normalize.go, regexp.go, reference.go) with go-digest validation, then containerd's
 * `ParseDockerRef` view of what is pulled (a reference with both tag and digest is pulled by digest; a bare
 * name gets `:latest`). `nginx` → `docker.io/library/nginx:latest`; `localhost:5000/app` keeps its host;
 * `index.docker.io` is Docker Hub, but `registry-1.docker.io` is not rewritten (neither does containerd).
 * Error texts are the upstream ones, so the message a user sees matches what the kubelet would have said.
 */

import { CodedError } from '../errors/coded-error.ts';

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*`;
const IPV6_ADDRESS = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const IDENTIFIER = /^[a-f0-9]{64}$/;
/** go-digest's DigestRegexp: the general form, used to tell "unsupported algorithm" from "malformed". */
const GO_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Algorithms containerd registers (crypto/sha256, crypto/sha512), with their hex length. */
const ALGORITHMS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
/** RepositoryNameTotalLengthMax: applies to the path (reference.go). */
const MAX_PATH_LENGTH = 255;
/**
 * Not an upstream limit: a guard so the regular expressions above never see megabytes of input (an object may
 * be 3 MiB). No registry host (≤ 253) plus path (≤ 255), tag (≤ 128) and digest comes near it.
 */
const MAX_REFERENCE_LENGTH = 2048;

export type ImageReferenceErrorCode = 'EMPTY' | 'TOO_LONG' | 'INVALID_FORMAT' | 'UPPERCASE' | 'NAME_TOO_LONG' | 'IDENTIFIER' | 'INVALID_DIGEST' | 'UNSUPPORTED_DIGEST';

export class ImageReferenceError extends CodedError<ImageReferenceErrorCode> {
  override readonly name = 'ImageReferenceError';
}

export interface ImageDigest {
  readonly algorithm: 'sha256' | 'sha384' | 'sha512';
  readonly hex: string;
  /** `sha256:<hex>`. */
  readonly text: string;
}

export interface ImageReference {
  /** As written in the pod spec. */
  readonly original: string;
  /** Registry host, as containerd looks up its hosts.toml directory (case preserved). */
  readonly domain: string;
  /** Repository path on that registry (`library/nginx`). */
  readonly path: string;
  /** The tag as written, or undefined (a digest-only or a bare name). */
  readonly tag: string | undefined;
  readonly digest: ImageDigest | undefined;
  /** `domain/path`. */
  readonly name: string;
  /** What containerd pulls (ParseDockerRef): `name@digest` when there is a digest, else `name:tag` (`latest`). */
  readonly pullRef: string;
}

export function parseImageReference(text: string): ImageReference {
  if (text.length === 0) throw new ImageReferenceError('EMPTY', 'repository name must have at least one component');
  if (text.length > MAX_REFERENCE_LENGTH) throw new ImageReferenceError('TOO_LONG', `reference is longer than ${MAX_REFERENCE_LENGTH} characters`);
  if (IDENTIFIER.test(text)) {
    throw new ImageReferenceError('IDENTIFIER', `invalid repository name (${text}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(text);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new ImageReferenceError('UPPERCASE', `invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parse(`${domain}/${remainder}`, text);
}

/** distribution/reference `Parse` on the already-normalised string. */
function parse(s: string, original: string): ImageReference {
  const m = REFERENCE.exec(s);
  if (m === null) {
    const lower = s.toLowerCase();
    if (lower !== s && REFERENCE.test(lower)) throw new ImageReferenceError('UPPERCASE', 'repository name must be lowercase');
    throw new ImageReferenceError('INVALID_FORMAT', 'invalid reference format');
  }
  const nameMatch = ANCHORED_NAME.exec(m[1]!);
  const domain = nameMatch?.[1] ?? '';
  const path = nameMatch?.[2] ?? m[1]!;
  if (path.length > MAX_PATH_LENGTH) throw new ImageReferenceError('NAME_TOO_LONG', `repository name must not be more than ${MAX_PATH_LENGTH} characters`);
  const tag = m[2];
  const digest = m[3] === undefined ? undefined : parseGoDigest(m[3]);
  const name = `${domain}/${path}`;
  return {
    original,
    domain,
    path,
    tag,
    digest,
    name,
    pullRef: digest !== undefined ? `${name}@${digest.text}` : `${name}:${tag ?? 'latest'}`,
  };
}

/** go-digest `Digest.Validate` with the algorithms containerd links in. */
function parseGoDigest(text: string): ImageDigest {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon + 1 === text.length) throw new ImageReferenceError('INVALID_DIGEST', 'invalid checksum digest format');
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  const size = ALGORITHMS[algorithm];
  if (size === undefined) {
    if (!GO_DIGEST.test(text)) throw new ImageReferenceError('INVALID_DIGEST', 'invalid checksum digest format');
    throw new ImageReferenceError('UNSUPPORTED_DIGEST', 'unsupported digest algorithm');
  }
  if (encoded.length !== size) throw new ImageReferenceError('INVALID_DIGEST', 'invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(encoded)) throw new ImageReferenceError('INVALID_DIGEST', 'invalid checksum digest format');
  return { algorithm: algorithm as ImageDigest['algorithm'], hex: encoded, text };
}

/** normalize.go `splitDockerDomain`: which leading component is a registry host, and Docker Hub's `library/`. */
function splitDockerDomain(name: string): [string, string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemote = name.slice(slash + 1);
  let domain: string;
  let remote: string;
  if (maybeDomain === 'localhost') [domain, remote] = [maybeDomain, maybeRemote];
  else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) [domain, remote] = [DEFAULT_DOMAIN, maybeRemote];
  else if (maybeDomain.includes('.') || maybeDomain.includes(':')) [domain, remote] = [maybeDomain, maybeRemote];
  // Path components are lower case, so an upper-case first component can only be a host name.
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remote] = [maybeDomain, maybeRemote];
  else [domain, remote] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remote.includes('/')) remote = OFFICIAL_REPO_PREFIX + remote;
  return [domain, remote];
}

/**
 * The kubelet's default pull policy when the field is empty (k8s.io/kubernetes pkg/apis/core/v1/defaults.go
 * `SetDefaults_Container`, with `parsers.ParseImageName`): `Always` when the tag is `latest` (written or implied
 * by a bare name), else `IfNotPresent` — a digest-only reference has no tag and so defaults to IfNotPresent.
 */
export function defaultPullPolicy(image: ImageReference | undefined): 'Always' | 'IfNotPresent' {
  if (image === undefined) return 'IfNotPresent';
  const tag = image.tag ?? (image.digest === undefined ? 'latest' : '');
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}
