/**
 * The Dockerfile, checked statically (no Docker engine here): multi-stage on Node 24, a build stage that
 * bundles the command (scripts/build.ts), a runtime stage with only the bundle and a numeric non-root user,
 * and — computed from the import graph of bin/pullgate.ts — every source folder the command needs is copied
 * into the build stage and every package it imports is a production dependency. The bundle itself is built
 * here into a temp dir: it must leave nothing but Node built-ins to load at run time (the runtime stage has
 * no node_modules), and it must run a command. The failure this prevents: an image that builds fine and dies
 * on its first `import` in the cluster.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './rendered.ts';
import { buildBundle, DAEMONSET_NODE_OPTIONS, IMAGE_ENV, IMAGE_NODE_FLAGS } from '../../scripts/build.ts';
import { runCommand } from '../harness/processes.ts';

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

t.test('multi-stage, Node 24, a build stage, only the bundle in the runtime image, non-root', async (t) => {
  const stages = dockerfile.match(/^FROM\s+\S+/gm) ?? [];
  t.ok(stages.length >= 2, 'multi-stage');
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24-/m, 'Node 24 base');
  t.match(dockerfile, /^FROM \$\{NODE_IMAGE\} AS build$/m, 'a build stage');
  t.match(dockerfile, /npm ci --ignore-scripts/, 'locked dependencies, no install scripts');
  t.match(dockerfile, /^RUN node scripts\/build\.ts$/m, 'the bundle is built with the base image\'s Node');
  t.same([...dockerfile.matchAll(/^COPY --from=(\S+) (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`), ['build /app/dist'], 'only dist/ comes from the build stage');
  t.notMatch(dockerfile, /node_modules \.\/node_modules/, 'no node_modules in the runtime image');
  const user = dockerfile.match(/^USER\s+(\d+):(\d+)$/m);
  t.ok(user !== null && Number(user[1]) > 0, 'numeric non-root USER (kubelet can verify runAsNonRoot)');
  t.match(dockerfile, new RegExp(`^ENTRYPOINT ${JSON.stringify(['node', ...IMAGE_NODE_FLAGS, '/app/dist/pullgate.mjs']).replace(/[[\]]/g, '\\$&').replace(/,/g, ', ')}$`, 'm'), 'runs the bundle with the measured V8 flags');
  t.match(dockerfile, /rm -rf \/usr\/local\/lib\/node_modules\/npm/, 'no package manager in the runtime image');
  // The image must run what the benches measured (bench/image-gate.ts, bench/footprint.ts): the same malloc tunables.
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env = new Map([...runtime.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).map((kv) => kv.split('=') as [string, string])));
  for (const [name, value] of Object.entries(IMAGE_ENV)) t.equal(env.get(name), value, `runtime stage sets ${name}=${value}`);
});

t.test('everything bin/pullgate.ts imports is in the build stage', async (t) => {
  const { files, packages } = importGraph(path.join(ROOT, 'bin/pullgate.ts'));
  const copied = new Set([...dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)].map((m) => m[1]!));
  const folders = new Set([...files].map((f) => path.relative(ROOT, f).split(path.sep)[0]!));
  t.ok(folders.has('cli') && folders.has('proxy'), `import graph: ${files.size} files`);
  t.ok(copied.has('scripts'), 'scripts/ (the build and its shims) is copied');
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
  // The benches run the gate with these (bench/image-gate.ts): what they measured is what the pod runs.
  const nodeOptions = [...daemonset.matchAll(/name: NODE_OPTIONS, value: "([^"]*)"/g)].map((m) => m[1]);
  t.same(nodeOptions, [DAEMONSET_NODE_OPTIONS], 'the gate container\'s NODE_OPTIONS are DAEMONSET_NODE_OPTIONS');
});

t.test('the bundle needs nothing but Node built-ins at run time, and runs a command', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pullgate-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'dist');
  const built = await buildBundle(out);
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  t.same(built.external.filter((spec) => !builtins.has(spec)), [], 'every import left to run time is a Node built-in');
  // `hosts` loads the config loader (YAML) and the hosts.toml writer and writes a file: a real command.
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ registries: [{ host: '127.0.0.1:5999', endpoint: 'http://127.0.0.1:5999' }], notation: { configDir: './notation' } }));
  const r = await runCommand(process.execPath, [...IMAGE_NODE_FLAGS, path.join(out, 'pullgate.mjs'), 'hosts', '--config', config, '--dir', path.join(dir, 'certs.d')], 30_000);
  t.equal(r.code, 0, r.stderr);
  t.match(readFileSync(path.join(dir, 'certs.d/127.0.0.1:5999/hosts.toml'), 'utf8'), /capabilities = \["pull", "resolve"\]/);
});

t.test('the bundle\'s stand-ins for modules loaded from inside packages give what those packages read', async (t) => {
  const require = createRequire(import.meta.url);
  // undici's client-h2.js destructures ten constants from node:http2 when it loads (scripts/bundle-shims/).
  const h2 = require('../../scripts/bundle-shims/http2-for-undici.cjs') as { constants: Record<string, unknown>; connect: unknown };
  const real = (await import('node:http2')).constants as unknown as Record<string, unknown>;
  const source = readFileSync(path.join(ROOT, 'node_modules/undici/lib/dispatcher/client-h2.js'), 'utf8');
  const read = /const \{\s*constants: \{([^}]*)\}\s*\} = http2/.exec(source)?.[1]?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  t.ok(read.length >= 10, `undici reads ${read.length} constants: ${read.join(', ')}`);
  for (const name of read) t.equal(h2.constants[name], real[name], `${name} is node:http2's value`);
  t.equal(typeof h2.connect, 'function', 'connect() loads the real module when a server negotiates h2');
  // prom-client's processCpuTotal.js reads trace and context from @opentelemetry/api, only for exemplars.
  const otel = require('../../scripts/bundle-shims/otel-api-for-prom-client.cjs') as Record<string, unknown>;
  const api = require('@opentelemetry/api') as Record<string, unknown>;
  t.equal(otel.trace, api.trace, 'trace is the real API\'s');
  t.equal(otel.context, api.context, 'context is the real API\'s');
  const cpu = readFileSync(path.join(ROOT, 'node_modules/prom-client/lib/metrics/processCpuTotal.js'), 'utf8');
  t.same([...new Set(cpu.match(/OtelApi\.\w+/g))].sort(), ['OtelApi.context', 'OtelApi.trace'], 'and prom-client reads nothing else from it');
});
