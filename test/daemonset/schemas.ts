/**
 * Validates rendered objects against the Kubernetes schemas, two ways:
 *  1. kubernetes-models' validators (the API's OpenAPI schemas compiled with ajv; prometheus-operator and
 *     cert-manager CRD schemas from their @kubernetes-models packages): types, required fields, enums.
 *  2. Unknown fields. The OpenAPI schemas do not forbid extra properties, so a typo such as
 *     `readOnlyRootFilesytem` would pass (1) and be silently dropped by the apiserver — the worst kind of
 *     security setting. The same packages ship TypeScript declarations of every field, so each object is
 *     type-checked as an object literal of its interface: TypeScript's excess-property check rejects any
 *     field the API does not have, at any depth.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { K8sObject } from './kustomize.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Module and interface of the model for an apiVersion/kind. */
export function modelModule(o: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  const [group, version] = o.apiVersion.includes('/') ? (o.apiVersion.split('/') as [string, string]) : ['', o.apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`;
  if (group === 'cert-manager.io') return `@kubernetes-models/cert-manager/${group}/${version}/${o.kind}`;
  return group === '' ? `kubernetes-models/${version}/${o.kind}` : `kubernetes-models/${group}/${version}/${o.kind}`;
}

/** (1): throws with the validator's message naming the object and the failing path. */
export async function validateWithModel(o: K8sObject): Promise<void> {
  const mod = (await import(modelModule(o))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (Model === undefined) throw new Error(`${modelModule(o)} has no ${o.kind}`);
  try {
    new Model(o).validate();
  } catch (err) {
    throw new Error(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
  }
}

/** (2): every diagnostic, as "Kind/name: message", for objects type-checked against their interfaces. */
export function unknownFieldErrors(objects: readonly K8sObject[]): string[] {
  const virtual = path.join(ROOT, 'test/daemonset/__rendered_objects__.ts');
  const lines: string[] = [];
  objects.forEach((o, i) => {
    lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o)}';`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError) => (path.resolve(name) === virtual ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, onError));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === virtual || fileExists(name);
  const program = ts.createProgram([virtual], options, host);
  const file = program.getSourceFile(virtual)!;
  return ts.getPreEmitDiagnostics(program, file).map((d) => {
    const line = d.start === undefined ? 0 : file.getLineAndCharacterOfPosition(d.start).line;
    const o = objects[Math.floor(line / 2)];
    return `${o?.kind}/${o?.metadata.name}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n').slice(-2).join(' ')}`;
  });
}
