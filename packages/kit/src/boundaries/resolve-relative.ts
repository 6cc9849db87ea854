/**
 * The file a relative (or absolute) specifier names, TypeScript's way: `./a.js` is `./a.ts` when
 * that exists, an extensionless `./a` tries the source extensions, then `./a/index.*`.
 *
 *   resolveRelative('/r/src/x.ts', './y.js')   // → '/r/src/y.ts' (when it exists), else null
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const JS_TO_TS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];

export function resolveRelative(fromFile: string, spec: string): string | null {
  const base = resolve(dirname(fromFile), spec);
  const ext = /\.[cm]?jsx?$/.exec(base)?.[0];
  const candidates = [
    ...(ext ? (JS_TO_TS[ext] ?? []).map((e) => base.slice(0, -ext.length) + e) : []),
    base,
    ...EXTENSIONS.map((e) => base + e),
    ...EXTENSIONS.map((e) => `${base}/index${e}`),
  ];
  return candidates.find((p) => existsSync(p) && statSync(p).isFile()) ?? null;
}
