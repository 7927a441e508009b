/**
 * Scopes notation accepts but pullgate can never match (verifiers/notation/trust/scope-lint.ts): each is reported with the
 * scope to write instead, the policy still loads exactly as notation would load it, and the report agrees with
 * what statementFor really selects for the image as the proxy names it.
 */
import t from 'tap';
import { parseTrustPolicyDocument, statementFor } from '../../../verifiers/notation/trust/trust-policy.ts';
import { MAX_SCOPE_WARNINGS, lintRegistryScopes, logScopeWarnings, scopeWarningsFor } from '../../../verifiers/notation/trust/scope-lint.ts';
import { canonicalRegistryHost, normalizeRepository } from '../../../oci/names.ts';

const skip = (name: string, registryScopes: string[]) => ({ name, registryScopes, signatureVerification: { level: 'skip' } });
const strictAll = { name: 'everything-else', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] };
const policyWith = (...statements: unknown[]) => parseTrustPolicyDocument({ version: '1.0', trustPolicies: [...statements, strictAll] }, 'trustpolicy.oci.json');

/** The scope the proxy looks up for `ns` + path name (proxy/distribution-request.ts does exactly this). */
const proxyScope = (ns: string, name: string) => {
  const registry = canonicalRegistryHost(ns);
  return `${registry}/${normalizeRepository(registry, name)}`;
};

t.test('each kind of scope that never matches, with the scope to write', async (t) => {
  const cases: [string, string, string, string][] = [
    // scope, code, suggestion, how containerd names the image (ns, repository in the path)
    ['Registry.Example/app', 'scope_uppercase_host', 'registry.example/app', 'Registry.Example|app'],
    ['REGISTRY.example:5000/team/app', 'scope_uppercase_host', 'registry.example:5000/team/app', 'registry.example:5000|team/app'],
    ['index.docker.io/library/nginx', 'scope_docker_hub_alias', 'docker.io/library/nginx', 'index.docker.io|library/nginx'],
    ['registry-1.docker.io/acme/app', 'scope_docker_hub_alias', 'docker.io/acme/app', 'registry-1.docker.io|acme/app'],
    ['Index.Docker.IO/nginx', 'scope_docker_hub_alias', 'docker.io/library/nginx', 'docker.io|nginx'],
    ['docker.io/nginx', 'scope_docker_hub_library', 'docker.io/library/nginx', 'docker.io|nginx'],
    ['Docker.io/acme/app', 'scope_uppercase_host', 'docker.io/acme/app', 'docker.io|acme/app'],
  ];
  for (const [scope, code, suggestion, image] of cases) {
    // notation accepts the scope: the document parses (the same validation as notation-go), nothing is rejected.
    const doc = policyWith(skip('meant-for-it', [scope]));
    const warnings = lintRegistryScopes(doc);
    t.match(warnings, [{ code, scope, suggestion, statement: 'meant-for-it' }], scope);
    t.equal(warnings.length, 1);
    t.match(warnings[0]!.message, `never matches an image in pullgate`);
    t.match(warnings[0]!.message, `write "${suggestion}"`);
    // And it really never matches: the image it was written for falls to another statement.
    const [ns, name] = image.split('|') as [string, string];
    t.equal(statementFor(doc, proxyScope(ns, name))?.name, 'everything-else', `${scope}: the image gets "*", not the statement written for it`);
  }
});

t.test('scopes that can match are left alone', async (t) => {
  const doc = policyWith(
    skip('fine', ['docker.io/library/nginx', 'docker.io/acme/app', 'ghcr.io/acme/app', 'registry.example:5000/team/app', '127.0.0.1:5000/test/app', 'localhost/app']),
  );
  t.same(lintRegistryScopes(doc), []);
  for (const scope of ['docker.io/library/nginx', 'registry.example:5000/team/app']) t.equal(statementFor(doc, scope)?.name, 'fine');
});

t.test('says when the right scope is already listed', async (t) => {
  const doc = policyWith(skip('official', ['docker.io/library/nginx']), skip('old-spelling', ['docker.io/nginx']));
  const [w] = lintRegistryScopes(doc);
  t.match(w!.message, '"docker.io/library/nginx" is already listed in statement "official"');
});

t.test('bounded, logged one line each, and picked per image for verify', async (t) => {
  const many = Array.from({ length: MAX_SCOPE_WARNINGS + 20 }, (_, i) => `docker.io/app${i}`);
  const doc = policyWith(skip('many', many));
  t.equal(lintRegistryScopes(doc).length, MAX_SCOPE_WARNINGS);

  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  const small = lintRegistryScopes(policyWith(skip('a', ['docker.io/nginx', 'Registry.Example/app'])));
  logScopeWarnings({ warn: (fields, message) => lines.push({ fields, message }) }, small);
  t.match(lines, [
    { fields: { code: 'scope_docker_hub_library', statement: 'a', scope: 'docker.io/nginx', suggestion: 'docker.io/library/nginx' } },
    { fields: { code: 'scope_uppercase_host', scope: 'Registry.Example/app' } },
  ]);
  logScopeWarnings({ warn: () => t.fail('nothing to log') }, undefined);

  t.same(scopeWarningsFor(small, 'docker.io', 'library/nginx').map((w) => w.scope), ['docker.io/nginx']);
  t.same(scopeWarningsFor(small, 'docker.io', 'library/redis'), []);
});
