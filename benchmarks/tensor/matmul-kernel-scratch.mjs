// Scratch bench: raw AssemblyScript matmul on tfjs-wasm's heap vs stock tf.matMul (wasm).
// usage: node benchmarks/tensor/matmul-kernel-scratch.mjs [wasmFile]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../packages/tensor-gpu/package.json', import.meta.url));
const tf = await import(require.resolve('@tensorflow/tfjs-core'));
await import(require.resolve('@tensorflow/tfjs-backend-cpu'));
await import(require.resolve('@tensorflow/tfjs-backend-wasm'));

function wasmBytes() {
  if (process.argv[2]) return readFileSync(process.argv[2]);
  const gen = new URL('../../packages/tensor-gpu/src/kernels/matmul.wasm.generated.ts', import.meta.url);
  const m = /'([A-Za-z0-9+/=]+)'/.exec(readFileSync(gen, 'utf8'));
  return Buffer.from(m[1], 'base64');
}

await tf.setBackend('wasm');
await tf.ready();
const be = tf.backend();
const inst = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes()), {
  env: { memory: be.wasm.asm.memory, abort() {} },
});
const { matmul, packBytes } = inst.exports;
const off = (t) => be.dataIdMap.get(t.dataId).memoryOffset;

function median(xs) { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; }
function time(fn, minMs = 300) {
  fn(); fn();
  const ts = [];
  const t0 = performance.now();
  while (ts.length < 5 || performance.now() - t0 < minMs) {
    const s = performance.now(); fn(); ts.push(performance.now() - s);
    if (ts.length > 200) break;
  }
  return median(ts);
}

function bench(batchA, batchB, M, N, K, tA, tB) {
  const aShape = [...(batchA ? [batchA] : []), ...(tA ? [K, M] : [M, K])];
  const bShape = [...(batchB ? [batchB] : []), ...(tB ? [N, K] : [K, N])];
  const a = tf.randomNormal(aShape), b = tf.randomNormal(bShape);
  const batch = Math.max(batchA || 1, batchB || 1);
  const flops = 2 * batch * M * N * K;
  const stock = process.env.NOSTOCK ? NaN : time(() => tf.matMul(a, b, tA, tB).dispose());
  const c = tf.zeros([batch, M, N]);
  const ours = time(() => {
    const p = be.wasm._malloc(packBytes(M, N, K));
    matmul(off(a), off(b), off(c), batch, M, N, K, tA ? 1 : 0, tB ? 1 : 0,
      (batchA || 1) === 1 ? 0 : M * K, (batchB || 1) === 1 ? 0 : K * N, p);
    be.wasm._free(p);
  });
  const ref = tf.matMul(a, b, tA, tB);
  const err = tf.max(tf.abs(tf.sub(tf.reshape(ref, [batch, M, N]), c))).dataSync()[0];
  const g = (ms) => (flops / ms / 1e6).toFixed(1);
  console.log(`${JSON.stringify(aShape)}${tA ? 'ᵀ' : ''}·${JSON.stringify(bShape)}${tB ? 'ᵀ' : ''}`.padEnd(40),
    `stock ${g(stock).padStart(5)}  ours ${g(ours).padStart(5)} GFLOP/s  err ${err.toExponential(1)}`);
  tf.dispose([a, b, c, ref]);
}

const cases = [
  [0, 0, 768, 384, 128], [0, 0, 128, 384, 768], [0, 0, 768, 128, 384],
  [48, 48, 64, 64, 32], [48, 48, 64, 32, 64], [0, 0, 256, 256, 256], [0, 0, 512, 512, 512],
];
const combos = process.env.QUICK ? [[false, false], [true, true]] : [[false, false], [false, true], [true, false], [true, true]];
for (const [ba, bb, M, N, K] of cases) {
  for (const [tA, tB] of combos) {
    bench(ba, bb, M, N, K, tA, tB);
  }
}
