/**
 * What every adapter wrapper of a linear shares: a base layer kept as `base`, several named
 * adapters, at most one active (null = adapters disabled), an optional merged adapter, and the
 * dropout function PeftModel hands in while training.
 *
 *   const l = model.getModule('transformer.h.0.attn.c_attn');
 *   if (isAdapterLayer(l)) l.adapterNames(); // ['default']
 */
import type { tf } from '@llm/tensor-gpu';
import type { LinearModule } from '@llm/transformer';

export type DropoutFn = (x: tf.Tensor, p: number) => tf.Tensor;

export interface AdapterLayer extends LinearModule {
  readonly base: LinearModule;
  /** 'LORA' | 'IA3' | 'BOTTLENECK_ADAPTER'. */
  readonly kind: string;
  active: string | null;
  dropout: DropoutFn | null;
  /** Name of the adapter folded into the base weight, or null. */
  readonly merged: string | null;
  adapterNames(): string[];
  /** The adapter's weights by their PEFT checkpoint suffix ('lora_A.weight', 'lora_magnitude_vector', 'ia3_l', …). */
  adapterParams(name: string): Array<[string, tf.Variable]>;
  /** Drop adapter `name` and free its weights (unmerging it first if merged). */
  removeAdapter(name: string): void;
  merge(name: string): void;
  unmerge(): void;
  /** A plain module computing base + adapter `name` (a new Linear; the wrapper's weights are untouched). */
  mergedModule(name: string, layout: 'in_out' | 'out_in'): LinearModule;
}

export function isAdapterLayer(m: LinearModule): m is AdapterLayer {
  return typeof (m as Partial<AdapterLayer>).adapterParams === 'function' && 'base' in m;
}
