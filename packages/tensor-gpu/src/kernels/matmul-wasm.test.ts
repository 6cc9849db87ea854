import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomArray } from '@llm/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import {
  isWasmMatMulRegistered, planMatMul, registerWasmMatMul, unregisterWasmMatMul,
} from './matmul-wasm.js';
import { MATMUL_WASM_BASE64 } from './matmul.wasm.generated.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

const sizeOf = (shape: number[]): number => shape.reduce((n, d) => n * d, 1);

/** Float64 reference: op(A[b])·op(B[b]) with a batch-1 side broadcast; shape [batch, M, N]. */
function reference(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[],
  tA: boolean, tB: boolean): Float64Array {
  const [ra, rb] = [aShape.length, bShape.length];
  const [M, K] = tA ? [aShape[ra - 1]!, aShape[ra - 2]!] : [aShape[ra - 2]!, aShape[ra - 1]!];
  const N = tB ? bShape[rb - 2]! : bShape[rb - 1]!;
  const [batchA, batchB] = [sizeOf(aShape.slice(0, -2)), sizeOf(bShape.slice(0, -2))];
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * M * N);
  for (let p = 0; p < batch; p++) {
    const oa = (batchA === 1 ? 0 : p) * M * K;
    const ob = (batchB === 1 ? 0 : p) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          sum += a[oa + (tA ? k * M + i : i * K + k)]! * b[ob + (tB ? j * K + k : k * N + j)]!;
        }
        out[(p * M + i) * N + j] = sum;
      }
    }
  }
  return out;
}

/** max |x - ref| / max(1, max |ref|). */
function relError(x: Float32Array, ref: Float64Array): number {
  let err = 0;
  let mag = 1;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - ref[i]!));
    mag = Math.max(mag, Math.abs(ref[i]!));
  }
  return err / mag;
}

let seed = 1;

/** tf.matMul on the current backend vs the reference; returns the relative error. */
function check(aShape: number[], bShape: number[], tA = false, tB = false): number {
  const a = randomArray(sizeOf(aShape), seed++);
  const b = randomArray(sizeOf(bShape), seed++);
  const got = tf.tidy(() => {
    const c = tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), tA, tB);
    return { shape: c.shape, data: c.dataSync() as Float32Array };
  });
  const ref = reference(a, aShape, b, bShape, tA, tB);
  const plan = planMatMul(aShape, bShape, tA, tB);
  expect(got.shape).toEqual(plan?.outShape);
  expect(got.data.length).toBe(ref.length);
  return relError(got.data, ref);
}

const COMBOS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

/** [..., M, K] (or [..., K, M] when transposed) */
const shapeA = (outer: number[], M: number, K: number, t: boolean): number[] =>
  [...outer, ...(t ? [K, M] : [M, K])];
/** [..., K, N] (or [..., N, K] when transposed) */
const shapeB = (outer: number[], K: number, N: number, t: boolean): number[] =>
  [...outer, ...(t ? [N, K] : [K, N])];

/** Checks op(A)·op(B) for all four transpose combinations. */
function checkAll(outerA: number[], outerB: number[], M: number, N: number, K: number): void {
  for (const [tA, tB] of COMBOS) {
    const err = check(shapeA(outerA, M, K, tA), shapeB(outerB, K, N, tB), tA, tB);
    expect(err, `${outerA}|${outerB} M${M} N${N} K${K} tA${tA} tB${tB}`).toBeLessThan(1e-4);
  }
}

