/**
 * A bottleneck (Houlsby) adapter after a linear — after attention's output projection and the
 * FFN's down projection. HF PEFT has no such type; adapter-transformers' HoulsbyConfig is the
 * anchor (reduction factor 16, swish). The up projection starts at zero, so the adapter is the
 * identity at init.
 *
 *   h = base(x);  y = h + (act(h W_dᵀ + b_d)) W_uᵀ + b_u      W_d [Bn, O], W_u [O, Bn]
 *
 * Checkpoint names (ours): adapter_down.weight [Bn, O], adapter_down.bias [Bn],
 * adapter_up.weight [O, Bn], adapter_up.bias [O]. It cannot be merged into the base weight
 * (the nonlinearity sits between the projections): merge is PeftError UNSUPPORTED.
 *
 *   const l = new BottleneckLinear(model.getModule('transformer.h.0.mlp.c_proj'));
 *
 * Dimension legend: N rows, C in features, O out features, Bn bottleneck width.
 */
import { tf, gelu, silu } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';
import { PeftError } from '../errors.js';
import type { BottleneckActivation } from '../config.js';
import type { AdapterLayer, DropoutFn } from './adapter-layer.js';
import { ownedVariable } from '@llm/tensor-gpu';

export interface BottleneckAdapter {
  act: BottleneckActivation;
  downW: tf.Variable; // [Bn, O]
  downB: tf.Variable; // [Bn]
  upW: tf.Variable; // [O, Bn]
  upB: tf.Variable; // [O]
}

export class BottleneckLinear implements AdapterLayer {
  readonly kind = 'BOTTLENECK_ADAPTER';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly base: LinearModule;
  readonly adapters = new Map<string, BottleneckAdapter>();
  active: string | null = null;
  dropout: DropoutFn | null = null;
  readonly merged = null;

  constructor(base: LinearModule) {
    this.base = base;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  addAdapter(name: string, o: { act: BottleneckActivation; downW: tf.Tensor; upW: tf.Tensor; trainable?: boolean }): void {
    if (this.adapters.has(name)) throw new PeftError('ADAPTER_EXISTS', `this layer already has an adapter "${name}".`);
    const [Bn] = o.downW.shape as [number, number];
    const t = o.trainable ?? true;
    this.adapters.set(name, {
      act: o.act,
      downW: ownedVariable(o.downW.clone(), t),
      downB: ownedVariable(tf.zeros([Bn]), t),
      upW: ownedVariable(o.upW.clone(), t),
      upB: ownedVariable(tf.zeros([this.outFeatures]), t),
    });
  }

  adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  adapterParams(name: string): Array<[string, tf.Variable]> {
    const a = this.adapters.get(name);
    return a ? [['adapter_down.weight', a.downW], ['adapter_down.bias', a.downB], ['adapter_up.weight', a.upW], ['adapter_up.bias', a.upB]] : [];
  }

  removeAdapter(name: string): void {
    const a = this.adapters.get(name);
    if (!a) return;
    tf.dispose([a.downW, a.downB, a.upW, a.upB]);
    this.adapters.delete(name);
    if (this.active === name) this.active = null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const a = this.active !== null ? this.adapters.get(this.active) : undefined;
    if (!a) return this.base.apply(x);
    return tf.tidy(() => {
      const h = this.base.apply(x); // [N, O]
      const d = tf.matMul(h, a.downW, false, true).add(a.downB); // [N, Bn]
      const act = a.act === 'relu' ? tf.relu(d) : a.act === 'gelu' ? gelu(d, 'erf') : silu(d); // [N, Bn]
      return h.add(tf.matMul(act, a.upW, false, true).add(a.upB)); // [N, O]
    });
  }

  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = this.base.namedParameters().map(([n, v]) => [`base_layer.${n}`, v]);
    for (const name of this.adapters.keys()) for (const [rel, v] of this.adapterParams(name)) out.push([rel.replace('.', `.${name}.`), v]);
    return out;
  }

  merge(): void {
    throw unsupported();
  }
  unmerge(): void {}
  mergedModule(): LinearModule {
    throw unsupported();
  }
}

function unsupported(): PeftError {
  return new PeftError('UNSUPPORTED', 'bottleneck adapters cannot be merged into the base weights (a nonlinearity sits between the down and up projections); keep the PeftModel, or save the adapter with saveAdapter().');
}
