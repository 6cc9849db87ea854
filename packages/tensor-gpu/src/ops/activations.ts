/**
 * Activations of GPT-2 (GELU) and Llama (SiLU / SwiGLU).
 *
 *   gelu(x, 'tanh') = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))   (GPT-2's "gelu_new")
 *   gelu(x, 'erf')  = 0.5·x·(1 + erf(x/√2))                          (exact, torch's default)
 *   silu(x)         = x·σ(x)
 *   swiglu(g, u)    = silu(g)·u
 *
 *   e.g. gelu(1, 'erf') ≈ 0.841345, gelu(1, 'tanh') ≈ 0.841192, silu(1) ≈ 0.731059
 */
import { tf } from '../tf.js';

export type GeluApproximation = 'tanh' | 'erf';

export function gelu(x: tf.Tensor, approximate: GeluApproximation = 'tanh'): tf.Tensor {
  return tf.tidy(() => {
    if (approximate === 'erf') return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(tf.tanh(inner).add(1)).mul(0.5);
  });
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => x.mul(tf.sigmoid(x)));
}

export function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  return tf.tidy(() => silu(gate).mul(up));
}
