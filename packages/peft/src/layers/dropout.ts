/**
 * Inverted dropout for adapter inputs, drawn from a host Rng (identical on every backend).
 *
 *   const drop = dropoutFn(new Rng(1));
 *   drop(tf.ones([2, 4]), 0.5); // entries 0 or 2
 */
import { tf, type Rng } from '@llm/tensor-gpu';
import type { DropoutFn } from './adapter-layer.js';

export function dropoutFn(rng: Rng): DropoutFn {
  return (x, p) => {
    const keep = 1 / (1 - p);
    const m = new Float32Array(x.size);
    for (let i = 0; i < m.length; i++) m[i] = rng.next() >= p ? keep : 0;
    return tf.tidy(() => x.mul(tf.tensor(m, x.shape)));
  };
}
