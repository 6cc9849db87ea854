// The engine's wasm module: kernels (assembly/kernels) and the fused model step (assembly/engine).
// Every export takes byte offsets into the imported shared memory; nothing here allocates.
export * from './kernels/index';
export * from './engine/index';
