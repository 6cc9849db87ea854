// Runs the code examples of the package READMEs against installed tarballs, as a new user would
// copy them: every ```ts / ```js block, in package order, in one working folder (so the sample
// README loads what the train README's example trained). The folder holds `input.txt`, a few
// hundred kB of generated text, for the examples that read "your" text. A block is skipped only
// when the line before its fence says why: <!-- example: not run (needs a GPU) -->
//
//   node scripts/readme-examples.mjs <app-dir-with-tarballs-installed> [package-dir ...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
/** Dependency order: each README may use what an earlier one wrote. */
export const README_ORDER = ['tensor-gpu', 'tokenizer-bpe', 'transformer', 'train', 'sample', 'peft', 'align', 'quant', 'infer'];

/**
 * The runnable code blocks of a README.
 *
 *   extractExamples('```ts\nconsole.log(1)\n```')  // [{ line: 1, lang: 'ts', code: 'console.log(1)\n' }]
 */
export function extractExamples(markdown) {
  const lines = markdown.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`unclosed code fence at line ${i + 1}`);
    const skip = /<!--\s*example:\s*not run\s*\((.+)\)\s*-->/.exec(lines[i - 1] ?? '');
    if (!skip) out.push({ line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join('\n') + '\n' });
    i = end;
  }
  return out;
}

/** Runs every example; returns the number run. Throws with the failing block's output. */
export function runReadmeExamples(app, pkgDirs, { generatedText, timeoutMs = 600_000 } = {}) {
  const work = join(app, 'readme-examples');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'input.txt'), generatedText);
  let n = 0;
  for (const dir of pkgDirs) {
    const readme = join(dir, 'README.md');
    const examples = extractExamples(readFileSync(readme, 'utf8'));
    for (const ex of examples) {
      const js = ts.transpileModule(ex.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = join(work, `example-${n}.mjs`);
      writeFileSync(file, js);
      const where = `${readme.slice(root.length + 1)}:${ex.line}`;
      const t0 = performance.now();
      try {
        execFileSync(process.execPath, [file], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, encoding: 'utf8' });
      } catch (e) {
        throw new Error(`README example ${where} failed:\n${String(e.stdout ?? '').slice(-2000)}${String(e.stderr ?? e.message).slice(-4000)}`);
      }
      console.log(`README example ${where} ran (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      n++;
    }
  }
  return n;
}
