/**
 * The Dockerfile, checked statically (no Docker engine here): multi-stage on Node 24, production
 * dependencies only, a numeric non-root user, and — computed from the import graph of bin/pullgate.ts — every
 * source folder the running command needs is copied and every package it imports is a production dependency.
 * The failure this prevents: an image that builds fine and dies on its first `import` in the cluster.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './rendered.ts';

const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

/** Local files reachable from `entry`, and the bare packages they import (type-only imports excluded). */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      if (/^(?:import|export)\s+type\s/.test(m[0])) continue; // erased at run time
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return { files, packages };
}

t.test('multi-stage, Node 24, production dependencies only, non-root', async (t) => {
  const stages = dockerfile.match(/^FROM\s+\S+/gm) ?? [];
  t.ok(stages.length >= 2, 'multi-stage');
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24-/m, 'Node 24 base');
  t.match(dockerfile, /npm ci --omit=dev --ignore-scripts/, 'production dependencies, no install scripts');
  t.match(dockerfile, /COPY --from=deps \/app\/node_modules/, 'only node_modules from the build stage');
  const user = dockerfile.match(/^USER\s+(\d+):(\d+)$/m);
  t.ok(user !== null && Number(user[1]) > 0, 'numeric non-root USER (kubelet can verify runAsNonRoot)');
  t.match(dockerfile, /ENTRYPOINT \["node", "\/app\/bin\/pullgate\.ts"\]/);
  t.match(dockerfile, /rm -rf \/usr\/local\/lib\/node_modules\/npm/, 'no package manager in the runtime image');
});

t.test('everything bin/pullgate.ts imports at run time is in the image', async (t) => {
  const { files, packages } = importGraph(path.join(ROOT, 'bin/pullgate.ts'));
  const copied = new Set([...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!));
  const folders = new Set([...files].map((f) => path.relative(ROOT, f).split(path.sep)[0]!));
  t.ok(folders.has('cli') && folders.has('proxy'), `import graph: ${files.size} files`);
  for (const folder of folders) t.ok(copied.has(folder), `${folder}/ is copied`);
  for (const name of packages) {
    t.ok(pkg.dependencies[name] !== undefined, `${name} is a production dependency${pkg.devDependencies[name] !== undefined ? ' (it is only a devDependency!)' : ''}`);
  }
  t.ok(packages.has('smol-toml'), 'doctor\'s TOML parser ships');
});

t.test('the DaemonSet runs the image\'s own entrypoint with the config where daemonset/ mounts it', async (t) => {
  t.match(dockerfile, /^CMD \["serve", "--config", "\/etc\/pullgate\/config\/config\.yaml"\]$/m);
  const daemonset = readFileSync(path.join(ROOT, 'daemonset/base/node-daemonset.yaml'), 'utf8');
  t.match(daemonset, /mountPath: \/etc\/pullgate\/config,/);
});
