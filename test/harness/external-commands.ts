/**
 * Finds every external command the test suite can start, by reading the source (TypeScript's parser, not
 * regexes): all of test/ plus every module reachable from it or from bin/pullgate.ts (which the tests run) by
 * relative static imports, re-exports and literal dynamic imports — so the bench modules tests import count.
 *
 * A spawn site is a call of a node:child_process function (named, aliased or namespace import), of the harness's
 * runCommand, or of startProcess / startReadyPeer (whose options carry `command:`). Its command is resolved
 * when it is a string literal or process.execPath (node itself); anything else is reported as unresolved for
 * the caller to refuse or allow by name. A module that gets child_process any other way (dynamic import,
 * require) is reported as a problem, because its spawns could not be seen; so is every import() of a computed
 * specifier, which the caller must vouch for.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export type Command = { kind: 'node' } | { kind: 'literal'; name: string } | { kind: 'unresolved'; expr: string };

export interface SpawnSite {
  /** Repository-relative path, with / separators. */
  file: string;
  line: number;
  /** The function called, e.g. `execFileSync` or `startReadyPeer`. */
  via: string;
  command: Command;
  /** The top-level function declaration (or const) the call sits in, and whether the module exports it. */
  enclosing?: { name: string; exported: boolean };
}

/** A dynamic import whose specifier is computed: the scan cannot follow it, so the caller must vouch for it. */
export interface ComputedImport { file: string; line: number; expr: string }

export interface Scan { files: string[]; sites: SpawnSite[]; computedImports: ComputedImport[]; problems: string[] }

const CHILD_PROCESS = new Set(['node:child_process', 'child_process']);
/** First argument is the executable. */
const FILE_FIRST = new Set(['spawn', 'spawnSync', 'execFile', 'execFileSync']);
/** First argument is a shell command line; its first word is the executable. */
const SHELL_LINE = new Set(['exec', 'execSync']);
/** fork() always runs process.execPath. */
const NODE_ONLY = new Set(['fork']);
const HARNESS_FILE_FIRST = new Set(['runCommand']);
const HARNESS_OPTIONS = new Set(['startProcess', 'startReadyPeer']);

/** Every .ts file under `dir` (recursively), skipping node_modules. */
export function tsFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...tsFilesUnder(full));
    } else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Scan `entries` (absolute paths) and everything they reach by relative imports inside `root`. */
export function scanExternalCommands(root: string, entries: readonly string[]): Scan {
  const seen = new Set<string>();
  const queue = [...entries];
  const sites: SpawnSite[] = [];
  const problems: string[] = [];
  const computedImports: ComputedImport[] = [];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = path.relative(root, file).split(path.sep).join('/');
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const { imports, found, computed, trouble } = scanFile(source, rel);
    sites.push(...found);
    computedImports.push(...computed);
    problems.push(...trouble);
    for (const spec of imports) {
      const target = path.resolve(path.dirname(file), spec);
      // Only our own TypeScript: JSON and other assets spawn nothing; packages are not ours to install for.
      if (!target.startsWith(root + path.sep) || target.includes(`${path.sep}node_modules${path.sep}`) || !target.endsWith('.ts')) continue;
      if (!statSync(target, { throwIfNoEntry: false })?.isFile()) {
        problems.push(`${rel}: import ${spec} does not resolve to a file`);
        continue;
      }
      queue.push(target);
    }
  }
  return { files: [...seen].map((f) => path.relative(root, f).split(path.sep).join('/')).sort(), sites, computedImports, problems };
}

