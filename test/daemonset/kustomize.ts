/**
 * Renders daemonset/ the way `kubectl kustomize` does, for the subset of kustomize the manifests use, so the
 * tests run where no usable kubectl is installed. Where one is (kubectlStatus), the tests render with both and
 * require identical objects, so this renderer cannot drift from real kustomize; where none is, render.test.ts
 * says why and counts each comparison it could not make as a skip.
 * Anything outside the subset throws: a renderer that silently skipped a field would test the wrong YAML.
 *
 * Subset: resources (files, directories), generatorOptions {disableNameSuffixHash: true, labels},
 * configMapGenerator / secretGenerator {name, namespace, behavior, files, literals, type, options.labels},
 * images {name, newName, newTag, digest}, patches (inline JSON6902 with a target).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export type K8sObject = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources', 'generatorOptions', 'configMapGenerator', 'secretGenerator', 'images', 'patches']);
const GENERATOR_KEYS = new Set(['name', 'namespace', 'behavior', 'files', 'literals', 'type', 'options']);

export const objectKey = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const k = parseYaml(readFileSync(file, 'utf8')) as Record<string, any>;
  for (const key of Object.keys(k)) if (!KUSTOMIZATION_KEYS.has(key)) throw new Error(`${file}: "${key}" is outside the renderer's subset`);
  if ((k.kind ?? 'Kustomization') !== 'Kustomization') throw new Error(`${file}: kind ${k.kind} is not supported`);

  const objects: K8sObject[] = [];
  for (const entry of (k.resources ?? []) as string[]) {
    const target = path.resolve(dir, entry);
    if (statSync(target).isDirectory()) objects.push(...renderKustomization(target));
    else objects.push(...parseAllDocuments(readFileSync(target, 'utf8')).map((d) => d.toJS() as K8sObject).filter((o) => o !== null));
  }
  for (const o of objects) {
    const clash = objects.filter((p) => objectKey(p) === objectKey(o));
    if (clash.length > 1) throw new Error(`${file}: ${objectKey(o)} is defined twice`);
  }

  const options = (k.generatorOptions ?? {}) as { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
  const generators = [...((k.configMapGenerator ?? []) as any[]).map((g) => ['ConfigMap', g] as const), ...((k.secretGenerator ?? []) as any[]).map((g) => ['Secret', g] as const)];
  if (generators.length > 0 && options.disableNameSuffixHash !== true) throw new Error(`${file}: name suffix hashes are outside the renderer's subset`);
  for (const [kind, g] of generators) applyGenerator(dir, objects, kind, g, options.labels ?? {});

  for (const image of (k.images ?? []) as any[]) applyImage(objects, image);
  for (const patch of (k.patches ?? []) as any[]) applyPatch(objects, patch, file);
  return objects;
}

function applyGenerator(dir: string, objects: K8sObject[], kind: 'ConfigMap' | 'Secret', g: Record<string, any>, commonLabels: Record<string, string>): void {
  for (const key of Object.keys(g)) if (!GENERATOR_KEYS.has(key)) throw new Error(`${kind} generator ${g.name}: "${key}" is outside the renderer's subset`);
  const data: Record<string, string> = {};
  for (const spec of (g.files ?? []) as string[]) {
    const [key, rel] = spec.includes('=') ? (spec.split('=', 2) as [string, string]) : [path.basename(spec), spec];
    const text = readFileSync(path.resolve(dir, rel));
    data[key] = kind === 'Secret' ? text.toString('base64') : text.toString('utf8');
  }
  for (const literal of (g.literals ?? []) as string[]) {
    const [key, value] = literal.split('=', 2) as [string, string];
    data[key] = kind === 'Secret' ? Buffer.from(value).toString('base64') : value;
  }
  const labels = { ...commonLabels, ...((g.options?.labels ?? {}) as Record<string, string>) };
  const behavior = (g.behavior ?? 'create') as string;
  const existing = objects.find((o) => o.kind === kind && o.metadata.name === g.name && (o.metadata.namespace ?? '') === (g.namespace ?? ''));
  if (behavior === 'create') {
    if (existing !== undefined) throw new Error(`${kind} ${g.name} already exists; use behavior: replace or merge`);
    const metadata: K8sObject['metadata'] = { name: g.name as string, ...(g.namespace !== undefined ? { namespace: g.namespace as string } : {}), ...(Object.keys(labels).length > 0 ? { labels } : {}) };
    const created: K8sObject = { apiVersion: 'v1', kind, metadata };
    created.data = data; // kustomize writes `data: {}` for an empty generator too
    if (kind === 'Secret') created.type = g.type ?? 'Opaque';
    objects.push(created);
    return;
  }
  if (existing === undefined) throw new Error(`${kind} ${g.name}: behavior ${behavior} needs an existing object`);
  if (behavior !== 'replace' && behavior !== 'merge') throw new Error(`${kind} ${g.name}: behavior ${behavior} is not supported`);
  existing.data = behavior === 'replace' ? data : { ...(existing.data ?? {}), ...data };
  existing.metadata.labels = { ...(existing.metadata.labels ?? {}), ...labels };
}

/** kustomize's image transformer: every container image whose name matches, in every pod spec. */
function applyImage(objects: K8sObject[], image: { name: string; newName?: string; newTag?: string; digest?: string }): void {
  const rewrite = (ref: string): string => {
    const name = ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
    if (name !== image.name) return ref;
    const newName = image.newName ?? name;
    if (image.digest !== undefined) return `${newName}@${image.digest}`;
    if (image.newTag !== undefined) return `${newName}:${image.newTag}`;
    return ref.replace(name, newName);
  };
  for (const o of objects) {
    for (const spec of podSpecs(o)) {
      for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
        for (const c of (spec[list] ?? []) as { image?: string }[]) if (c.image !== undefined) c.image = rewrite(c.image);
      }
    }
  }
}

