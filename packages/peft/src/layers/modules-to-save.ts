/**
 * A trainable copy of a whole linear per adapter (PEFT's ModulesToSaveWrapper,
 * peft/utils/other.py): the active adapter's copy runs, the original stays frozen. The copy is
 * saved under the module's own name — PEFT's get_peft_model_state_dict drops
 * `modules_to_save.<adapter>.`, so `lm_head` is saved as `base_model.model.lm_head.weight`.
 *
 *   const w = new ModulesToSaveLinear(model.getModule('lm_head'));
 *   w.addCopy('default');
 *
 * Dimension legend: N rows, C in features, O out features.
 */
import { tf } from '@llm/tensor-gpu';
import { Linear, type LinearModule } from '@llm/transformer';
import { PeftError } from '../errors.js';
import type { AdapterLayer, DropoutFn } from './adapter-layer.js';
import { baseBias, linearFrom, weightOutIn } from './base-weight.js';

export class ModulesToSaveLinear implements AdapterLayer {
  readonly kind = 'MODULES_TO_SAVE';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly base: LinearModule;
  readonly copies = new Map<string, Linear>();
  active: string | null = null;
  dropout: DropoutFn | null = null;
  readonly merged = null;

  constructor(base: LinearModule) {
    this.base = base;
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }

  /** A trainable float copy of the original (a quantized original is dequantized). */
  addCopy(name: string, trainable = true): Linear {
    if (this.copies.has(name)) throw new PeftError('ADAPTER_EXISTS', `modules_to_save already holds a copy for adapter "${name}".`);
    const layout = this.base instanceof Linear ? this.base.layout : 'out_in';
    const w = weightOutIn(this.base, 'a modules_to_save module');
    const copy = linearFrom(w, baseBias(this.base), layout);
    w.dispose();
    for (const [, v] of copy.namedParameters()) v.trainable = trainable;
    this.copies.set(name, copy);
    return copy;
  }

  adapterNames(): string[] {
    return [...this.copies.keys()];
  }

  /** Suffixes as saved: 'weight', 'bias'. */
  adapterParams(name: string): Array<[string, tf.Variable]> {
    return this.copies.get(name)?.namedParameters() ?? [];
  }

  removeAdapter(name: string): void {
    const c = this.copies.get(name);
    if (!c) return;
    tf.dispose(c.namedParameters().map(([, v]) => v));
    this.copies.delete(name);
    if (this.active === name) this.active = null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const c = this.active !== null ? this.copies.get(this.active) : undefined;
    return (c ?? this.base).apply(x); // [N, O]
  }

  namedParameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = this.base.namedParameters().map(([n, v]) => [`original_module.${n}`, v]);
    for (const [name, c] of this.copies) for (const [n, v] of c.namedParameters()) out.push([`modules_to_save.${name}.${n}`, v]);
    return out;
  }

  merge(): void {}
  unmerge(): void {}
  /** The copy itself becomes the module (PEFT's unload of a ModulesToSaveWrapper). */
  mergedModule(name: string): LinearModule {
    const c = this.copies.get(name);
    if (!c) throw new PeftError('ADAPTER_NOT_FOUND', `modules_to_save has no copy for adapter "${name}".`);
    this.copies.delete(name);
    return c;
  }
}
