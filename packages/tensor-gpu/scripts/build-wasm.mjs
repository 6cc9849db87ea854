#!/usr/bin/env node
// Compiles assembly/matmul.ts with AssemblyScript and writes src/kernels/matmul.wasm.generated.ts.
//
//   node scripts/build-wasm.mjs           # (re)write the generated file
//   node scripts/build-wasm.mjs --check   # exit 1 if the committed file is out of date
//
// The module imports tfjs-wasm's memory and must not touch it except through the pointers it is
// given: stub runtime, no assertions, an abort that does nothing, no exported memory.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = 'assembly/matmul.ts';
const generated = join(pkgDir, 'src/kernels/matmul.wasm.generated.ts');

/** asc flags; kept here so the generated file can quote them. */
export const ASC_FLAGS = [
  '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
  '--importMemory', '--noExportMemory', '--initialMemory', '0',
  '--enable', 'simd', '--converge',
];

/** Compiles assembly/matmul.ts; resolves to the wasm bytes. */
export async function compileMatmulWasm() {
  let binary = null;
  const { error, stderr } = await asc.main([source, '--outFile', 'matmul.wasm', ...ASC_FLAGS], {
    baseDir: pkgDir,
    writeFile(name, contents) {
      if (name.endsWith('.wasm')) binary = contents;
    },
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  if (!binary) throw new Error('asc produced no wasm');
  return binary;
}

/** The text of src/kernels/matmul.wasm.generated.ts for the given wasm bytes. */
export function renderGenerated(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  return [
    '// GENERATED FILE, do not edit. Regenerate with: npm run build:wasm -w @llm/tensor-gpu',
    '// (node packages/tensor-gpu/scripts/build-wasm.mjs), from assembly/matmul.ts with',
    `// asc ${ASC_FLAGS.slice(0, 8).join(' ')}`,
    `//     ${ASC_FLAGS.slice(8).join(' ')}`,
    `// ${bytes.length} bytes of wasm; imports env.memory; exports matmul, packBytes, biasAct.`,
    `export const MATMUL_WASM_BASE64 =\n  '${b64}';`,
    '',
  ].join('\n');
}

async function main() {
  const text = renderGenerated(await compileMatmulWasm());
  if (process.argv.includes('--check')) {
    const current = readFileSync(generated, 'utf8');
    if (current !== text) {
      console.error(`${generated} is out of date: run node scripts/build-wasm.mjs`);
      process.exit(1);
    }
    console.log('matmul.wasm.generated.ts is up to date');
    return;
  }
  writeFileSync(generated, text);
  console.log(`wrote ${generated}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
