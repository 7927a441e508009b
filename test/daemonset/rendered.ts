/**
 * The rendered manifests the property tests look at: `kubectl kustomize` output when kubectl is installed
 * (what an operator's `kubectl apply -k` sends), otherwise the project's renderer (kustomize.ts), which
 * render.test.ts holds equal to kubectl wherever both exist.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { kubectlKustomize, renderKustomization, type K8sObject } from './kustomize.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TARGETS = ['daemonset', 'daemonset/overlays/pinning', 'daemonset/overlays/audit', 'daemonset/monitoring', 'daemonset/uninstall', 'daemonset/network-policy'] as const;
export type Target = (typeof TARGETS)[number];

const cache = new Map<string, K8sObject[]>();

export function rendered(target: Target): K8sObject[] {
  let objects = cache.get(target);
  if (objects === undefined) {
    const dir = path.join(ROOT, target);
    objects = kubectlKustomize(dir) ?? renderKustomization(dir);
    cache.set(target, objects);
  }
  return structuredClone(objects);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind}/${name} in the rendered manifests`);
  return o;
}

/** Does `selector` (matchLabels) select pods labelled `labels`? */
export function selects(selector: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string> | undefined): boolean {
  const want = Object.entries(selector?.matchLabels ?? {});
  return want.length > 0 && want.every(([k, v]) => labels?.[k] === v);
}
