// @llm/kit — what the tests and benchmarks of llm-ts share (private; a devDependency only, and
// it depends on no @llm package, so even @llm/tensor-gpu's tests can use it).

// Tests: seeded data, tolerances, error assertions.
export { rng, randomArray, randomInts } from './rng.js';
export { maxAbsDiff, maxScaledError } from './compare.js';
export { expectError, expectErrorAsync, type ErrorClass, type MessageMatch } from './expect-error.js';

// Benchmarks: medians, timing, the machine line, data outside the repo.
export { median } from './median.js';
export { timeRuns, type TimeRunsOptions } from './time-runs.js';
export { machineLine } from './machine-line.js';
export { sharedDataDir, sharedDataPath, benchmarkCorpus } from './shared-data.js';

// Hostile-input suites: one case per child process, under a time and memory budget.
export { runIsolated, type IsolatedOptions, type IsolatedResult, type IsolatedError } from './isolated.js';

// Build scripts: AssemblyScript → committed base64 wasm module.
export { buildWasmModule, compileAssemblyScript, renderWasmModule, type WasmBuildOptions } from './assemblyscript.js';

// llama.cpp (node-llama-cpp 3.21.1) as a reference, installed on demand outside the workspace.
export { loadNodeLlamaCpp, llamaCppDir, LLAMACPP_VERSION, type NodeLlamaCpp } from './llamacpp.js';
