/**
 * Every object of every rendered target is valid against the Kubernetes schemas (kubernetes-models, plus the
 * prometheus-operator and cert-manager CRD models) and has no field the API does not know (schemas.ts).
 */
import t from 'tap';
import { TARGETS, find, rendered } from './rendered.ts';
import { unknownFieldErrors, validateWithModel } from './schemas.ts';

t.test('every object validates against its schema', async (t) => {
  for (const target of TARGETS) {
    for (const o of rendered(target)) {
      await t.resolves(validateWithModel(o), `${target}: ${o.kind}/${o.metadata.name}`);
    }
  }
});

t.test('no unknown fields anywhere', async (t) => {
  const all = TARGETS.flatMap((target) => rendered(target));
  t.same(unknownFieldErrors(all), [], `${all.length} objects type-checked against their API interfaces`);
});

t.test('the checks catch what they are for', async (t) => {
  const ds = find(rendered('daemonset'), 'DaemonSet', 'pullgate');
  const typo = structuredClone(ds);
  typo.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true;
  t.match(unknownFieldErrors([typo]), [/DaemonSet\/pullgate: .*readOnlyRootFilesytem/], 'a misspelt field is reported');
  const wrongType = structuredClone(ds);
  wrongType.spec.template.spec.containers[0].ports[0].containerPort = 'mirror';
  await t.rejects(validateWithModel(wrongType), /containerPort must be integer/, 'a wrong type is reported');
  const webhook = structuredClone(find(rendered('daemonset'), 'ValidatingWebhookConfiguration', 'pullgate'));
  delete webhook.webhooks[0].sideEffects;
  await t.rejects(validateWithModel(webhook), /sideEffects/, 'a missing required field is reported');
});