type Act = 'linear' | 'relu' | 'relu6' | 'leakyrelu' | 'elu' | 'sigmoid' | 'prelu';
const ACT: Record<Act, (x: number) => number> = {
  linear: (x) => x,
  relu: (x) => Math.max(x, 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  leakyrelu: (x) => (x >= 0 ? x : 0.1 * x),
  elu: (x) => (x >= 0 ? x : Math.exp(x) - 1),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  prelu: (x) => x, // weights applied in checkFused
};

/**
 * tf.fused.matMul (bias [biasLen] or none, activation; prelu weights [preluLen]) vs the
 * reference; relative error.
 */
function checkFused(aShape: number[], bShape: number[], tA: boolean, tB: boolean,
  biasLen: number, activation: Act, preluLen = 0): number {
  const a = randomArray(sizeOf(aShape), seed++);
  const b = randomArray(sizeOf(bShape), seed++);
  const bias = randomArray(biasLen, seed++).map((x) => 4 * x);
  const slope = randomArray(preluLen, seed++);
  const got = tf.tidy(() => tf.fused.matMul({
    a: tf.tensor(a, aShape), b: tf.tensor(b, bShape), transposeA: tA, transposeB: tB,
    bias: biasLen > 0 ? tf.tensor1d(bias) : undefined, activation, leakyreluAlpha: 0.1,
    preluActivationWeights: preluLen > 0 ? tf.tensor1d(slope) : undefined,
  }).dataSync() as Float32Array);
  const ref = reference(a, aShape, b, bShape, tA, tB);
  const N = tB ? bShape[bShape.length - 2]! : bShape[bShape.length - 1]!;
  const at = (v: Float32Array, i: number) => v[v.length === 1 ? 0 : i % N]!;
  const out = ref.map((x, i) => {
    const y = ACT[activation](x + (biasLen === 0 ? 0 : at(bias, i)));
    return preluLen > 0 && y < 0 ? y * at(slope, i) : y;
  });
  return relError(got, out);
}

let stockKernelFunc: tf.KernelFunc;
let stockFusedFunc: tf.KernelFunc;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  stockKernelFunc = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  stockFusedFunc = tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc;
  registerWasmMatMul();
});

afterAll(() => unregisterWasmMatMul());

describe('wasm BatchMatMul kernel: correctness', () => {
  it('is registered on the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(isWasmMatMulRegistered()).toBe(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(stockKernelFunc);
  });

  it('1×1×1', () => checkAll([], [], 1, 1, 1));

  it('odd sizes M, N, K ∈ {1,3,5,7,9,13,17,33,65}, all transpose combos', () => {
    const sizes = [1, 3, 5, 7, 9, 13, 17, 33, 65];
    for (const M of sizes) for (const N of sizes) for (const K of sizes) checkAll([], [], M, N, K);
  });

  it('tile and block edges (M > 128, K > 256 split in K blocks), few-row paths', () => {
    const shapes = [[129, 9, 257], [257, 17, 300], [4, 8, 513], [130, 136, 600], [12, 512, 33],
      [5, 1024, 7], [16, 24, 40], [17, 24, 40], [2, 5, 300]];
    for (const [M, N, K] of shapes) {
      checkAll([], [], M!, N!, K!);
    }
  });

  it('batched 3-D and 4-D', () => {
    checkAll([4], [4], 17, 13, 9);
    checkAll([2, 3], [2, 3], 5, 33, 7);
    checkAll([48], [48], 64, 64, 32);
  });

  it('broadcasts a batch-1 side', () => {
    checkAll([1], [6], 9, 7, 5);
    checkAll([6], [1], 9, 7, 5);
    checkAll([], [6], 13, 5, 3); // rank 2 × rank 3
    checkAll([6], [], 13, 5, 3); // rank 3 × rank 2 (folded into one product when not transA)
    checkAll([2, 3], [1, 1], 5, 9, 7);
    checkAll([1], [2, 3], 5, 9, 7);
  });

  it('K = 0 gives zeros', () => {
    const c = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 4]));
    expect(c.shape).toEqual([3, 4]);
    expect(Array.from(c.dataSync())).toEqual(new Array(12).fill(0));
    const d = tf.matMul(tf.zeros([2, 0, 3]), tf.zeros([2, 4, 0]), true, true);
    expect(d.shape).toEqual([2, 3, 4]);
    expect(Array.from(d.dataSync())).toEqual(new Array(24).fill(0));
    tf.dispose([c, d]);
  });

  it('empty M or N gives an empty tensor', () => {
    const c = tf.matMul(tf.zeros([0, 5]), tf.zeros([5, 4]));
    expect(c.shape).toEqual([0, 4]);
    c.dispose();
  });

  it('[768,128]·[128,384] and its backward products', () => {
    checkAll([], [], 768, 384, 128);
    expect(check([768, 128], [768, 384], true, false)).toBeLessThan(1e-4); // dW = xᵀ·dy
    expect(check([768, 384], [128, 384], false, true)).toBeLessThan(1e-4); // dx = dy·Wᵀ
  });
});

