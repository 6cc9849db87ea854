/**
 * GPTQ over a whole model: calibration sequences → for each sequential group (AutoGPTQ's
 * true_sequential order, layer by layer) capture the inputs of its linears with everything before
 * already quantized, accumulate H = 2·XᵀX/n (n = sequences, as AutoGPTQ's add_batch), run GPTQ on
 * each linear, and replace it by a GptqLinear (HF/AutoGPTQ packed layout). lm_head is kept.
 *
 *   const report = gptqQuantizeModel(model, { groupSize: 128, actOrder: true,
 *     calibration: { tokenizer, texts: ['…'] } });
 *   await saveGptqCheckpoint(model, 'out/gptq', report.config);
 */
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { gptqQuantize, HessianAccumulator } from './gptq.js';
import { captureInputs, calibrationSequences, linearWeight, sequentialGroups, type CalibrationOptions } from './calibrate.js';
import { GptqLinear } from './module.js';
import { packGptq } from './pack.js';

export interface GptqModelOptions {
  /** Default 128 (−1: one group per row). */
  groupSize?: number;
  /** desc_act. Default false. */
  actOrder?: boolean;
  /** Default 0.01. */
  dampPercent?: number;
  /** Default 128. */
  blockSize?: number;
  calibration: CalibrationOptions;
  /** Linears (HF names) to leave in float. */
  skip?: readonly string[];
  /** Called after each linear is quantized. */
  onProgress?: (p: { name: string; done: number; total: number; loss: number }) => void;
}

/** HF transformers' quantization_config for the checkpoint (GPTQConfig, checkpoint_format "gptq"). */
export interface GptqQuantizationConfig {
  quant_method: 'gptq';
  bits: 4;
  group_size: number;
  desc_act: boolean;
  sym: boolean;
  damp_percent: number;
  true_sequential: boolean;
  static_groups: boolean;
  checkpoint_format: 'gptq';
}

export interface GptqReport {
  /** AutoGPTQ's per-linear loss Σ(w − q)²/U_ii²/2. */
  losses: Map<string, number>;
  config: GptqQuantizationConfig;
  samples: number;
}

export function gptqQuantizeModel(model: TransformerLM, opts: GptqModelOptions): GptqReport {
  const groupSize = opts.groupSize ?? 128;
  const actOrder = opts.actOrder ?? false;
  const damp = opts.dampPercent ?? 0.01;
  if (!(damp > 0 && damp < 1)) throw new QuantError('INVALID_ARGUMENT', `GPTQ: dampPercent must be in (0, 1), got ${damp}.`);
  const seqs = calibrationSequences(model, opts.calibration);
  const skip = new Set(opts.skip ?? []);
  const groups = sequentialGroups(model).map((g) => g.names.filter((n) => !skip.has(n))).filter((g) => g.length > 0);
  const total = groups.reduce((a, g) => a + g.length, 0);
  const losses = new Map<string, number>();
  for (const names of groups) {
    const acc = new Map(names.map((n) => [n, new HessianAccumulator(model.getModule(n).inFeatures)]));
    captureInputs(model, names, seqs, (name, x) => {
      const xtx = tf.tidy(() => tf.matMul(x, x, true, false).dataSync() as Float32Array); // [in, in]
      acc.get(name)!.add(xtx, 1);
    });
    for (const name of names) {
      const m = model.getModule(name);
      const { W, bias } = linearWeight(m, name);
      const q = gptqQuantize(W, m.outFeatures, m.inFeatures, acc.get(name)!.H, { groupSize, actOrder, dampPercent: damp, ...(opts.blockSize ? { blockSize: opts.blockSize } : {}) });
      model.replaceModule(name, new GptqLinear(packGptq(q), bias));
      losses.set(name, q.loss);
      opts.onProgress?.({ name, done: losses.size, total, loss: q.loss });
    }
  }
  const config: GptqQuantizationConfig = {
    quant_method: 'gptq', bits: 4, group_size: groupSize, desc_act: actOrder, sym: false, damp_percent: damp,
    true_sequential: true, static_groups: false, checkpoint_format: 'gptq',
  };
  return { losses, config, samples: seqs.length };
}
