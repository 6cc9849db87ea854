/**
 * The repo's import boundaries, checked over every workspace (see workspace.ts for which files):
 *
 * - `relative-cross-package`: a relative (or absolute) import that leaves the file's own workspace;
 * - `package-internals`: `@llm/x/src/…`, `@llm/x/dist/…` or any subpath the package does not export;
 * - `undeclared-module`: a bare import that the workspace's package.json (any dependency field) and
 *   the root's devDependencies (shared tooling: vitest, typescript…) do not declare;
 * - `dev-only-in-src`: a non-test file of src/ importing a module that is not in `dependencies` or
 *   `peerDependencies` (tests: `*.test.*` and anything under src/testing/);
 * - `index-reaches-test-code`: src/index.ts's import closure (type imports too) reaches test code;
 * - `import-cycle`: a cycle of runtime relative imports among a workspace's own files (DFS;
 *   `import type` is erased, so it makes no cycle).
 *
 * Node builtins (`node:x`, `fs`) are always fine.
 *
 *   checkBoundaries('/work/main')
 *   // → [{ rule: 'import-cycle', file: 'packages/x/src/a.ts', line: 3, message: 'a.ts → b.ts → a.ts' }]
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { importsOf } from './imports.js';
import { resolveRelative } from './resolve-relative.js';
import { readPackageJson, readWorkspaces, type PackageJson, type Workspace } from './workspace.js';

export type BoundaryRule =
  | 'relative-cross-package'
  | 'package-internals'
  | 'undeclared-module'
  | 'dev-only-in-src'
  | 'index-reaches-test-code'
  | 'import-cycle';

export interface Violation {
  rule: BoundaryRule;
  /** Path relative to the repo root, with `/`. */
  file: string;
  line: number;
  message: string;
}

interface Edge {
  target: string;
  typeOnly: boolean;
  line: number;
}

const BUILTINS = new Set(builtinModules);

/** Every violation in the repo at `root`, in a stable order. */
export function checkBoundaries(root: string): Violation[] {
  const rootDev = readPackageJson(root).devDependencies ?? {};
  const workspaces = readWorkspaces(root);
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const out: Violation[] = [];
  const report = (rule: BoundaryRule, file: string, line: number, message: string): void => {
    out.push({ rule, file: relative(root, file).split(sep).join('/'), line, message });
  };
  for (const ws of workspaces) {
    const graph = new Map<string, Edge[]>();
    for (const file of ws.files) {
      const edges: Edge[] = [];
      graph.set(file, edges);
      for (const ref of importsOf(readFileSync(file, 'utf8'))) {
        const { spec, line } = ref;
        if (spec.startsWith('.') || spec.startsWith('/')) {
          const target = resolveRelative(file, spec);
          if (!isInside(ws.dir, target ?? resolve(dirname(file), spec))) {
            report('relative-cross-package', file, line, `'${spec}' reaches outside ${ws.name}: import the package by name`);
          } else if (target !== null) edges.push({ target, typeOnly: ref.typeOnly, line });
          continue;
        }
        const name = packageName(spec);
        if (spec.startsWith('node:') || BUILTINS.has(name)) continue;
        const other = byName.get(name);
        if (other !== undefined && !isExported(other.pkg, spec.slice(name.length))) {
          report('package-internals', file, line, `'${spec}' is not part of ${name}'s public surface: import '${name}'`);
        }
        if (name === ws.name) continue; // a self-reference is the package's own public surface
        if (!declares(ws.pkg, name) && !(name in rootDev)) {
          report('undeclared-module', file, line, `'${name}' is not declared in ${ws.name}'s package.json`);
        } else if (isInside(join(ws.dir, 'src'), file) && !isTestFile(ws, file) && !declaresForRuntime(ws.pkg, name)) {
          report('dev-only-in-src', file, line, `'${name}' is not a dependency or peerDependency of ${ws.name}; only tests (*.test.ts, src/testing/) may use it`);
        }
      }
    }
    checkIndexClosure(ws, graph, report);
    checkCycles(graph, report);
  }
  return out;
}

/** `@scope/name` or `name` of a bare specifier. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel);
}

function isTestFile(ws: Workspace, file: string): boolean {
  return /\.test\.[cm]?[jt]sx?$/.test(file) || isInside(join(ws.dir, 'src', 'testing'), file);
}

function declares(pkg: PackageJson, name: string): boolean {
  return [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies, pkg.optionalDependencies].some((d) => d !== undefined && name in d);
}

function declaresForRuntime(pkg: PackageJson, name: string): boolean {
  return [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies].some((d) => d !== undefined && name in d);
}

/** Whether `subpath` ('' or '/x/y') of a workspace package may be imported. */
function isExported(pkg: PackageJson, subpath: string): boolean {
  if (subpath === '') return true;
  if (/^\/(src|dist)(\/|$)/.test(subpath)) return false;
  const exp = pkg.exports;
  if (exp === undefined || exp === null) return true;
  if (typeof exp !== 'object' || Array.isArray(exp)) return false;
  const keys = Object.keys(exp).filter((k) => k.startsWith('.'));
  return keys.some((k) => {
    const key = k.slice(1);
    if (!key.includes('*')) return key === subpath;
    const [head, tail] = key.split('*') as [string, string];
    return subpath.startsWith(head) && subpath.endsWith(tail) && subpath.length >= head.length + tail.length;
  });
}

type Report = (rule: BoundaryRule, file: string, line: number, message: string) => void;

/** Breadth-first from src/index.ts over relative imports; a test file reached is reported with its chain. */
function checkIndexClosure(ws: Workspace, graph: Map<string, Edge[]>, report: Report): void {
  const index = [...graph.keys()].find((f) => f === join(ws.dir, 'src', 'index.ts'));
  if (index === undefined) return;
  const parent = new Map<string, { from: string; line: number } | null>([[index, null]]);
  const queue = [index];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (isTestFile(ws, file)) {
      const chain: string[] = [];
      for (let f: string | undefined = file; f !== undefined; f = parent.get(f)?.from) chain.unshift(relative(ws.dir, f));
      const via = parent.get(file)!;
      report('index-reaches-test-code', via.from, via.line, `the public surface reaches test code: ${chain.join(' → ')}`);
      continue;
    }
    for (const e of graph.get(file) ?? []) {
      if (parent.has(e.target)) continue;
      parent.set(e.target, { from: file, line: e.line });
      queue.push(e.target);
    }
  }
}

/** Depth-first over runtime edges; each back edge closes a cycle, reported once. */
function checkCycles(graph: Map<string, Edge[]>, report: Report): void {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const e of graph.get(file) ?? []) {
      if (e.typeOnly || !graph.has(e.target)) continue;
      const s = state.get(e.target);
      if (s === undefined) visit(e.target);
      else if (s === 'open') {
        const cycle = stack.slice(stack.indexOf(e.target));
        const key = [...cycle].sort().join('\n');
        if (seen.has(key)) continue;
        seen.add(key);
        const names = [...cycle, e.target].map((f) => relative(dirname(cycle[0]!), f) || f);
        report('import-cycle', file, e.line, `import cycle: ${names.join(' → ')}`);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
}
