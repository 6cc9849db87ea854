/**
 * Calibration for GPTQ and AWQ: token sequences from text (through the tokenizer) or ids, the
 * sequential groups of linears (AutoGPTQ's true_sequential order), and capturing a linear's INPUT
 * activations from real forwards by wrapping it in a recording module (replaceModule), running the
 * model, and restoring it.
 *
 * Sequential quantization as AutoGPTQ: the groups of a layer are quantized in forward order and
 * each group's inputs are captured with every earlier group already quantized, so layer i+1 sees
 * the outputs of the quantized layers ≤ i. A forward stops (a private sentinel error) as soon as
 * the group's last linear has recorded its input, so the cost is a prefix of a forward per group.
 */
import { tf } from '@llm/tensor-gpu';
import type { LinearModule, TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { linearWeight as floatLinearWeight } from '../modules/quantize-model.js';

export interface CalibrationOptions {
  /** Encodes each text (anything with encode(text) → ids). Needed with `texts`. */
  tokenizer?: { encode(text: string): number[] };
  texts?: readonly string[];
  /** Token id sequences (instead of texts). */
  ids?: ReadonlyArray<readonly number[]>;
  /** Tokens per calibration sequence (texts and ids are cut into pieces this long). Default min(blockSize, 256). */
  seqLen?: number;
  /** At most this many sequences. Default 128 (AutoGPTQ's usual count). */
  maxSamples?: number;
}

/** Calibration sequences (each 2..seqLen ids, all < vocabSize). */
export function calibrationSequences(model: TransformerLM, cal: CalibrationOptions): number[][] {
  const seqLen = cal.seqLen ?? Math.min(model.config.blockSize, 256);
  if (!Number.isInteger(seqLen) || seqLen < 2 || seqLen > model.config.blockSize) throw new QuantError('INVALID_ARGUMENT', `calibration.seqLen must be an integer in [2, ${model.config.blockSize}] (the model's blockSize), got ${seqLen}.`);
  const max = cal.maxSamples ?? 128;
  let streams: number[][];
  if (cal.ids) streams = cal.ids.map((s) => [...s]);
  else if (cal.texts) {
    if (!cal.tokenizer) throw new QuantError('INVALID_ARGUMENT', 'calibration: texts need a tokenizer (calibration.tokenizer).');
    streams = cal.texts.map((t) => cal.tokenizer!.encode(t));
  } else throw new QuantError('INVALID_ARGUMENT', 'calibration: give texts (with a tokenizer) or ids.');
  const V = model.config.vocabSize;
  const out: number[][] = [];
  for (const s of streams) {
    for (const id of s) if (!Number.isInteger(id) || id < 0 || id >= V) throw new QuantError('INVALID_ARGUMENT', `calibration: token id ${id} is outside the model's vocabulary [0, ${V}).`);
    for (let i = 0; i + 2 <= s.length && out.length < max; i += seqLen) out.push(s.slice(i, i + seqLen));
  }
  if (out.length === 0) throw new QuantError('INVALID_ARGUMENT', 'calibration: no sequence of at least 2 tokens; give more calibration text.');
  return out;
}

export type GroupKind = 'attn_in' | 'attn_out' | 'mlp_in' | 'mlp_out';

export interface LinearGroup {
  /** Linears that read the same input, in forward order. */
  names: string[];
  kind: GroupKind;
  /** The norm right before (attn_in / mlp_in): AWQ folds 1/s into it. */
  norm: string | null;
  layer: number;
}

/** AutoGPTQ's true_sequential groups of every block (lm_head and MoE are not quantized). */
export function sequentialGroups(model: TransformerLM): LinearGroup[] {
  const cfg = model.config;
  if (cfg.nExperts > 0) throw new QuantError('UNSUPPORTED', 'GPTQ/AWQ: mixture-of-experts models are not supported yet.');
  const groups: LinearGroup[] = [];
  for (let l = 0; l < cfg.nLayer; l++) {
    if (cfg.family === 'gpt2') {
      const p = `transformer.h.${l}`;
      groups.push({ names: [`${p}.attn.c_attn`], kind: 'attn_in', norm: `${p}.ln_1`, layer: l });
      groups.push({ names: [`${p}.attn.c_proj`], kind: 'attn_out', norm: null, layer: l });
      groups.push({ names: [`${p}.mlp.c_fc`], kind: 'mlp_in', norm: `${p}.ln_2`, layer: l });
      groups.push({ names: [`${p}.mlp.c_proj`], kind: 'mlp_out', norm: null, layer: l });
    } else {
      const p = `model.layers.${l}`;
      groups.push({ names: ['q_proj', 'k_proj', 'v_proj'].map((n) => `${p}.self_attn.${n}`), kind: 'attn_in', norm: `${p}.input_layernorm`, layer: l });
      groups.push({ names: [`${p}.self_attn.o_proj`], kind: 'attn_out', norm: null, layer: l });
      groups.push({ names: [`${p}.mlp.gate_proj`, `${p}.mlp.up_proj`], kind: 'mlp_in', norm: `${p}.post_attention_layernorm`, layer: l });
      groups.push({ names: [`${p}.mlp.down_proj`], kind: 'mlp_out', norm: null, layer: l });
    }
  }
  return groups;
}

class StopForward extends Error {}

class Recorder implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(readonly base: LinearModule, private readonly onInput: (x: tf.Tensor) => void, private readonly last: boolean) {
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }
  apply(x: tf.Tensor): tf.Tensor {
    this.onInput(x);
    if (this.last) throw new StopForward();
    return this.base.apply(x);
  }
  namedParameters(): Array<[string, tf.Variable]> {
    return this.base.namedParameters();
  }
}

