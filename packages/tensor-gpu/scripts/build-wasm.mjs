#!/usr/bin/env node
// Compiles assembly/matmul.ts with AssemblyScript and writes src/kernels/matmul.wasm.generated.ts.
//
//   node scripts/build-wasm.mjs           # (re)write the generated file
//   node scripts/build-wasm.mjs --check   # exit 1 if the committed file is out of date
//
// The module imports tfjs-wasm's memory and must not touch it except through the pointers it is
// given: stub runtime, no assertions, an abort that does nothing, no exported memory.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasmModule } from '@llm/kit';

const ok = await buildWasmModule({
  pkgDir: join(dirname(fileURLToPath(import.meta.url)), '..'),
  source: 'assembly/matmul.ts',
  generated: 'src/kernels/matmul.wasm.generated.ts',
  constName: 'MATMUL_WASM_BASE64',
  flags: [
    '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
    '--importMemory', '--noExportMemory', '--initialMemory', '0',
    '--enable', 'simd', '--converge',
  ],
  describe: 'imports env.memory; exports matmul, packBytes, biasAct',
  regenerate: 'npm run build:wasm -w @llm/tensor-gpu',
});
process.exit(ok ? 0 : 1);
