/**
 * The base layer's weight seen the way PEFT's math sees it: [O, C] (nn.Linear's [out, in]),
 * whatever the storage: a float Linear in either layout (GPT-2's Conv1D stores [C, O], PEFT's
 * fan_in_fan_out) or a quantized linear (dequantized on the fly, as PEFT's dequantize_module_weight).
 * Dimension legend: C in features, O out features.
 *
 *   const w = weightOutIn(model.getModule('transformer.h.0.attn.c_attn')); // [3C, C]
 */
import { tf } from '@llm/tensor-gpu';
import { Linear, type LinearModule } from '@llm/transformer';
import { QuantizedLinear } from '@llm/quant';
import { PeftError } from '../errors.js';
import { ownedVariable } from '@llm/tensor-gpu';

/** [O, C] as a new tensor (caller disposes, or call inside tf.tidy). */
export function weightOutIn(base: LinearModule, what = 'base layer'): tf.Tensor2D {
  if (base instanceof Linear) return (base.layout === 'in_out' ? base.weight.transpose() : base.weight.clone()) as tf.Tensor2D; // [O, C]
  if (base instanceof QuantizedLinear) return base.dequantizedWeight(); // [O, C]
  throw new PeftError('UNSUPPORTED', `${what} is a ${base.constructor?.name ?? typeof base}, which exposes no weight; only float (Linear) and quantized (@llm/quant) linears can carry DoRA or be merged.`);
}

/** The base layer's bias [O], or null. */
export function baseBias(base: LinearModule): tf.Variable | null {
  if (base instanceof Linear || base instanceof QuantizedLinear) return base.bias;
  const b = base.namedParameters().find(([n]) => n === 'bias');
  return b ? b[1] : null;
}

/** The base as a float Linear whose weight merge can rewrite in place, or PeftError UNSUPPORTED. */
export function mergeableLinear(base: LinearModule, what: string): Linear {
  if (base instanceof Linear) return base;
  const kind = base instanceof QuantizedLinear ? `a quantized (${base.scheme}) linear` : `a ${base.constructor?.name ?? typeof base}`;
  throw new PeftError('UNSUPPORTED', `merge: ${what} wraps ${kind}; its weight cannot be rewritten in place. Use mergeAndUnload(), which builds a float32 Linear from the dequantized weight.`);
}

/** Write an [O, C] value into a Linear's weight in its own layout. */
export function assignOutIn(lin: Linear, wOutIn: tf.Tensor): void {
  tf.tidy(() => lin.weight.assign(lin.layout === 'in_out' ? wOutIn.transpose() : wOutIn));
}

/** A new float Linear in `layout` holding the [O, C] weight and the bias (copied). */
export function linearFrom(wOutIn: tf.Tensor2D, bias: tf.Tensor | null, layout: 'in_out' | 'out_in'): Linear {
  const [O, C] = wOutIn.shape;
  const weight = ownedVariable(layout === 'in_out' ? wOutIn.transpose() : wOutIn.clone(), false);
  return new Linear({ inFeatures: C, outFeatures: O, layout, bias: bias !== null, weight, ...(bias ? { biasValue: bias } : {}) });
}

/** Stops gradients: the value of x, with a zero gradient (PEFT's .detach()). */
export const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