describe('wasm _FusedMatMul kernel', () => {
  it('is registered too', () => {
    expect(tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc).not.toBe(stockFusedFunc);
  });

  it('bias [N] / [1] / none with linear, relu, relu6, leakyrelu; all transposes; batched', () => {
    const acts: Act[] = ['linear', 'relu', 'relu6', 'leakyrelu'];
    const shapes: [number[], number[], number, number, number][] =
      [[[], [], 13, 9, 7], [[3], [3], 5, 17, 6], [[4], [], 2, 5, 3]];
    for (const [outerA, outerB, M, N, K] of shapes) {
      for (const [tA, tB] of COMBOS) {
        const [aS, bS] = [shapeA(outerA, M, K, tA), shapeB(outerB, K, N, tB)];
        for (const act of acts) {
          for (const biasLen of [0, 1, N]) {
            const err = checkFused(aS, bS, tA, tB, biasLen, act);
            expect(err, `${aS}·${bS} ${tA} ${tB} ${act} bias ${biasLen}`).toBeLessThan(1e-4);
          }
        }
      }
    }
  });

  it('elu, sigmoid and prelu (through the backend\'s unary kernels)', () => {
    for (const [tA, tB] of COMBOS) {
      const [aS, bS] = [shapeA([3], 9, 5, tA), shapeB([3], 5, 7, tB)];
      expect(checkFused(aS, bS, tA, tB, 7, 'elu')).toBeLessThan(1e-4);
      expect(checkFused(aS, bS, tA, tB, 1, 'sigmoid')).toBeLessThan(1e-4);
      expect(checkFused(aS, bS, tA, tB, 7, 'prelu', 7)).toBeLessThan(1e-4);
      expect(checkFused(aS, bS, tA, tB, 0, 'prelu', 1)).toBeLessThan(1e-4);
    }
  });

  it('delegates other bias shapes to the stock kernel (which rejects them)', () => {
    const run = () => tf.tidy(() =>
      tf.fused.matMul({ a: tf.ones([2, 3]), b: tf.ones([3, 4]), bias: tf.ones([2, 4]) }));
    expect(run).toThrow(/rank-1 bias/);
  });

  it('gradient of fused.matMul with bias matches the cpu backend', async () => {
    const [a, b, bias] = [randomArray(35, seed++), randomArray(45, seed++), randomArray(9, seed++)];
    const run = () => tf.tidy(() => {
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.square(tf.fused.matMul({ a: x, b: y, bias: z, transposeB: true })));
      return tf.grads(f)([tf.tensor(a, [7, 5]), tf.tensor(b, [9, 5]), tf.tensor(bias, [9])])
        .map((g) => g.dataSync());
    });
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('wasm');
    for (let i = 0; i < 3; i++) {
      expect(relError(wasm[i] as Float32Array, Float64Array.from(cpu[i]!))).toBeLessThan(1e-5);
    }
  });
});

describe('wasm BatchMatMul kernel: integration', () => {
  it('plans only supported batch shapes', () => {
    expect(planMatMul([6, 4, 3], [3, 5], false, false)).toMatchObject({ batch: 1, M: 24 });
    expect(planMatMul([6, 3, 4], [3, 5], true, false)).toMatchObject({ batch: 6, strideB: 0 });
    expect(planMatMul([2, 1, 4, 3], [1, 2, 3, 5], false, false)).toBeNull(); // [2,1] vs [1,2]
    expect(planMatMul([2, 4, 3], [3, 3, 5], false, false)).toBeNull();
    expect(planMatMul([4, 3], [4, 5], false, false)).toBeNull(); // inner mismatch
  });

  it('delegates other dtypes to the stock kernel', () => {
    const a = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    const b = tf.tensor2d([[3], [4]], [2, 1], 'int32');
    expect(() => tf.matMul(a, b)).toThrow(/float32/);
    tf.dispose([a, b]);
  });

  it('gradients through matMul match the cpu backend', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[7, 5], [5, 9], false, false], [[5, 7], [9, 5], true, true],
      [[3, 7, 5], [3, 9, 5], false, true], [[3, 5, 7], [1, 5, 9], true, false],
      [[6, 7, 5], [5, 9], false, false],
    ];
    for (const [aShape, bShape, tA, tB] of cases) {
      const a = randomArray(sizeOf(aShape), seed++);
      const b = randomArray(sizeOf(bShape), seed++);
      const run = () => tf.tidy(() => {
        const w = tf.tensor(randomArray(sizeOf(planMatMul(aShape, bShape, tA, tB)!.outShape), 7),
          planMatMul(aShape, bShape, tA, tB)!.outShape);
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, tA, tB), w));
        return tf.grads(f)([tf.tensor(a, aShape), tf.tensor(b, bShape)]).map((g) => g.dataSync());
      });
      const wasm = run();
      await tf.setBackend('cpu');
      const cpu = run();
      await tf.setBackend('wasm');
      for (let i = 0; i < 2; i++) {
        expect(relError(wasm[i] as Float32Array, Float64Array.from(cpu[i]!))).toBeLessThan(1e-5);
      }
    }
  });

  it('leaks no tensors and no backend data', () => {
    const before = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (const [tA, tB] of COMBOS) check(shapeA([1], 9, 7, tA), shapeB([6], 7, 5, tB), tA, tB);
    for (const act of ['relu', 'elu', 'prelu'] as const) {
      checkFused([9, 7], [7, 5], false, false, 5, act, act === 'prelu' ? 5 : 0);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
  });

  it('unregister restores the stock kernel; register is idempotent', () => {
    registerWasmMatMul();
    unregisterWasmMatMul();
    expect(isWasmMatMulRegistered()).toBe(false);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(stockKernelFunc);
    expect(tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc).toBe(stockFusedFunc);
    expect(check([33, 17], [17, 9])).toBeLessThan(1e-4);
    expect(check([17, 33], [9, 17], true, true)).toBeLessThan(1e-4);
    registerWasmMatMul();
    expect(isWasmMatMulRegistered()).toBe(true);
  });

  it('re-instantiates on a new wasm backend instance', async () => {
    const registry = (tf.engine() as unknown as {
      registryFactory: Record<string, { factory: () => tf.KernelBackend; priority: number }>;
    }).registryFactory;
    const { factory, priority } = registry['wasm']!;
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, priority);
    await tf.setBackend('wasm');
    expect(isWasmMatMulRegistered()).toBe(true);
    checkAll([2], [2], 13, 9, 7);
  });
});

