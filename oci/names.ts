/**
 * Repository names and tags per the distribution spec (spec.md § "Pulling manifests"), and the docker.io
 * normalisation containerd and the docker CLI apply (`nginx` → `library/nginx` on `docker.io`, served by
 * `registry-1.docker.io`). Shared by the proxy (request paths), the webhook and the CLI (image references).
 */
import type { Digest } from './digest.ts';

/** `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` */
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}` */
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** The spec lets registries cap names; 255 (host included) is what docker/distribution enforces. */
export const MAX_NAME_LENGTH = 255;

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** `index.docker.io` and `registry-1.docker.io` are the same registry as `docker.io` in image references. */
export function canonicalRegistryHost(host: string): string {
  const lower = host.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

/** Docker Hub's official images live under `library/`; a one-component name means one of those. */
export function normalizeRepository(registry: string, repository: string): string {
  return registry === DOCKER_HUB && !repository.includes('/') ? `library/${repository}` : repository;
}

/** A manifest reference as the distribution API takes it: `/v2/<name>/manifests/<tag or digest>`. */
export type ManifestReference =
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'digest'; readonly digest: Digest };
