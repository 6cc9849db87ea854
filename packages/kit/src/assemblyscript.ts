/**
 * Build helper for the packages that ship AssemblyScript kernels (tensor-gpu's matMul, infer's
 * engine): compile one entry file with asc and keep the wasm in a committed, generated TS file
 * (base64), so installing a package never runs a compiler.
 *
 *   await buildWasmModule({ pkgDir, source: 'assembly/index.ts',
 *     generated: 'src/wasm/engine.wasm.generated.ts', constName: 'ENGINE_WASM_BASE64',
 *     flags: ['-O3', '--runtime', 'stub', ...], describe: 'imports env.memory (shared)' });
 *   // --check in process.argv: exit 1 when the committed file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WasmBuildOptions {
  /** The package folder (paths below are relative to it). */
  pkgDir: string;
  /** AssemblyScript entry file. */
  source: string;
  /** The generated TS file that holds the wasm as base64. */
  generated: string;
  /** Name of the exported base64 constant. */
  constName: string;
  /** asc flags (quoted in the generated file's header). */
  flags: readonly string[];
  /** One line for the header: what the module imports and exports. */
  describe: string;
  /** The command that regenerates the file (for the header). */
  regenerate: string;
}

/** Compiles `source` with asc; resolves to the wasm bytes. */
export async function compileAssemblyScript(pkgDir: string, source: string, flags: readonly string[]): Promise<Uint8Array> {
  // Loaded on demand: the compiler is large and only build scripts need it.
  const spec = 'assemblyscript/asc';
  const asc = (await import(spec)) as { main(argv: string[], opts: object): Promise<{ error: Error | null; stderr: { toString(): string } }> };
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main([source, '--outFile', 'out.wasm', ...flags], {
    baseDir: pkgDir,
    writeFile(name: string, contents: Uint8Array) {
      if (name.endsWith('.wasm')) binary = contents;
    },
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  if (!binary) throw new Error('asc produced no wasm');
  return binary;
}

/** The generated file's text for the given wasm bytes. */
export function renderWasmModule(opts: WasmBuildOptions, bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const half = Math.ceil(opts.flags.length / 2);
  return [
    `// GENERATED FILE, do not edit. Regenerate with: ${opts.regenerate}`,
    `// from ${opts.source} with`,
    `// asc ${opts.flags.slice(0, half).join(' ')}`,
    `//     ${opts.flags.slice(half).join(' ')}`,
    `// ${bytes.length} bytes of wasm; ${opts.describe}.`,
    `export const ${opts.constName} =\n  '${b64}';`,
    '',
  ].join('\n');
}

/** Compiles and writes (or, with `check`, verifies) the generated file. Returns false when stale. */
export async function buildWasmModule(opts: WasmBuildOptions, check = process.argv.includes('--check')): Promise<boolean> {
  const text = renderWasmModule(opts, await compileAssemblyScript(opts.pkgDir, opts.source, opts.flags));
  const path = join(opts.pkgDir, opts.generated);
  if (check) {
    let current = '';
    try { current = readFileSync(path, 'utf8'); } catch { /* missing = stale */ }
    if (current !== text) {
      console.error(`${path} is out of date: run ${opts.regenerate}`);
      return false;
    }
    console.log(`${opts.generated} is up to date`);
    return true;
  }
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
  return true;
}
