#!/usr/bin/env node
// Compiles assembly/index.ts (the engine and its kernels) with AssemblyScript and writes
// src/wasm/engine.wasm.generated.ts.
//
//   node scripts/build-wasm.mjs           # (re)write the generated file
//   node scripts/build-wasm.mjs --check   # exit 1 if the committed file is out of date
//
// The module imports one shared memory (every worker thread instantiates it on the same memory)
// and owns none of it: stub runtime, no static data, no assertions; the host lays out weights,
// caches and scratch buffers and passes byte offsets.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasmModule } from '@llm/kit';

const ok = await buildWasmModule({
  pkgDir: join(dirname(fileURLToPath(import.meta.url)), '..'),
  source: 'assembly/index.ts',
  generated: 'src/wasm/engine.wasm.generated.ts',
  constName: 'ENGINE_WASM_BASE64',
  flags: [
    '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
    '--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536',
    '--enable', 'simd', '--enable', 'threads', '--converge',
  ],
  describe: 'imports env.memory (shared, up to 4 GiB); exports the engine and its kernels',
  regenerate: 'npm run build:wasm -w @llm/infer',
});
process.exit(ok ? 0 : 1);
