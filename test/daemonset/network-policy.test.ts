/**
 * daemonset/network-policy: only the API server's range (and Prometheus) reach the webhook pods, on the
 * webhook's port only (issue 12.5). Checked against the rendered base: the policy must select the pods the
 * webhook Deployment creates, and no rule may open the port to every source.
 */
import t from 'tap';
import { find, rendered, selects } from './rendered.ts';

const policy = find(rendered('daemonset/network-policy'), 'NetworkPolicy', 'pullgate-webhook-ingress');
const webhook = find(rendered('daemonset'), 'Deployment', 'pullgate-webhook');

interface Peer { ipBlock?: { cidr: string; except?: string[] }; namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown }
interface Rule { from?: Peer[]; ports?: { protocol?: string; port?: number | string }[] }

t.test('selects exactly the webhook pods, ingress only', async (t) => {
  t.equal(policy.metadata.namespace, webhook.metadata.namespace);
  t.ok(selects(policy.spec.podSelector, webhook.spec.template.metadata.labels), 'selects the webhook Deployment\'s pods');
  t.same(policy.spec.policyTypes, ['Ingress'], 'egress stays open: the webhook resolves images at registries');
});

t.test('every rule names its sources and only the webhook port', async (t) => {
  const port = (webhook.spec.template.spec.containers[0].ports as { name: string; containerPort: number }[]).find((p) => p.name === 'https')!.containerPort;
  const rules = policy.spec.ingress as Rule[];
  t.ok(rules.length > 0);
  for (const [i, rule] of rules.entries()) {
    t.ok((rule.from ?? []).length > 0, `rule ${i}: an empty "from" would admit every source`);
    t.same(rule.ports, [{ protocol: 'TCP', port }], `rule ${i}: TCP ${port} only`);
    for (const peer of rule.from ?? []) {
      if (peer.ipBlock !== undefined) {
        t.notOk(['0.0.0.0/0', '::/0'].includes(peer.ipBlock.cidr), `rule ${i}: not open to the world`);
      } else {
        t.ok(peer.namespaceSelector?.matchLabels !== undefined && Object.keys(peer.namespaceSelector.matchLabels).length > 0, `rule ${i}: a namespace named by label, not all namespaces`);
        t.equal(peer.podSelector, undefined, `rule ${i}: no pod selector widening it`);
      }
    }
  }
  t.equal(rules[0]!.from![0]!.ipBlock?.cidr, '192.0.2.0/24', 'shipped with TEST-NET-1, a range that matches nothing until the operator sets it');
});
