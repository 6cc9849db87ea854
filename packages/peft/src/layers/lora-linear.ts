/**
 * LoRA (and DoRA) around a base linear, as PEFT's lora.Linear (peft/tuners/lora/layer.py) and
 * DoraLinearLayer (peft/tuners/lora/dora.py, variants.py DoraLinearVariant).
 *
 *   y = base(x) + s · (drop(x) Aᵀ) Bᵀ                    A [R, C], B [O, R], s = α/r (or α/√r, rsLoRA)
 *   DoRA: f = m / ‖W + s·BA‖_row (norm detached), y = base(x) + (f − 1)⊙(x Wᵀ) + f⊙s·(x Aᵀ)Bᵀ
 *         (with dropout on, x Wᵀ is taken of the dropped-out input, without bias — PEFT's rule)
 *
 * W is the base weight seen as [O, C] (GPT-2's Conv1D [C, O] is transposed: PEFT's fan_in_fan_out).
 * Several adapters can live in one layer; `active` picks the one that runs (null: none).
 *
 *   const l = new LoraLinear(model.getModule('transformer.h.0.attn.c_attn'));
 *   l.addAdapter('default', { r: 8, alpha: 16, dropout: 0, useDora: false, A, B });
 *   model.replaceModule('transformer.h.0.attn.c_attn', l);
 *
 * Dimension legend: N rows, C in features, O out features, R rank.
 */
import { tf } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';
import { PeftError } from '../errors.js';
import type { AdapterLayer, DropoutFn } from './adapter-layer.js';
import { ownedVariable } from '@llm/tensor-gpu';
import { assignOutIn, baseBias, detach, linearFrom, mergeableLinear, weightOutIn } from './base-weight.js';

export interface LoraAdapterInit {
  r: number;
  scaling: number;
  dropout: number;
  /** [R, C] */
  A: tf.Tensor;
  /** [O, R] */
  B: tf.Tensor;
  /** DoRA: initialize the magnitude vector to ‖W + s·BA‖ per output row. */
  useDora: boolean;
  trainable?: boolean;
}

export interface LoraAdapter {
  r: number;
  scaling: number;
  dropout: number;
  A: tf.Variable; // [R, C]
  B: tf.Variable; // [O, R]
  magnitude: tf.Variable | null; // [O]
}

export class LoraLinear implements AdapterLayer {
  readonly kind = 'LORA';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly base: LinearModule;
  readonly adapters = new Map<string, LoraAdapter>();
  active: string | null = null;
  dropout: DropoutFn | null = null;
  private mergedName: string | null = null;
  /** DoRA merge: the row norms ‖W + s·BA‖ of the unmerged weight, needed to unmerge. */
  private mergedNorm: tf.Tensor1D | null = null;

