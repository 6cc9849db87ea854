// Weight-kernel benchmark of @llm/infer: y[n, out] = x[n, in] · Wᵀ for W [out, in] in every
// format the engine runs (f32, f16 and ggml's q8_0 q4_0 q4_1 q5_0 q4_k q6_k blocks, dequantized
// on the fly in wasm SIMD, one thread), side by side with tfjs-wasm's tf.matMul (stock XNNPACK,
// f32, x · Wᵀ stored as [in, out] so neither operand is transposed) on the same shape.
// Reports medians: GB/s of weight bytes read (each weight byte counted once per call) and GFLOP/s
// (2·n·in·out per call). The block formats get a second column, `<fmt>·q8`: x quantized as ggml
// does for them (quantize_q8: Q8 for q8_0 q4_0 q4_1 q5_0; quantize_q8k: Q8_K for q4_k q6_k; timed
// with it) + matmul_q8, the integer dots — what the engine runs by default (activations 'auto').
//
//   node benchmarks/inference/kernels.mjs           full run (≈ 3 min on 2 cores)
//   node benchmarks/inference/kernels.mjs --quick   fewer reps, shapes up to 768→3072
//   options: --formats f32,q8_0  --out FILE (default benchmarks/results/inference-kernels.json)
//
// The kernels are @llm/infer's (its low-level createMemory / instantiate); only 64 distinct weight rows are quantized
// (quantizing 24M values in JS takes minutes) and tiled over all rows, which reads the same bytes.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { machineLine, median, randomArray } from '@llm/kit';
import { quantizeRow, tensorBytes } from '@llm/quant';
import { KERNEL_FORMATS, createMemory, formatInfo, instantiate } from '@llm/infer';
import { tf, initBackend, uninstallKernels } from '@llm/tensor-gpu';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const here = dirname(fileURLToPath(import.meta.url));
const outFile = sopt('--out') ?? join(here, '..', 'results', 'inference-kernels.json');

const FORMATS = Object.fromEntries(KERNEL_FORMATS.map((f) => [f, formatInfo(f).id]));
const formats = sopt('--formats')?.split(',') ?? Object.keys(FORMATS);
/** Formats with an integer-dot kernel on quantized activations (wasm q8Kind: Q8 or Q8_K); none on a build without matmul_q8. */
const q8Formats = (fmts) => fmts.filter((f) => typeof wasm.matmul_q8 === 'function' && wasm.q8Kind(FORMATS[f]) > 0);
const SHAPES = [
  [288, 768],
  [768, 768],
  [768, 3072],
  [3072, 768],
  [768, 32000],
].filter(([i, o]) => !quick || i * o <= 768 * 3072);
const NS = [1, 8, 128];
const TARGET_MS = quick ? 150 : 400; // timed span per case (reps = target / one call, 3..51)

// ---- the engine module --------------------------------------------------------------------------
const memory = createMemory(16);
const wasm = instantiate(memory);

function ensureBytes(bytes) {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}

/**
 * Runs `fn` until TARGET_MS of timed calls (3..51 reps) after a warm-up of at least `warmup` calls
 * and 100 ms (so wasm has tiered up from Liftoff to TurboFan before timing); { median, best } ms.
 */
function time(fn, warmup = 2) {
  const w0 = performance.now();
  for (let i = 0; i < warmup || performance.now() - w0 < 100; i++) fn();
  const t0 = performance.now();
  fn();
  const one = Math.max(performance.now() - t0, 1e-3);
  const reps = Math.max(3, Math.min(51, Math.round(TARGET_MS / one)));
  const times = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    fn();
    times.push(performance.now() - s);
  }
  return { median: median(times), best: Math.min(...times), reps };
}

const DISTINCT_ROWS = 64;
const BASE = 65536;

