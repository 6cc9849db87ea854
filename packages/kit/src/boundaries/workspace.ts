/**
 * The workspaces of a monorepo (the root package.json's `workspaces`: `dir/*` or `dir`) with their
 * package.json and source files: everything under src/ when there is one (packages, apps), else
 * every JS/TS file of the workspace (benchmarks), never node_modules, dist or results.
 *
 *   readWorkspaces('/work/main').map((w) => w.name)   // → ['@llm/align', …, '@llm/benchmarks']
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageJson {
  name?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  workspaces?: string[];
}

export interface Workspace {
  /** Absolute directory. */
  dir: string;
  name: string;
  pkg: PackageJson;
  /** Absolute paths of its source files. */
  files: string[];
}

const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'results']);

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

export function readWorkspaces(root: string): Workspace[] {
  const dirs: string[] = [];
  for (const pattern of readPackageJson(root).workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = join(root, pattern.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const d of readdirSync(parent).sort()) dirs.push(join(parent, d));
    } else dirs.push(join(root, pattern));
  }
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const pkg = readPackageJson(dir);
      const src = join(dir, 'src');
      return { dir, name: pkg.name ?? dir, pkg, files: sourceFiles(existsSync(src) ? src : dir) };
    });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry)) out.push(path);
  }
  return out;
}
