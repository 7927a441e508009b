/**
 * `npm run build`: bundles the `pullgate` command into dist/ as plain JavaScript for the container image.
 *
 * Why: run from the TypeScript sources, `serve` loads ~600 modules and Node strips their types at start-up
 * (amaro, a WebAssembly build of swc), which costs resident memory and start-up time on every node
 * (issue 16; bench/footprint.ts measures both). The bundle is what the Dockerfile runs; tests and
 * `npm start` still run the sources, so nothing in `npm test` depends on this step.
 *
 * Code splitting keeps each command's modules in their own chunks, so the `hosts` init container and a
 * usage error still load only what they need (cli/main.ts imports each command when it runs). All output
 * stays flat in dist/: cli/usage.ts finds package.json at `../package.json` from its own module URL.
 */
import { build, type Plugin } from 'esbuild';
import { rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = `${ROOT}dist`;

const BUILTIN = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Node built-ins are loaded with require(), not import. An ESM import of a built-in makes Node build its ES
 * module facade, which reads every export, lazy getters included: `import 'node:http'` thereby loads Node's
 * own copy of undici (for the http module's WebSocket export) — about 16 MB of RSS and 90 ms measured here,
 * for code the gate never calls. require() returns the module object and leaves its lazy getters alone.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) => {
      if (!BUILTIN.has(args.path)) return undefined;
      // The require() in the stub itself stays a plain external require of the built-in.
      if (args.kind === 'require-call' || args.kind === 'require-resolve') return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/**
 * Packages whose index loads far more than pullgate uses; imports of them from our own sources are pointed at
 * a stand-in (scripts/bundle-shims/) that loads only the modules we use. Imports from inside node_modules are
 * left alone.
 */
const SHIMS: Readonly<Record<string, string>> = {
  undici: `${ROOT}scripts/bundle-shims/undici.cjs`,
  'prom-client': `${ROOT}scripts/bundle-shims/prom-client.cjs`,
};

/** Imports made from inside a package, pointed at a stand-in: [what, the importing file, the stand-in]. */
const INNER_SHIMS: readonly (readonly [string, string, string])[] = [
  ['node:http2', '/node_modules/undici/lib/dispatcher/client-h2.js', `${ROOT}scripts/bundle-shims/http2-for-undici.cjs`],
  ['@opentelemetry/api', '/node_modules/prom-client/lib/metrics/processCpuTotal.js', `${ROOT}scripts/bundle-shims/otel-api-for-prom-client.cjs`],
];

/** An esbuild filter matching exactly these specifiers (derived, so a new shim needs one entry, not two). */
function exactly(specs: Iterable<string>): RegExp {
  return new RegExp(`^(?:${[...specs].map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
}

const slimPackages: Plugin = {
  name: 'slim-packages',
  setup(b) {
    b.onResolve({ filter: exactly(Object.keys(SHIMS)) }, (args) => {
      if (args.importer.includes('/node_modules/') || args.importer.includes('/bundle-shims/')) return undefined;
      return { path: SHIMS[args.path]! };
    });
    // Each stand-in says why: a module loaded at start-up for a path pullgate never takes.
    b.onResolve({ filter: exactly(INNER_SHIMS.map(([spec]) => spec)) }, (args) => {
      const shim = INNER_SHIMS.find(([spec, importer]) => spec === args.path && args.importer.endsWith(importer));
      return shim === undefined ? undefined : { path: shim[2] };
    });
  },
};

/**
 * The V8 flags the container image runs the bundle with (Dockerfile ENTRYPOINT; bench/footprint.ts measures
 * with them). A 1 MiB semi-space keeps the young generation small: the gate allocates little that lives long
 * and blob bytes are off-heap Buffers; measured, it trims ~2.5 MiB of idle RSS and costs no throughput. The
 * old-space cap is the DaemonSet's (NODE_OPTIONS), sized there against the verified-manifest cache.
 */
export const IMAGE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * glibc malloc tunables the image sets (Dockerfile ENV; the benches run the gate with them, bench/image-gate.ts
 * and bench/footprint.ts). Why, measured with the 10-minute soak (bench/soak.ts, README § soak): without them RSS climbed from
 * 106.7 to 118.2 MiB after the warm-up and stayed at its high-water mark, though the V8 heap and Buffers were
 * flat. The blob splicer's 256 KiB read slots are the cause: glibc serves a block that large with mmap at
 * first, but the first free of one raises its "dynamic mmap threshold" (mallopt(3), M_MMAP_THRESHOLD) above
 * 256 KiB, so later slots come from the brk heap, where a freed slot between live blocks is never returned.
 * A fixed threshold of 128 KiB keeps every slot (and any large body) in its own mapping, given back when freed;
 * two arenas instead of 8 × cores stop libuv's and V8's worker threads each keeping a heap of their own.
 * Together: RSS 90.3 → 97.1 MiB over the same run, following the Buffers alive at the moment, and ~0.5 MiB
 * less at idle.
 */
export const IMAGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * What the DaemonSet adds (NODE_OPTIONS in daemonset/base/node-daemonset.yaml, checked by
 * test/daemonset/dockerfile.test.ts): the old-space cap, sized there against the verified-manifest cache.
 */
export const DAEMONSET_NODE_OPTIONS = '--max-old-space-size=256';

export interface BuildResult {
  readonly summary: string;
  /** Every import the output files leave to Node at run time (must be built-ins only). */
  readonly external: readonly string[];
}

export async function buildBundle(outdir: string = OUT): Promise<BuildResult> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { pullgate: 'bin/pullgate.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    // Dependencies are bundled too: the image then needs no node_modules at all.
    packages: 'bundle',
    // Some dependencies are CommonJS and call require() for Node built-ins; ESM output has no require.
    banner: { js: "import { createRequire as __pullgateRequire } from 'node:module'; const require = __pullgateRequire(import.meta.url);" },
    // Names stay readable in stack traces and logs (the image is not size-bound by a few hundred KiB).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'linked',
    sourcemap: false,
    logLevel: 'warning',
    metafile: true,
    plugins: [slimPackages, builtinsByRequire],
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  const external = new Set<string>();
  for (const [, out] of outputs) for (const imp of out.imports) if (imp.external) external.add(imp.path);
  const inputs = Object.keys(result.metafile.inputs).length;
  return { summary: `${outdir}/pullgate.mjs: ${inputs} source files bundled into ${outputs.length} files`, external: [...external].sort() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildBundle().then(
    (r) => process.stdout.write(`${r.summary}\n`),
    (err: unknown) => {
      process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
