/**
 * Scope syntax of the image policy: `registry/repository`, `registry/prefix/*` or `*`. A scope is compared with
 * the image's registry host (as in image references, lowercase, Docker Hub as `docker.io`) and its normalised
 * repository (`library/nginx`), so a scope that could never equal such a pair is refused instead of silently
 * matching nothing. Names follow the distribution spec's repository grammar (spec.md § "Pulling manifests").
 */
import type { Scope } from './types.ts';

export const MAX_SCOPE_LENGTH = 300;

/** `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`: one repository path component. */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** DNS labels joined by dots, optional port; or a bracketed IPv6 address with optional port. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::[0-9]{1,5})?$/;
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io']);

export interface ScopeProblem {
  readonly problem: string;
  readonly fix: string;
}

/** The typed scope, or what is wrong with `text` and how to write it. */
export function parseScope(text: string): Scope | ScopeProblem {
  const q = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  if (text === '*') return { kind: 'global', text: '*' };
  if (text.length > MAX_SCOPE_LENGTH) return { problem: `scope is longer than ${MAX_SCOPE_LENGTH} characters`, fix: 'write registry/repository or registry/prefix/*' };
  if (text.includes('://')) {
    return { problem: `scope ${q} has a scheme`, fix: `write it as in image references, without the scheme: ${text.slice(text.indexOf('://') + 3)}` };
  }
  const segments = text.split('/');
  const host = segments[0]!;
  if (segments.length < 2) {
    return { problem: `scope ${q} names no repository`, fix: `write ${host}/* for the whole registry, or registry/repository` };
  }
  const starAt = segments.findIndex((s) => s.includes('*'));
  if (starAt >= 0 && (starAt !== segments.length - 1 || segments[starAt] !== '*')) {
    return { problem: `scope ${q} has "*" inside it`, fix: '"*" may only be the whole last path segment (registry/team/*), or the whole scope (*)' };
  }
  if (host !== host.toLowerCase()) {
    return { problem: `registry host ${JSON.stringify(host)} has uppercase letters`, fix: `write it in lowercase, as image references are resolved: ${host.toLowerCase()}` };
  }
  if (!HOST.test(host)) return { problem: `${JSON.stringify(host)} is not a registry host`, fix: 'write a host[:port] such as ghcr.io or 10.0.0.5:5000' };
  // The distribution reference rule: a first component without "." or ":" (and not localhost) is a path, not a
  // registry, e.g. sighup-style patterns written as "library/nginx".
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost') {
    return { problem: `scope ${q} does not start with a registry host`, fix: `prefix the registry, e.g. docker.io/${text}` };
  }
  if (DOCKER_HUB_ALIASES.has(host)) {
    return { problem: `${host} is Docker Hub`, fix: `write docker.io, as image references name it: docker.io/${segments.slice(1).join('/')}` };
  }
  const glob = segments[segments.length - 1] === '*';
  const path = glob ? segments.slice(1, -1) : segments.slice(1);
  const last = path[path.length - 1] ?? '';
  if (last.includes('@')) return { problem: `scope ${q} names a digest`, fix: 'a scope names a repository: drop @sha256:…' };
  if (last.includes(':')) return { problem: `scope ${q} names a tag`, fix: 'a scope names a repository, every tag included: drop the :tag part' };
  for (const component of path) {
    if (!COMPONENT.test(component)) {
      return { problem: `${JSON.stringify(component)} in scope ${q} is not a repository path component`, fix: 'use lowercase letters, digits and single . _ __ or - separators' };
    }
  }
  if (glob) {
    const prefix = segments.slice(0, -1).join('/');
    return { kind: 'prefix', text, prefix, depth: segments.length - 1 };
  }
  const repository = path.join('/');
  // Image references for Docker Hub official images normalise to library/<name> before any scope is compared.
  if (host === 'docker.io' && path.length === 1) {
    return { problem: `scope ${q} never matches: Docker Hub images with one path component are library/${repository}`, fix: `write docker.io/library/${repository}` };
  }
  return { kind: 'exact', text, registry: host, repository };
}

export function isScopeProblem(s: Scope | ScopeProblem): s is ScopeProblem {
  return 'problem' in s;
}
