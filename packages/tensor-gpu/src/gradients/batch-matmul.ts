/**
 * BatchMatMul gradient that handles broadcasting. tfjs 4.22's own gradient returns dB with the
 * broadcast batch dims still in it, so `tf.grad` of x [B, T, C] · W [C, N] throws
 * "gradient of input 'b' has shape 'B,C,N', which does not match … 'C,N'". Ours is the same
 * math plus a sum over the broadcast dims, on every backend.
 *
 *   a [2, 5, 6] · b [6, 4] → dA [2, 5, 6], dB = Σ_batch aᵀ·dy → [6, 4]
 */
import * as tf from '@tensorflow/tfjs-core';

type Attrs = { transposeA: boolean; transposeB: boolean };

/** Sum g over the leading dims that `shape` broadcast, then give it `shape`. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.join(',') === shape.join(',')) return g;
  const gOuter = g.shape.slice(0, -2);
  const inOuter = shape.slice(0, -2);
  const axes = tf.broadcast_util.getReductionAxes(inOuter, gOuter);
  return (axes.length ? g.sum(axes) : g).reshape(shape);
}

function gradFunc(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const d = dy as tf.Tensor;
  const [a, b] = saved as [tf.Tensor, tf.Tensor];
  const { transposeA: tA, transposeB: tB } = attrs as unknown as Attrs;
  const mm = tf.matMul;
  // Same four cases as tfjs, then reduce broadcast dims.
  const [ga, gb] = !tA && !tB
    ? [() => mm(d, b, false, true), () => mm(a, d, true, false)]
    : !tA && tB
      ? [() => mm(d, b, false, false), () => mm(d, a, true, false)]
      : tA && !tB
        ? [() => mm(b, d, false, true), () => mm(a, d, false, false)]
        : [() => mm(b, d, true, true), () => mm(d, a, true, true)];
  return { a: () => reduceTo(ga(), a.shape), b: () => reduceTo(gb(), b.shape) };
}

/** Replace the BatchMatMul gradient (idempotent; silences tfjs's "overriding" warning). */
export function registerBatchMatMulGradient(): void {
  const current = tf.getGradient('BatchMatMul');
  if (current?.gradFunc === gradFunc) return;
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient({ kernelName: 'BatchMatMul', inputsToSave: ['a', 'b'], gradFunc });
  } finally {
    console.warn = warn;
  }
}
