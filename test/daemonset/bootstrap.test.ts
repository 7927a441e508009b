/**
 * The shipped install can start and upgrade itself: the DaemonSet writes `_default` (every registry not listed
 * goes to the gate and is denied), so the registry of every bootstrap image the trust policy lets through
 * (`skip` statements: pause, pullgate's own image) must be one the config lists — or that skip statement could
 * never apply, and the node could not pull pause or a new pullgate image through its gate.
 */
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { find, rendered, type Target } from './rendered.ts';

const TARGETS: readonly Target[] = ['daemonset', 'daemonset/overlays/pinning', 'daemonset/overlays/audit'];

for (const target of TARGETS) {
  t.test(target, async (t) => {
    const objects = rendered(target);
    const config = parseYaml(find(objects, 'ConfigMap', 'pullgate-config').data['config.yaml'] as string) as { registries: { host: string }[] };
    const policy = JSON.parse(find(objects, 'ConfigMap', 'pullgate-trust-policy').data['trustpolicy.oci.json'] as string) as {
      trustPolicies: { name: string; registryScopes: string[]; signatureVerification: { level: string } }[];
    };
    const listed = new Set(config.registries.map((r) => r.host));
    const skipped = policy.trustPolicies.filter((s) => s.signatureVerification.level === 'skip').flatMap((s) => s.registryScopes);
    t.ok(skipped.length > 0, 'the shipped policy has bootstrap scopes');
    for (const scope of skipped) {
      const host = scope.split('/')[0]!;
      t.ok(listed.has(host), `${scope}: its registry ${host} is listed in registries (listed: ${[...listed].join(', ')})`);
    }
  });
}
