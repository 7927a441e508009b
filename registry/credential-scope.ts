/**
 * Which repositories a registry's credentials may be used for (`registries[].credentialedRepositories`).
 *
 * With credentials configured, the gate pulls on behalf of every pod on the node: whatever repository a pod
 * names, the gate fetches it with the node's credentials, so a pod can read private images its own namespace was
 * never given a pull secret for (the confused-deputy problem the security review raised, issue 12.6). The list
 * narrows that: credentials go only with requests for the listed repositories; everything else is fetched
 * anonymously, as a pull with no secret would be. Public images keep working; private ones outside the list
 * fail at the registry (401/403 → denied, with the registry's answer as the reason).
 *
 * Entries: an exact repository (`team/app`) or a prefix glob (`team/*`: every repository below `team/`, not
 * `team` itself), as the image policy's scopes read.
 */

export type CredentialScope = (repository: string) => boolean;

/** Every repository when no list is configured (today's behaviour, documented as such). */
export function credentialScope(list: readonly string[] | undefined): CredentialScope {
  if (list === undefined) return () => true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of list) {
    if (entry.endsWith('/*')) prefixes.push(`${entry.slice(0, -1)}`);
    else exact.add(entry);
  }
  return (repository) => exact.has(repository) || prefixes.some((p) => repository.startsWith(p) && repository.length > p.length);
}

/** The repository a token scope names (`repository:team/app:pull` → `team/app`); undefined for anything else. */
export function scopeRepository(scope: string): string | undefined {
  if (!scope.startsWith('repository:')) return undefined;
  const rest = scope.slice('repository:'.length);
  const colon = rest.lastIndexOf(':');
  return colon <= 0 ? undefined : rest.slice(0, colon);
}