  constructor(base: LinearModule) {
    this.base = base;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  get merged(): string | null {
    return this.mergedName;
  }

  addAdapter(name: string, init: LoraAdapterInit): void {
    if (this.adapters.has(name)) throw new PeftError('ADAPTER_EXISTS', `this layer already has an adapter "${name}".`);
    const C = this.inFeatures;
    const O = this.outFeatures;
    if (!sameShape(init.A.shape, [init.r, C]) || !sameShape(init.B.shape, [O, init.r])) {
      throw new PeftError('SHAPE_MISMATCH', `lora adapter "${name}": A must be [${init.r}, ${C}] and B [${O}, ${init.r}], got [${init.A.shape}] and [${init.B.shape}].`);
    }
    const trainable = init.trainable ?? true;
    const A = ownedVariable(init.A.clone(), trainable);
    const B = ownedVariable(init.B.clone(), trainable);
    const magnitude = init.useDora ? ownedVariable(this.rowNorm(A, B, init.scaling), trainable) : null;
    this.adapters.set(name, { r: init.r, scaling: init.scaling, dropout: init.dropout, A, B, magnitude });
  }

  adapterNames(): string[] {
    return [...this.adapters.keys()];
  }

  /** PEFT checkpoint suffixes: lora_A.weight [R, C], lora_B.weight [O, R], lora_magnitude_vector [O] (no ".weight": PEFT strips it, peft/tuners/lora/model.py). */
  adapterParams(name: string): Array<[string, tf.Variable]> {
    const a = this.adapters.get(name);
    if (!a) return [];
    const out: Array<[string, tf.Variable]> = [['lora_A.weight', a.A], ['lora_B.weight', a.B]];
    if (a.magnitude) out.push(['lora_magnitude_vector', a.magnitude]);
    return out;
  }

  removeAdapter(name: string): void {
    const a = this.adapters.get(name);
    if (!a) return;
    if (this.mergedName === name) this.unmerge();
    tf.dispose([a.A, a.B, ...(a.magnitude ? [a.magnitude] : [])]);
    this.adapters.delete(name);
    if (this.active === name) this.active = null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = this.base.apply(x); // [N, O]
      const a = this.active !== null && this.mergedName === null ? this.adapters.get(this.active) : undefined;
      if (!a) return y;
      const xd = this.dropout && a.dropout > 0 ? this.dropout(x, a.dropout) : x; // [N, C]
      const lora = tf.matMul(tf.matMul(xd, a.A, false, true), a.B, false, true).mul(a.scaling); // [N, R] → [N, O]
      if (!a.magnitude) return y.add(lora); // [N, O]
      const f = a.magnitude.div(detach(this.rowNorm(a.A, a.B, a.scaling))); // [O]
      let baseOut: tf.Tensor; // x Wᵀ without bias [N, O]
      if (xd === x) {
        const bias = baseBias(this.base);
        baseOut = bias ? y.sub(bias) : y;
      } else {
        baseOut = tf.matMul(xd, weightOutIn(this.base), false, true); // [N, O]
      }
      return y.add(baseOut.mul(f.sub(1))).add(lora.mul(f)); // [N, O]
    });
  }

  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = this.base.namedParameters().map(([n, v]) => [`base_layer.${n}`, v]);
    for (const [name, a] of this.adapters) {
      out.push([`lora_A.${name}.weight`, a.A], [`lora_B.${name}.weight`, a.B]);
      if (a.magnitude) out.push([`lora_magnitude_vector.${name}.weight`, a.magnitude]);
    }
    return out;
  }

  /** s · B A [O, C] of adapter `name`. */
  delta(name: string): tf.Tensor2D {
    const a = this.need(name);
    return tf.tidy(() => tf.matMul(a.B, a.A).mul(a.scaling)) as tf.Tensor2D; // [O, C]
  }

  /** Fold adapter `name` into the base weight in place (float Linear bases only). */
  merge(name: string): void {
    if (this.mergedName !== null) throw new PeftError('UNSUPPORTED', `merge: adapter "${this.mergedName}" is already merged into this layer; unmerge() first.`);
    const a = this.need(name);
    const lin = mergeableLinear(this.base, 'this LoRA layer');
    tf.tidy(() => {
      const w = weightOutIn(lin); // [O, C]
      const d = this.delta(name); // [O, C]
      if (!a.magnitude) return assignOutIn(lin, w.add(d));
      const norm = tf.keep(w.add(d).square().sum(1).sqrt() as tf.Tensor1D); // [O]
      this.mergedNorm = norm;
      assignOutIn(lin, w.add(d).mul(a.magnitude.div(norm).reshape([-1, 1]))); // [O, C]
    });
    this.mergedName = name;
  }

  /** Take the merged adapter back out of the base weight (W = W' − s·BA; DoRA: W'/f − s·BA). */
  unmerge(): void {
    const name = this.mergedName;
    if (name === null) return;
    const a = this.need(name);
    const lin = mergeableLinear(this.base, 'this LoRA layer');
    tf.tidy(() => {
      const w = weightOutIn(lin); // [O, C]
      const d = this.delta(name); // [O, C]
      if (!a.magnitude) return assignOutIn(lin, w.sub(d));
      const f = a.magnitude.div(this.mergedNorm!).reshape([-1, 1]); // [O, 1]
      assignOutIn(lin, w.div(f).sub(d));
    });
    this.mergedNorm?.dispose();
    this.mergedNorm = null;
    this.mergedName = null;
  }

  /** A new plain Linear (in `layout`) computing base + adapter `name` (for NF4 bases: the dequantized weight in float32). */
  mergedModule(name: string, layout: 'in_out' | 'out_in'): LinearModule {
    const a = this.need(name);
    if (this.mergedName !== null) throw new PeftError('UNSUPPORTED', 'mergedModule: unmerge() first.');
    const w = tf.tidy(() => {
      const sum = weightOutIn(this.base).add(this.delta(name)); // [O, C]
      return (a.magnitude ? sum.mul(a.magnitude.div(sum.square().sum(1).sqrt()).reshape([-1, 1])) : sum) as tf.Tensor2D; // [O, C]
    });
    const m = linearFrom(w, baseBias(this.base), layout);
    w.dispose();
    return m;
  }

  /** ‖W + s·BA‖ over the input dim, per output row [O] (PEFT's get_weight_norm). */
  private rowNorm(A: tf.Tensor, B: tf.Tensor, scaling: number): tf.Tensor1D {
    return tf.tidy(() => weightOutIn(this.base).add(tf.matMul(B, A).mul(scaling)).square().sum(1).sqrt()) as tf.Tensor1D; // [O]
  }

  private need(name: string): LoraAdapter {
    const a = this.adapters.get(name);
    if (!a) throw new PeftError('ADAPTER_NOT_FOUND', `this layer has no adapter "${name}" (it has ${this.adapterNames().join(', ') || 'none'}).`);
    return a;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