/** Section ids of a wasm binary (after the 8-byte header). */
function sectionIds(bytes: Uint8Array): { id: number; payload: Uint8Array }[] {
  const out: { id: number; payload: Uint8Array }[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[p++]!;
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    out.push({ id, payload: bytes.subarray(p, p + size) });
    p += size;
  }
  return out;
}

describe('matmul.wasm module', () => {
  const bytes = new Uint8Array(Buffer.from(MATMUL_WASM_BASE64, 'base64'));

  it('has no data segments and imports only env.memory', () => {
    const sections = sectionIds(bytes);
    const data = sections.filter((s) => s.id === 11 || s.id === 12);
    for (const s of data) expect(s.payload[0]).toBe(0); // present only as an empty vector
    const mod = new WebAssembly.Module(bytes);
    const memoryImport = { module: 'env', name: 'memory', kind: 'memory' };
    expect(WebAssembly.Module.imports(mod)).toEqual([memoryImport]);
    const exports = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    expect(exports).toEqual(['biasAct', 'matmul', 'packBytes']);
  });

  it('writes only to C and the scratch it is given', () => {
    const memory = new WebAssembly.Memory({ initial: 8 });
    const { matmul, packBytes } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { memory },
    }).exports as unknown as {
      matmul(...args: number[]): void; packBytes(M: number, N: number, K: number): number;
    };
    const cases = [[5, 9, 7, 0, 0], [13, 3, 300, 1, 1], [130, 17, 5, 0, 1], [2, 9, 7, 1, 0],
      [12, 512, 5, 1, 0], [3, 5, 9, 1, 1]];
    for (const [M, N, K, tA, tB] of cases) {
      const heap = new Uint8Array(memory.buffer);
      heap.fill(0xa5);
      const [a, b, c] = [1024, 65536, 131072];
      const pack = 262144;
      const heapF = new Float32Array(memory.buffer);
      heapF.set(randomArray(M! * K!, 3), a / 4);
      heapF.set(randomArray(K! * N!, 4), b / 4);
      const before = heap.slice();
      matmul(a, b, c, 1, M!, N!, K!, tA!, tB!, 0, 0, pack);
      const cEnd = c + M! * N! * 4;
      const packEnd = pack + packBytes(M!, N!, K!);
      for (let i = 0; i < heap.length; i++) {
        const allowed = (i >= c && i < cEnd) || (i >= pack && i < packEnd);
        if (!allowed && heap[i] !== before[i]) throw new Error(`stray write at ${i}`);
      }
    }
  });

  it('committed matmul.wasm.generated.ts is up to date', () => {
    execFileSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], { cwd: pkgDir });
  });
});
