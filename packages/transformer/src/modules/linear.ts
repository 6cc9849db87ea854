/**
 * Linear layers as the module tree sees them: anything with `apply(x [N, in]) → [N, out]` can
 * stand in (LoRA wrappers, quantized linears).
 *
 * Weight layouts follow the HF checkpoint so load/save never transpose:
 *   'in_out' — GPT-2's Conv1D, weight [in, out], y = x·W + b
 *   'out_in' — nn.Linear (Llama, lm_head), weight [out, in], y = x·Wᵀ + b
 *
 *   const fc = new Linear({ inFeatures: 4, outFeatures: 8, layout: 'in_out', bias: true });
 *   fc.apply(tf.ones([3, 4])); // [3, 8]
 */
import { tf, ownedVariable } from '@llm/tensor-gpu';

export type WeightLayout = 'in_out' | 'out_in';

export interface LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** x [N, in] → [N, out]. */
  apply(x: tf.Tensor): tf.Tensor;
  /** Its weights by name relative to the module ('weight', 'bias', 'lora_A.weight', …). */
  namedParameters(): Array<[string, tf.Variable]>;
}

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  layout: WeightLayout;
  bias: boolean;
  /** Initial weight in `layout` (default zeros): a tf.Variable is used as is, a tensor is copied into a trainable one. */
  weight?: tf.Tensor | tf.Variable;
  /** Initial bias (copied; the caller keeps its tensor). Default zeros. */
  biasValue?: tf.Tensor;
}

export class Linear implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly layout: WeightLayout;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(o: LinearOptions) {
    this.inFeatures = o.inFeatures;
    this.outFeatures = o.outFeatures;
    this.layout = o.layout;
    const shape = o.layout === 'in_out' ? [o.inFeatures, o.outFeatures] : [o.outFeatures, o.inFeatures];
    this.weight = o.weight instanceof tf.Variable ? o.weight : ownedVariable(o.weight ? o.weight.clone() : tf.zeros(shape), true);
    this.bias = o.bias ? ownedVariable(o.biasValue ? o.biasValue.clone() : tf.zeros([o.outFeatures]), true) : null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.matMul(x, this.weight, false, this.layout === 'out_in'); // [N, out]
      return this.bias ? y.add(this.bias) : y;
    });
  }

  namedParameters(): Array<[string, tf.Variable]> {
    return this.bias ? [['weight', this.weight], ['bias', this.bias]] : [['weight', this.weight]];
  }
}
