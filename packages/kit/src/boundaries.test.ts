// The repo's import boundaries (see boundaries/check.ts for the rules), checked on the real tree,
// and first on a small tree written to a temp folder that breaks every rule once, so this test is
// known to fail when a boundary is crossed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBoundaries } from './boundaries/check.js';
import { importsOf } from './boundaries/imports.js';
import { repoRoot } from './repo-root.js';

/** Writes `files` (path → text; objects become JSON) under a fresh temp folder. */
function writeTree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), 'kit-boundaries-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

describe('importsOf', () => {
  it('finds static, side-effect, dynamic and require imports, and knows type-only ones', () => {
    const src = [
      "import a, { b as c } from './a.js';",
      "import type { T } from './t.js';",
      "export { d } from 'd-pkg';",
      "export type { U } from './u.js';",
      "import 'side';",
      "const e = await import('e');",
      "const f = require('f');",
      'import {',
      '  g,',
      "} from '@scope/g/sub';",
    ].join('\n');
    expect(importsOf(src)).toEqual([
      { spec: './a.js', typeOnly: false, line: 1 },
      { spec: './t.js', typeOnly: true, line: 2 },
      { spec: 'd-pkg', typeOnly: false, line: 3 },
      { spec: './u.js', typeOnly: true, line: 4 },
      { spec: 'side', typeOnly: false, line: 5 },
      { spec: 'e', typeOnly: false, line: 6 },
      { spec: 'f', typeOnly: false, line: 7 },
      { spec: '@scope/g/sub', typeOnly: false, line: 10 },
    ]);
  });

  it('ignores comments, template text, regex literals and look-alikes', () => {
    const src = [
      "// import 'in-line-comment';",
      "/* import 'in-block-comment'; */",
      '/**',
      " *   import { x } from 'in-docstring';",
      ' */',
      "const t = `import 'in-template' ${`nested ${'ok'}`} import('also-template')`;",
      "const re = /import 'in-regex'/g, half = 1 / 2, q = /['\"]/;",
      "obj.import('method'); reimport('x'); const s = \"import 'in-string'\";",
      "import real from 'real';",
    ].join('\n');
    expect(importsOf(src).map((r) => r.spec)).toEqual(['real']);
  });
});

describe('checkBoundaries on a tree that breaks every rule once', () => {
  const root = writeTree({
    'package.json': { private: true, workspaces: ['packages/*', 'benchmarks'], devDependencies: { vitest: '1' } },
    'packages/a/package.json': {
      name: '@x/a',
      exports: { '.': './dist/index.js', './package.json': './package.json' },
      dependencies: { dep: '1' },
      devDependencies: { devdep: '1', '@x/b': '0' },
    },
    'packages/a/src/index.ts': "import { lib } from './lib.js';\nexport * from './leaks.js';\nexport { lib };\n",
    'packages/a/src/leaks.ts': "export { helper } from './testing/helper.js';\n",
    'packages/a/src/testing/helper.ts': "import 'devdep';\nexport const helper = 1;\n",
    'packages/a/src/lib.ts': "import 'dep';\nimport fs from 'node:fs';\nimport path from 'path';\nimport 'devdep';\nexport const lib = [fs, path];\n",
    'packages/a/src/cycle-a.ts': "import { b } from './cycle-b.js';\nexport const a = 1 + b;\n",
    'packages/a/src/cycle-b.ts': "import { a } from './cycle-a';\nexport const b = () => a;\n",
    'packages/a/src/typed-a.ts': "import type { B } from './typed-b.js';\nexport const a = (x: B) => x;\n",
    'packages/a/src/typed-b.ts': "import { a } from './typed-a.js';\nexport type B = number;\nvoid a;\n",
    'packages/a/src/a.test.ts': [
      "import { describe } from 'vitest';",
      "import 'devdep';",
      "import { x } from '../../b/src/x.js';",
      "import { y } from '@x/b/dist/index.js';",
      "import { z } from '@x/b/package.json';",
      "import 'not-declared';",
      "// import 'commented-out';",
      'const s = `import("in-template")`;',
      'void [describe, x, y, z, s];',
    ].join('\n'),
    'packages/b/package.json': { name: '@x/b', exports: { '.': './dist/index.js' } },
    'packages/b/src/index.ts': "export { x } from './x.js';\n",
    'packages/b/src/x.ts': 'export const x = 1;\n',
    'benchmarks/package.json': { name: 'bench', dependencies: { '@x/a': '0' } },
    'benchmarks/run.mjs': "import { lib } from '@x/a';\nimport '../packages/a/src/lib.ts';\nimport { build } from 'esbuild';\nimport { h } from './lib/h.mjs';\n",
    'benchmarks/lib/h.mjs': 'export const h = 1;\n',
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reports each violation once, and nothing else', () => {
    const found = checkBoundaries(root).map((v) => `${v.rule} ${v.file}:${v.line}`);
    expect(found.sort()).toEqual(
      [
        'relative-cross-package packages/a/src/a.test.ts:3',
        'package-internals packages/a/src/a.test.ts:4',
        'package-internals packages/a/src/a.test.ts:5',
        'undeclared-module packages/a/src/a.test.ts:6',
        'dev-only-in-src packages/a/src/lib.ts:4',
        'index-reaches-test-code packages/a/src/leaks.ts:1',
        'import-cycle packages/a/src/cycle-b.ts:1',
        'relative-cross-package benchmarks/run.mjs:2',
        'undeclared-module benchmarks/run.mjs:3',
      ].sort(),
    );
  });

  it('says what is wrong and what to do', () => {
    const byRule = new Map(checkBoundaries(root).map((v) => [v.rule, v.message]));
    expect(byRule.get('index-reaches-test-code')).toBe(
      'the public surface reaches test code: src/index.ts → src/leaks.ts → src/testing/helper.ts',
    );
    expect(byRule.get('import-cycle')).toBe('import cycle: cycle-a.ts → cycle-b.ts → cycle-a.ts');
    expect(byRule.get('package-internals')).toMatch(/not part of @x\/b's public surface: import '@x\/b'/);
  });
});

describe('the llm-ts repo', () => {
  it('keeps its import boundaries', () => {
    const violations = checkBoundaries(repoRoot()).map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`);
    expect(violations).toEqual([]);
  });
});
