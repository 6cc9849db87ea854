/**
 * PEFT's print_trainable_parameters line (peft/peft_model.py get_nb_trainable_parameters):
 * `trainable params: {t:,} || all params: {a:,} || trainable%: {100·t/a:.4f}`.
 * A quantized base linear counts its logical out·in weights (bitsandbytes' Params4bit numel × 2,
 * as PEFT counts it); its packed bytes, scales and constants are not parameters.
 *
 *   trainableParameters(peft).line; // 'trainable params: 1,536 || all params: 58,176 || trainable%: 2.6402'
 */
import type { TransformerLM } from '@llm/transformer';
import { QuantizedLinear } from '@llm/quant';
import { PeftModel } from './peft-model.js';
import { isAdapterLayer } from './layers/adapter-layer.js';

export interface TrainableCount {
  trainable: number;
  all: number;
  percent: number;
  line: string;
}

export function trainableParameters(model: PeftModel | TransformerLM): TrainableCount {
  let trainable = 0;
  let all = 0;
  for (const [, v] of model.namedParameters()) {
    all += v.size;
    if (v.trainable) trainable += v.size;
  }
  const base = model instanceof PeftModel ? model.base : model;
  for (const name of base.linearNames()) {
    let m = base.getModule(name);
    while (isAdapterLayer(m)) m = m.base;
    if (m instanceof QuantizedLinear) all += m.inFeatures * m.outFeatures;
  }
  const percent = all === 0 ? 0 : (100 * trainable) / all;
  return { trainable, all, percent, line: `trainable params: ${commas(trainable)} || all params: ${commas(all)} || trainable%: ${percent.toFixed(4)}` };
}

/** Python's `{:,d}`. */
function commas(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export interface MemoryFootprint {
  /** Bytes of every weight as held: float32 variables × 4, quantized linears' packed bytes (scales included). */
  weightBytes: number;
  /** Scalars an optimizer updates. */
  trainable: number;
  /** AdamW's two float32 moments per trainable scalar (8 bytes each). */
  optimizerBytes: number;
}

/**
 * Memory of weights and optimizer state, to set LoRA, QLoRA and full fine-tuning side by side.
 *
 *   memoryFootprint(peft); // { weightBytes: 232_704, trainable: 1_536, optimizerBytes: 12_288 }
 */
export function memoryFootprint(model: PeftModel | TransformerLM): MemoryFootprint {
  let weightBytes = 0;
  let trainable = 0;
  for (const [, v] of model.namedParameters()) {
    weightBytes += v.size * 4;
    if (v.trainable) trainable += v.size;
  }
  const base = model instanceof PeftModel ? model.base : model;
  for (const name of base.linearNames()) {
    let m = base.getModule(name);
    while (isAdapterLayer(m)) m = m.base;
    if (m instanceof QuantizedLinear) weightBytes += m.byteSize();
  }
  return { weightBytes, trainable, optimizerBytes: trainable * 8 };
}
