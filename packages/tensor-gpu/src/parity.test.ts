// Op-parity suite: every op the stack uses, forward and backward, on each available backend,
// compared with the cpu backend (the reference) within ATOL + RTOL·|ref|.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from './tf.js';
import { initBackend } from './backend.js';
import { causalSelfAttention } from './ops/attention.js';
import { crossEntropy } from './ops/cross-entropy.js';
import { layerNorm, rmsNorm } from './ops/norms.js';
import { gelu, silu } from './ops/activations.js';
import { applyRope, ropeTables } from './ops/rope.js';
import { maxScaledError, randomArray, randomInts } from '@llm/kit';

const ATOL = 1e-4;
const RTOL = 1e-4;

type Input = { shape: number[]; int?: number }; // int: int32 ids in [0, int); else float in [-1, 1)
interface Case { name: string; inputs: Input[]; fn: (...xs: tf.Tensor[]) => tf.Tensor }

const f = (...shape: number[]): Input => ({ shape });
const ids = (max: number, ...shape: number[]): Input => ({ shape, int: max });

const CASES: Case[] = [
  { name: 'gather (embedding lookup)', inputs: [f(17, 8), ids(17, 3, 5)], fn: (w, i) => tf.gather(w, i) },
  { name: 'matMul A·B', inputs: [f(13, 9), f(9, 7)], fn: (a, b) => tf.matMul(a, b) },
  { name: 'matMul A·Bᵀ', inputs: [f(13, 9), f(7, 9)], fn: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul Aᵀ·B', inputs: [f(9, 13), f(9, 7)], fn: (a, b) => tf.matMul(a, b, true, false) },
  { name: 'matMul Aᵀ·Bᵀ', inputs: [f(9, 13), f(7, 9)], fn: (a, b) => tf.matMul(a, b, true, true) },
  { name: 'matMul batched 3-D', inputs: [f(3, 5, 6), f(3, 6, 4)], fn: (a, b) => tf.matMul(a, b) },
  { name: 'matMul batched 4-D transposed', inputs: [f(2, 3, 5, 6), f(2, 3, 4, 6)], fn: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul broadcast [B,T,C]·[C,N]', inputs: [f(2, 5, 6), f(6, 4)], fn: (a, b) => tf.matMul(a, b) },
  { name: 'softmax', inputs: [f(4, 3, 10)], fn: (x) => tf.softmax(x.mul(3)) },
  { name: 'logSoftmax', inputs: [f(4, 10)], fn: (x) => tf.logSoftmax(x.mul(3)) },
  { name: 'layerNorm', inputs: [f(2, 3, 16), f(16), f(16)], fn: (x, g, b) => layerNorm(x, g, b) },
  { name: 'rmsNorm', inputs: [f(2, 3, 16), f(16)], fn: (x, w) => rmsNorm(x, w) },
  { name: 'gelu tanh', inputs: [f(5, 7)], fn: (x) => gelu(x.mul(3), 'tanh') },
  { name: 'gelu erf', inputs: [f(5, 7)], fn: (x) => gelu(x.mul(3), 'erf') },
  { name: 'silu', inputs: [f(5, 7)], fn: (x) => silu(x.mul(3)) },
  {
    name: 'RoPE rotation',
    inputs: [f(2, 2, 6, 8)],
    fn: (x) => {
      const { cos, sin } = ropeTables({ positions: 6, headDim: 8, offset: 4 });
      return applyRope(x, cos, sin);
    },
  },
  {
    name: 'where / causal mask',
    inputs: [f(6, 6)],
    fn: (x) => tf.where(tf.linalg.bandPart(tf.ones([6, 6]), -1, 0).cast('bool'), x, tf.fill([6, 6], -1e9)),
  },
  { name: 'crossEntropy (ignore index)', inputs: [f(2, 5, 11), ids(11, 2, 5)], fn: (x, t) => crossEntropy(x.mul(4), ignoreSome(t)) },
  { name: 'causalSelfAttention (GQA)', inputs: [f(2, 4, 5, 8), f(2, 2, 5, 8), f(2, 2, 5, 8)], fn: (q, k, v) => causalSelfAttention(q, k, v) },
  { name: 'sum / mean', inputs: [f(3, 4, 5)], fn: (x) => tf.sum(x, 1).add(tf.mean(x, 1, true).squeeze([1])).add(tf.mean(x).mul(x.sum(-1).sum(-1, true))) },
  { name: 'reshape / transpose', inputs: [f(2, 3, 4)], fn: (x) => x.reshape([2, 3, 2, 2]).transpose([0, 2, 1, 3]) },
  { name: 'slice / concat / split', inputs: [f(4, 6)], fn: (x) => tf.concat([x.slice([1, 0], [2, 6]), ...tf.split(x, 2, 0)], 0).add(tf.concat(tf.split(x.slice([0, 0], [3, 6]), 3, 1), 0).sum()) },
  { name: 'elementwise (add, sub, mul, div, exp, log, sqrt, tanh, sigmoid, pow)', inputs: [f(3, 4), f(4)], fn: (a, b) => a.add(b).mul(a.sub(b)).div(b.abs().add(1)).add(a.exp()).add(b.abs().add(1).log()).add(a.abs().add(0.1).sqrt()).add(tf.tanh(a)).add(tf.sigmoid(b)).add(a.pow(3)) },
  { name: 'maximum / clipByValue / square', inputs: [f(3, 4), f(3, 4)], fn: (a, b) => tf.maximum(a, b).add(tf.clipByValue(a, -0.5, 0.5)).add(b.square()) },
];

function ignoreSome(t: tf.Tensor): tf.Tensor {
  const mask = tf.tensor1d(Array.from({ length: t.size }, (_, i) => i % 4 === 1), 'bool').reshape(t.shape);
  return tf.where(mask, tf.fill(t.shape, -100, 'int32'), t);
}

interface Result { out: Float32Array; grads: Float32Array[] }

/** Forward, then grads of Σ out·w with respect to every float input. */
function runCase(c: Case, seed: number): Result {
  return tf.tidy(() => {
    const xs = c.inputs.map((inp, i) => {
      const n = inp.shape.reduce((a, b) => a * b, 1);
      return inp.int ? tf.tensor(randomInts(n, seed + i, inp.int), inp.shape, 'int32') : tf.tensor(randomArray(n, seed + i), inp.shape);
    });
    const out = c.fn(...xs);
    const w = tf.tensor(randomArray(out.size, seed + 99), out.shape);
    const floatIdx = c.inputs.map((inp, i) => (inp.int ? -1 : i)).filter((i) => i >= 0);
    const gradFn = tf.grads((...fl: tf.Tensor[]) => {
      const all = xs.map((x, i) => (floatIdx.includes(i) ? fl[floatIdx.indexOf(i)]! : x));
      return c.fn(...all).mul(w).sum();
    });
    const grads = gradFn(floatIdx.map((i) => xs[i]!));
    return { out: out.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

async function runAll(backend: string): Promise<Map<string, Result>> {
  await initBackend({ backend: backend as 'cpu', log: false });
  const results = new Map<string, Result>();
  CASES.forEach((c, i) => results.set(c.name, runCase(c, 1000 * (i + 1))));
  return results;
}

/** Backends besides cpu that work here (wasm always; tfjs-node ones when installed). */
async function otherBackends(): Promise<string[]> {
  const found = ['wasm'];
  for (const b of ['tensorflow'] as const) {
    try {
      await initBackend({ backend: b, log: false });
      found.push(b);
    } catch {
      // not installed here: the suite covers what this machine has
    }
  }
  return found;
}

describe('op parity with the cpu backend', async () => {
  const backends = await otherBackends();
  let reference: Map<string, Result>;
  const results = new Map<string, Map<string, Result>>();
  beforeAll(async () => {
    reference = await runAll('cpu');
    for (const b of backends) results.set(b, await runAll(b));
  });

  for (const b of backends) {
    for (const c of CASES) {
      it(`${b}: ${c.name} forward and backward`, () => {
        const ref = reference.get(c.name)!;
        const got = results.get(b)!.get(c.name)!;
        expect(got.out.length).toBe(ref.out.length);
        expect(maxScaledError(got.out, ref.out, ATOL, RTOL)).toBeLessThanOrEqual(1);
        expect(got.grads.length).toBe(ref.grads.length);
        got.grads.forEach((g, i) => expect(maxScaledError(g, ref.grads[i]!, ATOL, RTOL), `grad ${i}`).toBeLessThanOrEqual(1));
      });
    }
  }
});