/** fmt on f32 activations (matmul), or with q8 on Q8 activations (quantize_q8 + matmul_q8, both timed). */
function benchKernel(fmt, cols, rows, n, q8 = false) {
  const id = FORMATS[fmt];
  let rb;
  try {
    rb = tensorBytes(id, cols);
  } catch {
    return null; // cols not a whole number of blocks (288 for the K-quants)
  }
  const wBytes = rb * rows;
  const xAt = BASE + Math.ceil(wBytes / 64) * 64;
  const xqAt = xAt + n * cols * 4;
  const yAt = xqAt + (q8 ? n * Math.max(wasm.q8RowBytes(cols), wasm.q8kRowBytes(cols)) : 0);
  ensureBytes(yAt + n * rows * 4);
  const u8 = new Uint8Array(memory.buffer);
  const w = randomArray(DISTINCT_ROWS * cols, 11);
  const q = quantizeRow(id, w);
  for (let r = 0; r < rows; r += DISTINCT_ROWS) u8.set(q.subarray(0, Math.min(DISTINCT_ROWS, rows - r) * rb), BASE + r * rb);
  new Float32Array(memory.buffer, xAt, n * cols).set(randomArray(n * cols, 12));
  const t = q8
    ? time(() => {
        if (wasm.q8Kind(id) === 2) wasm.quantize_q8k(xAt, xqAt, cols, 0, n);
        else wasm.quantize_q8(xAt, xqAt, cols, 0, n);
        wasm.matmul_q8(id, BASE, xqAt, yAt, rows, cols, n, 0, rows);
      })
    : time(() => wasm.matmul(id, BASE, xAt, yAt, rows, cols, n, 0, rows));
  return figures(t, wBytes, n, rows, cols);
}

/** Median-based GB/s and GFLOP/s, plus the best call's GFLOP/s (the machine is shared: see the JSON). */
function figures(t, wBytes, n, rows, cols) {
  const flop = 2 * n * rows * cols;
  const r2 = (v) => Math.round(v * 100) / 100;
  return { ms: r2(t.median * 1000) / 1000, reps: t.reps, gbs: r2(wBytes / (t.median * 1e6)), gflops: r2(flop / (t.median * 1e6)), bestGflops: r2(flop / (t.best * 1e6)) };
}

function benchTfjs(cols, rows, n) {
  const x = tf.randomUniform([n, cols], -1, 1, 'float32', 1);
  const wt = tf.randomUniform([cols, rows], -1, 1, 'float32', 2);
  const t = time(() => tf.matMul(x, wt).dispose(), 3);
  tf.dispose([x, wt]);
  return figures(t, rows * cols * 4, n, rows, cols);
}

const info = await initBackend({ backend: 'wasm', fastKernels: false, log: false });
uninstallKernels('wasm');
const machine = machineLine(`one thread, wasm SIMD; peer: tfjs-wasm ${tf.version_core} (${info.backend}, stock XNNPACK matMul)`);
console.log(`# @llm/infer weight kernels — ${machine}; load average ${os.loadavg()[0].toFixed(1)}\n`);

const rowsOut = [];
for (const [cin, cout] of SHAPES) {
  for (const n of NS) {
    const row = { shape: `${cin}→${cout}`, in: cin, out: cout, n, kernels: {} };
    row.tfjs = benchTfjs(cin, cout, n);
    for (const fmt of formats) row.kernels[fmt] = benchKernel(fmt, cin, cout, n);
    for (const fmt of q8Formats(formats)) row.kernels[`${fmt}·q8`] = benchKernel(fmt, cin, cout, n, true);
    rowsOut.push(row);
    const cells = Object.keys(row.kernels).map((f) => {
      const k = row.kernels[f];
      return k ? `${f} ${k.gbs.toFixed(1)} GB/s ${k.gflops.toFixed(1)} GF` : `${f} —`;
    });
    console.log(`${row.shape.padEnd(11)} n=${String(n).padEnd(3)} tfjs f32 ${row.tfjs.gbs.toFixed(1)} GB/s ${row.tfjs.gflops.toFixed(1)} GF | ${cells.join(' | ')}`);
  }
}

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      benchmark: 'inference-kernels',
      command: `node benchmarks/inference/kernels.mjs${args.length ? ' ' + args.join(' ') : ''}`,
      machine,
      date: new Date().toISOString(),
      units: { ms: 'median ms per call', gbs: 'weight bytes / median time / 1e9', gflops: '2·n·in·out / median time / 1e9', bestGflops: 'the same for the fastest call' },
      load: os.loadavg().map((v) => Math.round(v * 10) / 10),
      notes: 'kernels: @llm/infer matmul, one thread; <fmt>·q8: quantize_q8 / quantize_q8k + matmul_q8 (Q8 / Q8_K activations, integer dots), timed together; tfjs: tf.matMul(x [n,in], W [in,out]) f32 on the stock wasm backend. null: cols not a whole number of blocks.',
      rows: rowsOut,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwrote ${outFile}`);
