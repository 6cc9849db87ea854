/**
 * The module specifiers a JS/TS source imports: static `import`/`export … from`, side-effect
 * `import 'x'`, dynamic `import('x')` and `require('x')` with a string literal. Comments,
 * template text, regex literals and other strings' text are ignored (see mask-code.ts).
 *
 *   importsOf("import type { A } from './a.js';\nconst b = await import('b');")
 *   // → [{ spec: './a.js', typeOnly: true, line: 1 }, { spec: 'b', typeOnly: false, line: 2 }]
 */
import { maskCode } from './mask-code.js';

export interface ImportRef {
  spec: string;
  /** `import type …` / `export type … from`: erased at compile time, no runtime edge. */
  typeOnly: boolean;
  /** 1-based line of the specifier. */
  line: number;
}

const PATTERNS: ReadonlyArray<{ re: RegExp; spec: number; type?: number }> = [
  { re: /(?<![\w$.])(?:import|export)(\s+type(?=[\s{*]))?\s*[\w$*{},\s]*?from\s*(['"])([^'"\n]+)\2/g, spec: 3, type: 1 },
  { re: /(?<![\w$.])import\s*(['"])([^'"\n]+)\1/g, spec: 2 },
  { re: /(?<![\w$.])(?:import|require)\s*\(\s*(['"])([^'"\n]+)\1\s*[,)]/g, spec: 2 },
];

export function importsOf(source: string): ImportRef[] {
  const code = maskCode(source);
  const found = new Map<number, ImportRef>(); // by the specifier's offset: overlapping patterns count once
  for (const { re, spec, type } of PATTERNS) {
    for (const m of code.matchAll(re)) {
      const at = m.index! + m[0].lastIndexOf(m[spec]!);
      if (found.has(at)) continue;
      const line = code.slice(0, at).split('\n').length;
      const text = source.slice(at, at + m[spec]!.length); // the mask hides string text: read it back
      found.set(at, { spec: text, typeOnly: type !== undefined && m[type] !== undefined, line });
    }
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, ref]) => ref);
}
