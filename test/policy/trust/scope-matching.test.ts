// Registry scopes (notation-go oci_test.go TestValidRegistryScopes / TestInvalidRegistryScopes) and choosing the
// applicable statement (trust-store-trust-policy.md § "Selecting a trust policy based on artifact URI").
import t from 'tap';
import { isValidRegistryScope, registryScopeProblem } from '../../../verifiers/notation/trust/registry-scope.ts';
import { parseTrustPolicyDocument, statementFor } from '../../../verifiers/notation/trust/trust-policy.ts';

t.test('scope format', async (t) => {
  for (const scope of ['example.com/rep', 'example.com:8080/rep/rep2', 'example.com/rep/subrep/subsub', '10.10.10.10:8080/rep/rep2', 'domain/rep', 'domain:1234/rep',
    'localhost:5000/test-repo', 'local/e2e', 'docker.io/library/nginx', 'a/b__c', 'a/b---c', 'a/b.c_d-e', 'Registry.Example.COM/x', 'xn--bcher-kva.example/a', '127.0.0.1:5000/a/b/c']) {
    t.equal(registryScopeProblem(scope), undefined, `valid: ${scope}`);
  }
  for (const scope of ['', '1:1', 'a,b', 'abcd', '1111', '1,2', 'example.com/rep:tag', 'example.com/rep/subrep/sub:latest', 'example.com', 'rep/rep2:latest',
    'repository', '10.10.10.10', '10.10.10.10:8080/rep/rep2:latest', 'localhost:5000\\test-repo', 'https://example.com/a', 'example.com/Rep', 'example.com/a@sha256:00',
    'example.com//a', 'example.com/a/', '/a', 'example.com:/a', 'example.com:80:80/a', '-a.com/b', 'a-.com/b', 'a..com/b', 'example.com/a___b', 'example.com/a._b', 'example.com/-a', 'example.com/a-']) {
    t.match(registryScopeProblem(scope), `registry scope ${JSON.stringify(scope)} is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout`, `invalid: ${scope}`);
  }
  for (const scope of ['example.com/*', '*/', 'example*/', 'ex*test', '**']) {
    t.match(registryScopeProblem(scope), `registry scope ${JSON.stringify(scope)} with wild card(s) is not valid`, `wildcard: ${scope}`);
  }
  t.notOk(isValidRegistryScope('*'), 'the global scope is not a repository');
});

t.test('scope checks return on hostile input', async (t) => {
  // notation's repository regex has an empty-separator alternative; a backtracking engine explodes on this and
  // would not return before the test's timeout. No stopwatch: speed belongs to a benchmark.
  const evil = `example.com/${'a'.repeat(50_000)}!`;
  t.notOk(isValidRegistryScope(evil));
  t.notOk(isValidRegistryScope(`example.com/${'a-'.repeat(25_000)}`));
  t.notOk(isValidRegistryScope(`${'a.'.repeat(25_000)}/b`));
});

const policy = parseTrustPolicyDocument(
  {
    version: '1.0',
    trustPolicies: [
      { name: 'global', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:corp'], trustedIdentities: ['*'] },
      { name: 'bootstrap', registryScopes: ['registry.k8s.io/pause', 'ghcr.io/pullgate/pullgate'], signatureVerification: { level: 'skip' } },
      { name: 'wabbit', registryScopes: ['localhost:5000/net-monitor'], signatureVerification: { level: 'audit' }, trustStores: ['ca:wabbit'], trustedIdentities: ['*'] },
    ],
  },
  'scopes.json',
);
const exactOnly = parseTrustPolicyDocument(
  { version: '1.0', trustPolicies: [{ name: 'only', registryScopes: ['localhost:5000/test-repo'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'] }] },
  'exact.json',
);

t.test('statementFor: exact scope beats the global statement', async (t) => {
  t.equal(statementFor(policy, 'registry.k8s.io/pause')?.name, 'bootstrap');
  t.equal(statementFor(policy, 'ghcr.io/pullgate/pullgate')?.name, 'bootstrap');
  t.equal(statementFor(policy, 'localhost:5000/net-monitor')?.name, 'wabbit');
  t.equal(statementFor(policy, 'docker.io/library/nginx')?.name, 'global', 'anything else falls to *');
  t.equal(statementFor(policy, 'registry.k8s.io/pause/sub')?.name, 'global', 'scopes are exact repositories, not prefixes');
  t.equal(statementFor(policy, 'registry.k8s.io/pau')?.name, 'global');
  t.equal(statementFor(policy, 'localhost:5001/net-monitor')?.name, 'global', 'the port is part of the scope');
  t.equal(statementFor(policy, 'registry.k8s.io/pause')?.signatureVerification.level, 'skip');
});

t.test('statementFor: no applicable statement', async (t) => {
  t.equal(statementFor(exactOnly, 'localhost:5000/test-repo')?.name, 'only');
  t.equal(statementFor(exactOnly, 'localhost:5000/other'), undefined, 'no match and no * → undefined (the caller denies)');
  t.equal(statementFor(exactOnly, 'localhost:5000/TEST-REPO'), undefined);
  t.equal(statementFor(policy, '*'), undefined, '"*" is not an artifact scope');
  t.equal(statementFor(policy, 'docker.io/library/nginx:latest'), undefined, 'a reference with a tag is not a scope');
  t.equal(statementFor(policy, ''), undefined);
  t.equal(statementFor(policy, 'nginx'), undefined, 'scopes are fully qualified (no reference expansion)');
});
