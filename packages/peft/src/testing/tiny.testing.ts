// Test helpers (not exported): tiny GPT-2 and Llama (GQA) models, token ids, host-side linear algebra
// for slow obvious references.
import { tf, crossEntropy } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { randomInts } from '@llm/kit';

export const V = 40;
export const GPT2: ModelConfigInput = { family: 'gpt2', vocabSize: V, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 16, seed: 3 };
export const LLAMA: ModelConfigInput = { family: 'llama', vocabSize: V, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, intermediateSize: 24, blockSize: 16, seed: 4 };
export const FAMILIES = [['gpt2', GPT2], ['llama', LLAMA]] as const;

export function tinyModel(cfg: ModelConfigInput): TransformerLM {
  return new TransformerLM(cfg);
}

export function ids(seed: number, B = 2, T = 6): tf.Tensor2D {
  return tf.tensor2d(randomInts(B * T, seed, V), [B, T], 'int32');
}

/** Logits as a flat array (disposes the tensor). */
export function logitsOf(t: tf.Tensor): Float32Array {
  const v = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return v;
}

/** Next-token loss of a batch. */
export function lmLoss(model: { forward(ids: tf.Tensor, o?: { training?: boolean }): tf.Tensor3D }, x: tf.Tensor2D, training = false): tf.Scalar {
  return tf.tidy(() => {
    const [B, T] = x.shape;
    const inp = x.slice([0, 0], [B, T - 1]);
    const tgt = x.slice([0, 1], [B, T - 1]);
    return crossEntropy(model.forward(inp, { training }), tgt) as tf.Scalar;
  });
}

/** Host matrix [rows, cols] row-major. */
export interface M { d: Float32Array; r: number; c: number }
export const mat = (t: tf.Tensor): M => ({ d: Float32Array.from(t.dataSync() as Float32Array), r: t.shape[0]!, c: t.shape[1] ?? 1 });
/** a [n, k] · b [k, m] with plain loops (float64 accumulation). */
export function mm(a: M, b: M): M {
  const out = new Float32Array(a.r * b.c);
  for (let i = 0; i < a.r; i++) for (let j = 0; j < b.c; j++) {
    let s = 0;
    for (let k = 0; k < a.c; k++) s += a.d[i * a.c + k]! * b.d[k * b.c + j]!;
    out[i * b.c + j] = s;
  }
  return { d: out, r: a.r, c: b.c };
}
export function tr(a: M): M {
  const out = new Float32Array(a.r * a.c);
  for (let i = 0; i < a.r; i++) for (let j = 0; j < a.c; j++) out[j * a.r + i] = a.d[i * a.c + j]!;
  return { d: out, r: a.c, c: a.r };
}