/**
 * Run every sequence through the model with `names` wrapped in recorders; `onInput(name, x, seq)`
 * sees each linear's input x [T, in] (inside a tidy: read it, do not keep it). The modules are
 * restored afterwards, also on error.
 */
export function captureInputs(model: TransformerLM, names: readonly string[], seqs: readonly number[][], onInput: (name: string, x: tf.Tensor, seq: number) => void): void {
  const old = names.map((n) => model.getModule(n));
  let seq = 0;
  names.forEach((n, i) => model.replaceModule(n, new Recorder(old[i]!, (x) => onInput(n, x, seq), i === names.length - 1)));
  try {
    for (; seq < seqs.length; seq++) {
      const ids = tf.tensor2d(seqs[seq]!, [1, seqs[seq]!.length], 'int32');
      try {
        const out = model.run(ids, { logits: false });
        out.hidden.dispose();
        out.auxLoss?.dispose();
      } catch (e) {
        if (!(e instanceof StopForward)) throw e;
      } finally {
        ids.dispose();
      }
    }
  } finally {
    names.forEach((n, i) => model.replaceModule(n, old[i]!));
  }
}

class OutputRecorder implements LinearModule {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(readonly base: LinearModule, private readonly onOutput: (y: tf.Tensor) => void) {
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
  }
  apply(x: tf.Tensor): tf.Tensor {
    this.onOutput(this.base.apply(x));
    throw new StopForward();
  }
  namedParameters(): Array<[string, tf.Variable]> {
    return this.base.namedParameters();
  }
}

/**
 * Run each batch of ids ([B, T] int32, the caller's) through the model up to the linear `name`
 * and hand its OUTPUT y [B·T, out] to `onOutput(y, batch)` (inside a tidy: read it, or tf.keep a
 * copy); the forward stops there. The module is restored afterwards, also on error. AWQ's block
 * objective reads a sub-block's output this way (attention out / MLP down: AutoAWQ's
 * module2inspect output, before the residual add).
 */
export function captureOutputs(model: TransformerLM, name: string, batches: readonly tf.Tensor[], onOutput: (y: tf.Tensor, batch: number) => void): void {
  const old = model.getModule(name);
  let b = 0;
  model.replaceModule(name, new OutputRecorder(old, (y) => onOutput(y, b)));
  try {
    for (; b < batches.length; b++) {
      try {
        const out = model.run(batches[b]!, { logits: false });
        out.hidden.dispose();
        out.auxLoss?.dispose();
        throw new QuantError('INVALID_ARGUMENT', `captureOutputs: the forward never reached "${name}".`);
      } catch (e) {
        if (!(e instanceof StopForward)) throw e;
      }
    }
  } finally {
    model.replaceModule(name, old);
  }
}

/** A plain linear's weight as [out, in] row-major float32 and its bias (GPT-2 Conv1D is transposed). */
export function linearWeight(m: LinearModule, name: string): { W: Float32Array; bias: Float32Array | null } {
  const { w, bias } = floatLinearWeight(m, name); // [out, in] whatever the layout
  return { W: w.data, bias };
}
