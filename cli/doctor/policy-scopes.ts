/**
 * The trust policy's registry scopes, as doctor sees them: a scope notation accepts but pullgate can never match
 * (verifiers/notation/trust/scope-lint.ts — an upper-case host, a Docker Hub alias, `docker.io/nginx` without `library/`)
 * leaves the images it was written for to another statement. A warning, like the log line `serve` writes at
 * load: the policy is the notation CLI's file and stays valid. An unreadable policy is only a warning here too:
 * the gate's /readyz is what reports a gate without a policy.
 */
import { loadNotationConfig } from '../../verifiers/notation/trust/notation-config.ts';
import { lintRegistryScopes } from '../../verifiers/notation/trust/scope-lint.ts';
import { ok, warn, type Finding } from './findings.ts';

export async function checkPolicyScopes(configDir: string): Promise<Finding[]> {
  let loaded;
  try {
    loaded = await loadNotationConfig(configDir, { allowSymlinks: true });
  } catch (err) {
    return [warn('policy_unreadable', `cannot read the trust policy in ${configDir} to check its registry scopes: ${(err as Error).message}`)];
  }
  const file = loaded.sources.policyFile;
  const warnings = lintRegistryScopes(loaded.policy);
  if (warnings.length === 0) return [ok('policy_scopes', `every registry scope in ${file} can match an image`, { file })];
  return warnings.map((w) => warn('policy_scope_never_matches', w.message, { file }));
}
