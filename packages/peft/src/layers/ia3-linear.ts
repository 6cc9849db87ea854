/**
 * (IA)³ around a base linear, as PEFT's ia3.Linear (peft/tuners/ia3/layer.py): a learned vector
 * `ia3_l`, initialized to 1, scales the layer's input for feed-forward modules ([1, C], PEFT's
 * shape) or its output, bias included, for the others ([O, 1]).
 *
 *   feed-forward: y = base(x ⊙ l)          other: y = base(x) ⊙ l
 *
 *   const l = new Ia3Linear(model.getModule('model.layers.0.mlp.down_proj'));
 *   l.addAdapter('default', { feedforward: true, init: tf.ones([1, 172]) });
 *
 * Dimension legend: N rows, C in features, O out features.
 */
import { tf } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';
import { PeftError } from '../errors.js';
import type { AdapterLayer, DropoutFn } from './adapter-layer.js';
import { ownedVariable } from '@llm/tensor-gpu';
import { assignOutIn, baseBias, linearFrom, mergeableLinear, weightOutIn } from './base-weight.js';
import { sameShape } from './lora-linear.js';

export interface Ia3Adapter {
  feedforward: boolean;
  /** [1, C] (feed-forward) or [O, 1] */
  l: tf.Variable;
}

export class Ia3Linear implements AdapterLayer {
  readonly kind = 'IA3';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly base: LinearModule;
  readonly adapters = new Map<string, Ia3Adapter>();
  active: string | null = null;
  dropout: DropoutFn | null = null;
  private mergedName: string | null = null;

  constructor(base: LinearModule) {
    this.base = base;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  get merged(): string | null {
    return this.mergedName;
  }

  /** PEFT's shape of the vector: [1, C] for feed-forward modules, else [O, 1]. */
  shapeFor(feedforward: boolean): [number, number] {
    return feedforward ? [1, this.inFeatures] : [this.outFeatures, 1];
  }

  addAdapter(name: string, o: { feedforward: boolean; init: tf.Tensor; trainable?: boolean }): void {
    if (this.adapters.has(name)) throw new PeftError('ADAPTER_EXISTS', `this layer already has an adapter "${name}".`);
    const shape = this.shapeFor(o.feedforward);
    if (!sameShape(o.init.shape, shape)) throw new PeftError('SHAPE_MISMATCH', `ia3 adapter "${name}": ia3_l must be [${shape}], got [${o.init.shape}].`);
    this.adapters.set(name, { feedforward: o.feedforward, l: ownedVariable(o.init.clone(), o.trainable ?? true) });
  }

  adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  adapterParams(name: string): Array<[string, tf.Variable]> {
    const a = this.adapters.get(name);
    return a ? [['ia3_l', a.l]] : [];
  }

  removeAdapter(name: string): void {
    const a = this.adapters.get(name);
    if (!a) return;
    if (this.mergedName === name) this.unmerge();
    a.l.dispose();
    this.adapters.delete(name);
    if (this.active === name) this.active = null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const a = this.active !== null && this.mergedName === null ? this.adapters.get(this.active) : undefined;
    if (!a) return this.base.apply(x);
    return tf.tidy(() => {
      if (a.feedforward) return this.base.apply(x.mul(a.l)); // [N, C] ⊙ [1, C] → [N, O]
      return this.base.apply(x).mul(a.l.reshape([1, this.outFeatures])); // [N, O]
    });
  }

  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = this.base.namedParameters().map(([n, v]) => [`base_layer.${n}`, v]);
    for (const [name, a] of this.adapters) out.push([`ia3_l.${name}`, a.l]);
    return out;
  }

  /** W[O, C] ⊙ l (l [1, C] scales columns, [O, 1] rows); the bias is scaled too for output scaling (PEFT's merge). */
  merge(name: string): void {
    if (this.mergedName !== null) throw new PeftError('UNSUPPORTED', `merge: adapter "${this.mergedName}" is already merged into this layer; unmerge() first.`);
    const a = this.need(name);
    const lin = mergeableLinear(this.base, 'this IA3 layer');
    tf.tidy(() => {
      assignOutIn(lin, weightOutIn(lin).mul(a.l)); // [O, C]
      if (!a.feedforward && lin.bias) lin.bias.assign(lin.bias.mul(a.l.reshape([-1])));
    });
    this.mergedName = name;
  }

  /** Divide back out (PEFT adds 1e-8 to the divisor; so do we). */
  unmerge(): void {
    const name = this.mergedName;
    if (name === null) return;
    const a = this.need(name);
    const lin = mergeableLinear(this.base, 'this IA3 layer');
    tf.tidy(() => {
      assignOutIn(lin, weightOutIn(lin).div(a.l.add(1e-8))); // [O, C]
      if (!a.feedforward && lin.bias) lin.bias.assign(lin.bias.div(a.l.reshape([-1]).add(1e-8)));
    });
    this.mergedName = null;
  }

  mergedModule(name: string, layout: 'in_out' | 'out_in'): LinearModule {
    const a = this.need(name);
    if (this.mergedName !== null) throw new PeftError('UNSUPPORTED', 'mergedModule: unmerge() first.');
    const w = tf.tidy(() => weightOutIn(this.base).mul(a.l) as tf.Tensor2D); // [O, C]
    const b0 = baseBias(this.base);
    const b = b0 && !a.feedforward ? tf.tidy(() => b0.mul(a.l.reshape([-1]))) : b0;
    const m = linearFrom(w, b, layout);
    tf.dispose([w, ...(b && b !== b0 ? [b] : [])]);
    return m;
  }

  private need(name: string): Ia3Adapter {
    const a = this.adapters.get(name);
    if (!a) throw new PeftError('ADAPTER_NOT_FOUND', `this layer has no adapter "${name}".`);
    return a;
  }
}
