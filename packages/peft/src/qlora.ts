/**
 * QLoRA = LoRA over a frozen NF4 (double-quantized) base: quantize the linears with @llm/quant,
 * then attach LoRA; gradients reach A and B through the dequantized weight (the NF4 state is a
 * constant, so nothing else trains).
 *
 *   const report = prepareQlora(model);                    // NF4 + double quant, lm_head kept in float
 *   const peft = getPeftModel(model, { peftType: 'LORA', r: 8, targetModules: 'all-linear' });
 *
 * merge() on an NF4 base is PeftError UNSUPPORTED (the packed weight cannot be rewritten in
 * place); mergeAndUnload() builds float32 Linears from the dequantized weights plus s·BA.
 */
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from '@llm/quant';
import type { TransformerLM } from '@llm/transformer';

export function prepareQlora(model: TransformerLM, opts: Partial<Omit<QuantizeOptions, 'scheme'>> = {}): QuantizeReport {
  const report = quantizeModel(model, { doubleQuant: true, ...opts, scheme: 'nf4' });
  model.setTrainable(/./, false);
  return report;
}