export function podSpecs(o: K8sObject): Record<string, any>[] {
  if (o.kind === 'Pod') return [o.spec];
  if (o.kind === 'CronJob') return [o.spec?.jobTemplate?.spec?.template?.spec].filter(Boolean);
  return [o.spec?.template?.spec].filter(Boolean);
}

function applyPatch(objects: K8sObject[], patch: { target?: Record<string, string>; patch?: string }, file: string): void {
  if (patch.target === undefined || typeof patch.patch !== 'string') throw new Error(`${file}: only inline JSON6902 patches with a target are supported`);
  const ops = parseYaml(patch.patch) as { op: string; path: string; value?: unknown }[];
  if (!Array.isArray(ops)) throw new Error(`${file}: a strategic-merge patch is outside the renderer's subset`);
  const t = patch.target;
  const matches = objects.filter((o) => {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    return (t.kind === undefined || t.kind === o.kind) && (t.name === undefined || t.name === o.metadata.name) && (t.namespace === undefined || t.namespace === o.metadata.namespace) && (t.group === undefined || t.group === group) && (t.version === undefined || t.version === version);
  });
  if (matches.length === 0) throw new Error(`${file}: patch target ${JSON.stringify(t)} matches nothing`);
  for (const o of matches) for (const op of ops) applyOp(o, op);
}

function applyOp(doc: Record<string, any>, op: { op: string; path: string; value?: unknown }): void {
  const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop()!;
  let parent: any = doc;
  for (const p of parts) {
    parent = Array.isArray(parent) ? parent[Number(p)] : parent?.[p];
    if (parent === undefined) throw new Error(`JSON patch path ${op.path} does not exist`);
  }
  const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : undefined;
  switch (op.op) {
    case 'add':
      if (index !== undefined) (parent as unknown[]).splice(index, 0, op.value);
      else parent[last] = op.value;
      return;
    case 'replace':
      if (!(Array.isArray(parent) ? index! < parent.length : last in parent)) throw new Error(`JSON patch replace: ${op.path} does not exist`);
      parent[index ?? last] = op.value;
      return;
    case 'remove':
      if (index !== undefined) (parent as unknown[]).splice(index, 1);
      else delete parent[last];
      return;
    default:
      throw new Error(`JSON patch op ${op.op} is outside the renderer's subset`);
  }
}

/** Is there a kubectl whose `kubectl kustomize` the tests can compare with, and if not, why not. */
export type KubectlStatus = { usable: true; file: string; version: string } | { usable: false; reason: string };

// Debian 12's only kubectl is kubernetes-client 1.20, which embeds kustomize v2.0.3: it rejects directories in
// `resources`, inline `patches` and generator `options`, all of which daemonset/ uses. kubectl 1.21 moved to
// kustomize v4 (kubernetes CHANGELOG-1.21), the oldest we accept; there is no newer Debian package to install.
const MIN_MINOR = 21;
let status: KubectlStatus | undefined;

/** Decided once per process: the kubectl that execFileSync finds on PATH, asked for its own version. */
export function kubectlStatus(): KubectlStatus {
  status ??= probeKubectl();
  return status;
}

function probeKubectl(): KubectlStatus {
  const file = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'kubectl')).find((f) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (file === undefined) return { usable: false, reason: 'kubectl is not on PATH (no Debian 12 package provides a kubectl with kustomize >= v4)' };
  let info: { clientVersion?: { major?: string; minor?: string; gitVersion?: string }; kustomizeVersion?: string };
  try {
    info = JSON.parse(execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (err) {
    return { usable: false, reason: `${file} version --client failed: ${(err as Error).message.split('\n')[0]}` };
  }
  const version = info.clientVersion?.gitVersion ?? 'unknown';
  const minor = Number.parseInt(info.clientVersion?.minor ?? '', 10);
  if (info.clientVersion?.major !== '1' || !(minor >= MIN_MINOR)) {
    return { usable: false, reason: `${file} is kubectl ${version}; kubectl kustomize needs kubectl >= 1.${MIN_MINOR} (kustomize >= v4) for daemonset/` };
  }
  return { usable: true, file, version: `${version}${info.kustomizeVersion !== undefined ? `, kustomize ${info.kustomizeVersion}` : ''}` };
}

/**
 * `kubectl kustomize DIR` when a usable kubectl is installed (kubectlStatus), else undefined. A usable kubectl
 * that fails to render throws: that is a broken kustomization, not a missing tool.
 */
export function kubectlKustomize(dir: string): K8sObject[] | undefined {
  const kubectl = kubectlStatus();
  if (!kubectl.usable) return undefined;
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
}