function scanFile(source: ts.SourceFile, rel: string): { imports: string[]; found: SpawnSite[]; computed: ComputedImport[]; trouble: string[] } {
  const imports: string[] = [];
  const found: SpawnSite[] = [];
  const computed: ComputedImport[] = [];
  const trouble: string[] = [];
  const named = new Map<string, string>(); // local name -> child_process export
  const namespaces = new Set<string>(); // local names bound to the whole module
  const line = (n: ts.Node): number => source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1;

  for (const stmt of source.statements) {
    if ((ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) && stmt.moduleSpecifier !== undefined && ts.isStringLiteral(stmt.moduleSpecifier)) {
      const spec = stmt.moduleSpecifier.text;
      if (spec.startsWith('.')) imports.push(spec);
      if (!CHILD_PROCESS.has(spec)) continue;
      const clause = ts.isImportDeclaration(stmt) ? stmt.importClause : undefined;
      if (clause === undefined) {
        trouble.push(`${rel}:${line(stmt)}: re-exports child_process; its users cannot be scanned`);
        continue;
      }
      if (clause.name !== undefined) namespaces.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) namespaces.add(bindings.name.text);
      if (bindings !== undefined && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) named.set(el.name.text, (el.propertyName ?? el.name).text);
      }
    }
  }

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        const arg = node.arguments[0];
        if (arg !== undefined && ts.isStringLiteralLike(arg)) {
          if (arg.text.startsWith('.')) imports.push(arg.text);
          if (CHILD_PROCESS.has(arg.text)) trouble.push(`${rel}:${line(node)}: loads child_process dynamically; its spawns cannot be scanned`);
        } else computed.push({ file: rel, line: line(node), expr: node.getText(source) });
      }
      const fn = childProcessFunction(callee, named, namespaces) ?? harnessFunction(callee);
      if (fn !== undefined) found.push({ file: rel, line: line(node), via: fn, command: commandOf(fn, node, source), ...enclosing(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, found, computed, trouble };
}

function childProcessFunction(callee: ts.Expression, named: Map<string, string>, namespaces: Set<string>): string | undefined {
  if (ts.isIdentifier(callee)) return named.get(callee.text);
  if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && namespaces.has(callee.expression.text)) return callee.name.text;
  return undefined;
}

function harnessFunction(callee: ts.Expression): string | undefined {
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
  return name !== undefined && (HARNESS_FILE_FIRST.has(name) || HARNESS_OPTIONS.has(name)) ? name : undefined;
}

function commandOf(fn: string, call: ts.CallExpression, source: ts.SourceFile): Command {
  if (NODE_ONLY.has(fn)) return { kind: 'node' };
  let arg: ts.Expression | undefined = call.arguments[0];
  if (HARNESS_OPTIONS.has(fn)) {
    const options = arg;
    arg = undefined;
    if (options !== undefined && ts.isObjectLiteralExpression(options)) {
      for (const p of options.properties) if (ts.isPropertyAssignment(p) && p.name.getText(source) === 'command') arg = p.initializer;
    }
    if (arg === undefined) return { kind: 'unresolved', expr: options?.getText(source) ?? '(no options)' };
  }
  if (arg === undefined) return { kind: 'unresolved', expr: '(no argument)' };
  if (ts.isStringLiteralLike(arg)) {
    const name = SHELL_LINE.has(fn) ? arg.text.trim().split(/\s+/)[0] ?? '' : arg.text;
    return name === '' ? { kind: 'unresolved', expr: arg.getText(source) } : { kind: 'literal', name };
  }
  if (arg.getText(source) === 'process.execPath' && !SHELL_LINE.has(fn)) return { kind: 'node' };
  return { kind: 'unresolved', expr: arg.getText(source) };
}

/** The top-level declaration a call sits in: a function, or a const initialised with a function. */
function enclosing(node: ts.Node): Pick<SpawnSite, 'enclosing'> {
  let top: ts.Node = node;
  while (top.parent !== undefined && !ts.isSourceFile(top.parent)) top = top.parent;
  const exported = (n: ts.Node): boolean => ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  if (ts.isFunctionDeclaration(top) && top.name !== undefined) return { enclosing: { name: top.name.text, exported: exported(top) } };
  if (ts.isVariableStatement(top)) {
    const decl = top.declarationList.declarations[0];
    if (decl !== undefined && ts.isIdentifier(decl.name)) return { enclosing: { name: decl.name.text, exported: exported(top) } };
  }
  return {};
}
