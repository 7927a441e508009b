/**
 * Registry scopes that notation accepts but that can never select an image in pullgate. notation-go validates a
 * scope's shape only (registry-scope.ts: the domain may be upper-case, any host is fine, a one-component
 * repository is fine) and matches it against the reference as the user typed it. pullgate matches it against
 * the image as containerd and the webhook name it: the host lower-cased, Docker Hub's aliases
 * (`index.docker.io`, `registry-1.docker.io`) folded into `docker.io`, and `library/` put in front of a
 * one-component Docker Hub name (oci/names.ts). So `Registry.Example/app`, `index.docker.io/library/x`
 * or `docker.io/nginx` name nothing: the images they were written for fall to another statement (often `*`),
 * which may be weaker or stronger than intended.
 *
 * These are warnings, never errors: the trust policy is the notation CLI's file verbatim, and rejecting what
 * notation accepts would break a policy that works with `notation verify`.
 */
import { GLOBAL_SCOPE, isValidRegistryScope } from './registry-scope.ts';
import type { TrustPolicyDocument } from './trust-policy.ts';
import { canonicalRegistryHost, normalizeRepository } from '../../../oci/names.ts';

export type ScopeLintCode = 'scope_uppercase_host' | 'scope_docker_hub_alias' | 'scope_docker_hub_library';

export interface ScopeLintWarning {
  readonly code: ScopeLintCode;
  /** The statement (trust policy `name`) the scope is listed in. */
  readonly statement: string;
  readonly scope: string;
  /** The scope pullgate would match for the images this one was meant for. */
  readonly suggestion: string;
  readonly message: string;
}

/** At most this many warnings are returned: a policy is operator-written, but it is not trusted to be small. */
export const MAX_SCOPE_WARNINGS = 100;

export function lintRegistryScopes(doc: TrustPolicyDocument): ScopeLintWarning[] {
  const warnings: ScopeLintWarning[] = [];
  const listed = new Map<string, string>();
  for (const statement of doc.statements) for (const scope of statement.registryScopes) if (!listed.has(scope)) listed.set(scope, statement.name);
  for (const statement of doc.statements) {
    for (const scope of statement.registryScopes) {
      if (warnings.length >= MAX_SCOPE_WARNINGS) return warnings;
      const warning = lintScope(statement.name, scope, listed);
      if (warning !== undefined) warnings.push(warning);
    }
  }
  return warnings;
}

function lintScope(statement: string, scope: string, listed: ReadonlyMap<string, string>): ScopeLintWarning | undefined {
  // The global scope matches everything; an invalid scope never gets here (the policy would not have loaded).
  if (scope === GLOBAL_SCOPE || !isValidRegistryScope(scope)) return undefined;
  const slash = scope.indexOf('/');
  const host = scope.slice(0, slash);
  const repository = scope.slice(slash + 1);
  const canonicalHost = canonicalRegistryHost(host);
  const suggestion = `${canonicalHost}/${normalizeRepository(canonicalHost, repository)}`;
  if (suggestion === scope) return undefined;
  const code: ScopeLintCode =
    canonicalHost !== host.toLowerCase() ? 'scope_docker_hub_alias' : host !== canonicalHost ? 'scope_uppercase_host' : 'scope_docker_hub_library';
  const why = {
    scope_docker_hub_alias: `${host} is an alias of docker.io, and pullgate names every Docker Hub image docker.io/…`,
    scope_uppercase_host: 'registry hosts are matched lower-case (containerd and the webhook name images that way)',
    scope_docker_hub_library: 'a one-component Docker Hub name is an official image, named docker.io/library/…',
  }[code];
  const owner = listed.get(suggestion);
  const instead = owner === undefined ? `write "${suggestion}"` : `"${suggestion}" is already listed in statement "${owner}"`;
  return {
    code,
    statement,
    scope,
    suggestion,
    message: `trust policy statement "${statement}": registry scope "${scope}" never matches an image in pullgate (${why}); ${instead}. notation accepts the scope, so pullgate loads the policy as it is`,
  };
}

/** Where the warnings go at load: a pino logger fits (`warn(fields, message)`); no logger is imported here. */
export interface ScopeWarningSink {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** One log line per warning, for `serve` and `webhook` at start and at every reload of the policy. */
export function logScopeWarnings(sink: ScopeWarningSink, warnings: readonly ScopeLintWarning[] | undefined): void {
  for (const w of warnings ?? []) sink.warn({ code: w.code, statement: w.statement, scope: w.scope, suggestion: w.suggestion }, w.message);
}

/** The warnings about scopes that were meant for `registry/repository` (as pullgate names it): for `verify`. */
export function scopeWarningsFor(warnings: readonly ScopeLintWarning[] | undefined, registry: string, repository: string): ScopeLintWarning[] {
  const scope = `${registry}/${repository}`;
  return (warnings ?? []).filter((w) => w.suggestion === scope);
}
