/**
 * Issue #16: `pullgate serve` must idle at ≤ 64 MiB RSS, and loading @peculiar/asn1-schema and its family (their
 * schema classes run decorators at load) cost ~2 MiB of heap at start only because the certificate parser, the
 * signature helpers and the CRL parser imported them. They decode with the DER reader now; this keeps it so.
 * Two views: the static import graph of the three entry points (what a bundler pulls in with them), and the
 * modules a fresh Node process really resolves when it imports them (what loads at start). The OCSP codec and the
 * trust-server client are imported on first use (serve loads their callers at start).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(new URL('../../..', import.meta.url).pathname);
const ENTRIES = ['pki/certificate.ts', 'pki/signature.ts', 'pki/crl.ts'];
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;
const SCHEMA_PACKAGE = /^(?:@peculiar\/|asn1js$|pvtsutils$|pvutils$)/;

/** Local files reachable from `entry` by run-time imports, and the bare packages they import, with an importer. */
function importGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [path.join(ROOT, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (/^(?:import|export)\s+type\s/.test(m[0])) continue; // erased at run time
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, path.relative(ROOT, file));
      }
    }
  }
  return { files, packages };
}

t.test('the static import graph of the certificate, signature and CRL parsers has no ASN.1 schema package', async (t) => {
  for (const entry of ENTRIES) {
    const { files, packages } = importGraph(entry);
    t.ok(files.has(path.join(ROOT, 'pki/der.ts')), `${entry}: the walk reaches the DER reader (${files.size} files)`);
    const offending = [...packages].filter(([name]) => SCHEMA_PACKAGE.test(name)).map(([name, from]) => `${name} (imported by ${from})`);
    t.same(offending, [], `${entry} reaches no @peculiar/* or asn1js package`);
  }
});

t.test('a fresh Node process importing them resolves no ASN.1 schema module', async (t) => {
  // module.registerHooks (Node ≥ 22.15) sees every resolution, including those inside node_modules.
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.push(r.url); return r; } });
    for (const f of ${JSON.stringify(ENTRIES)}) await import(new URL(f, ${JSON.stringify(`file://${ROOT}/`)}).href);
    process.stdout.write(JSON.stringify(seen));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const urls = JSON.parse(out) as string[];
  t.ok(urls.some((u) => u.endsWith('/pki/der.ts')), `the hook saw the imports (${urls.length} resolutions)`);
  t.same(urls.filter((u) => /\/node_modules\/(?:@peculiar\/|asn1js\/|pvtsutils\/|pvutils\/)/.test(u)), [], 'nothing from @peculiar/*, asn1js, pvtsutils or pvutils');
});

t.test('the OCSP codec, the RFC 3161 verifier and the trust-server client load on first use, not with serve\'s modules', async (t) => {
  // serve imports these at start; the OCSP codec (with @peculiar/asn1-ocsp) is imported by the first OCSP check,
  // the timestamp verifier (@peculiar/asn1-tsp) by the first timestamp verified, the trust-server client
  // (node:tls for its CA bundle) when a policy names a trust server.
  const lazy = ['verifiers/notation/verifier/verify-signature.ts', 'verifiers/notation/verifier/ocsp-revocation.ts', 'registry/ocsp-source.ts', 'cli/trust-servers.ts'];
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.push(r.url); return r; } });
    for (const f of ${JSON.stringify(lazy)}) await import(new URL(f, ${JSON.stringify(`file://${ROOT}/`)}).href);
    process.stdout.write(JSON.stringify(seen));`;
  const urls = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })) as string[];
  t.ok(urls.some((u) => u.endsWith('/pki/ocsp-errors.ts')), `the hook saw the imports (${urls.length} resolutions)`);
  t.same(urls.filter((u) => /\/pki\/ocsp\.ts$|\/timestamp\/verify\.ts$|\/registry\/notary-server\.ts$|^node:(?:tls|https)$|\/node_modules\/(?:@peculiar\/|asn1js\/)/.test(u)), [], 'no OCSP codec, timestamp verifier, trust-server client, TLS or ASN.1 schema module');
});
