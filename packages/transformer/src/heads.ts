/**
 * Heads on top of a TransformerLM backbone (the same backbone object can carry several).
 *
 *   SequenceClassifier — HF's *ForSequenceClassification: `score` [L, C] (no bias) on the hidden
 *     state of each row's last real token. numLabels 1 is a reward model (HF/TRL convention).
 *   ValueHead — TRL's value head: `v_head.summary` Linear(C → 1) with bias, one scalar per token
 *     (PPO's value function), or pooled at the last real token (a scalar reward).
 *
 *   const rm = new SequenceClassifier(backbone, { numLabels: 1 });
 *   rm.forward(ids, { attentionMask });     // [B, 1] rewards
 *   const vh = new ValueHead(backbone);
 *   const { hidden } = backbone.run(ids, { logits: false });
 *   vh.apply(hidden);                        // [B, T] values
 *
 * Dimension legend: B batch, T time, C width, L labels.
 */
import { join } from 'node:path';
import { tf, readSafetensors, writeSafetensors } from '@llm/tensor-gpu';
import { TransformerError } from './errors.js';
import { Linear } from './modules/linear.js';
import { readMask } from './inputs.js';
import { Rng, hashSeed, ownedVariable } from '@llm/tensor-gpu';
import { randn } from './random.js';
import { readCheckpoint, buildModel, checkedFloat32, type LoadOptions } from './checkpoint.js';
import { saveModel } from './save.js';
import type { TransformerLM, ForwardOptions } from './model.js';

type HeadForwardOptions = Pick<ForwardOptions, 'attentionMask' | 'training'>;

/** Index of each row's last real token (T − 1 without a mask). */
function lastRealIndex(mask: Uint8Array, B: number, T: number): Int32Array {
  const idx = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    idx[b] = T - 1;
    for (let t = T - 1; t >= 0; t--) if (mask[b * T + t]) { idx[b] = t; break; }
  }
  return idx;
}

/** hidden [B, T, C] → [B, C] at each row's last real token. */
export function poolLastToken(hidden: tf.Tensor, attentionMask?: ForwardOptions['attentionMask']): tf.Tensor2D {
  const [B, T, C] = hidden.shape as [number, number, number];
  const last = lastRealIndex(readMask(attentionMask, B, T, null), B, T);
  return tf.tidy(() => {
    const rows = tf.tensor1d(Int32Array.from(last, (t, b) => b * T + t), 'int32'); // [B]
    return tf.gather(hidden.reshape([B * T, C]), rows) as tf.Tensor2D; // [B, C]
  });
}

const initWeight = (shape: number[], std: number, seed: number, name: string) =>
  tf.tensor(randn(shape[0]! * shape[1]!, new Rng(hashSeed(seed, name)), std), shape);

export interface ClassifierOptions {
  numLabels: number;
  /** Label names (HF id2label); default LABEL_0 … */
  labels?: string[];
  /** Initial score weight [numLabels, C] (default N(0, initStd²)). */
  weight?: tf.Tensor;
}

export class SequenceClassifier {
  readonly backbone: TransformerLM;
  readonly numLabels: number;
  readonly labels: string[];
  readonly score: Linear;

  constructor(backbone: TransformerLM, opts: ClassifierOptions) {
    const L = opts.numLabels;
    if (!Number.isInteger(L) || L < 1) throw new TransformerError('INVALID_ARGUMENT', `SequenceClassifier: numLabels must be a positive integer, got ${L}.`);
    if (opts.labels && opts.labels.length !== L) throw new TransformerError('INVALID_ARGUMENT', `SequenceClassifier: ${opts.labels.length} labels given for numLabels ${L}.`);
    const C = backbone.config.nEmbd;
    if (opts.weight && opts.weight.shape.join() !== `${L},${C}`) throw new TransformerError('SHAPE_MISMATCH', `SequenceClassifier: score weight must be [${L}, ${C}], got [${opts.weight.shape}].`);
    this.backbone = backbone;
    this.numLabels = L;
    this.labels = opts.labels ?? Array.from({ length: L }, (_, i) => `LABEL_${i}`);
    const w = opts.weight ? opts.weight.clone() : initWeight([L, C], backbone.config.initStd, backbone.config.seed, 'score.weight');
    this.score = new Linear({ inFeatures: C, outFeatures: L, layout: 'out_in', bias: false, weight: ownedVariable(w, true) });
  }

  /** hidden [B, T, C] → logits [B, L] at each row's last real token. */
  apply(hidden: tf.Tensor, attentionMask?: ForwardOptions['attentionMask']): tf.Tensor2D {
    return tf.tidy(() => this.score.apply(poolLastToken(hidden, attentionMask)) as tf.Tensor2D); // [B, L]
  }

  /** ids [B, T] → logits [B, L]. */
  forward(ids: tf.Tensor, opts: HeadForwardOptions = {}): tf.Tensor2D {
    const { hidden, auxLoss } = this.backbone.run(ids, { ...opts, logits: false });
    auxLoss?.dispose();
    try {
      return this.apply(hidden, opts.attentionMask);
    } finally {
      hidden.dispose();
    }
  }

  /** Backbone weights plus "score.weight". */
  namedParameters(): Array<[string, tf.Variable]> {
    return [...this.backbone.namedParameters(), ['score.weight', this.score.weight]];
  }

  /** HF *ForSequenceClassification directory (config with id2label, score.weight in model.safetensors). */
  async save(dir: string): Promise<void> {
    const cfg = this.backbone.config;
    const family = cfg.family === 'gpt2' ? 'GPT2' : cfg.nExperts > 0 ? 'Mixtral' : 'Llama';
    await saveModel(this.backbone, dir, {
      architecture: `${family}ForSequenceClassification`,
      configExtra: {
        id2label: Object.fromEntries(this.labels.map((l, i) => [String(i), l])),
        label2id: Object.fromEntries(this.labels.map((l, i) => [l, i])),
      },
      extraTensors: new Map([['score.weight', this.score.weight]]),
    });
  }

  dispose(): void {
    this.score.weight.dispose();
  }
}

/** Load a directory written by SequenceClassifier.save (or HF's *ForSequenceClassification); `opts.limits` as loadModel's. */
export async function loadSequenceClassifier(dir: string, opts: LoadOptions = {}): Promise<SequenceClassifier> {
  const ckpt = await readCheckpoint(dir, opts);
  const raw = ckpt.tensors.get('score.weight');
  if (!raw) throw new TransformerError('CHECKPOINT_MISSING_TENSOR', `${dir} has no "score.weight": not a sequence-classification checkpoint (use loadModel).`);
  const C = ckpt.config.nEmbd;
  if (raw.shape.length !== 2 || raw.shape[1] !== C) throw new TransformerError('CHECKPOINT_SHAPE_MISMATCH', `"score.weight" has shape [${raw.shape}], expected [numLabels, ${C}].`);
  const id2label = ckpt.hfConfig.id2label as Record<string, string> | undefined;
  const L = raw.shape[0]!;
  const labels = id2label && Object.keys(id2label).length === L ? Array.from({ length: L }, (_, i) => String(id2label[String(i)] ?? `LABEL_${i}`)) : undefined;
  const scores = checkedFloat32(raw, 'score.weight');
  const backbone = buildModel(ckpt, ['score.weight'], opts);
  const weight = tf.tensor2d(scores, [L, C]);
  try {
    return new SequenceClassifier(backbone, { numLabels: L, ...(labels ? { labels } : {}), weight });
  } finally {
    weight.dispose();
  }
}

export class ValueHead {
  readonly backbone: TransformerLM;
  /** v_head.summary: C → 1 with bias. */
  readonly summary: Linear;

  constructor(backbone: TransformerLM, init?: { weight: tf.Tensor; bias: tf.Tensor }) {
    const C = backbone.config.nEmbd;
    if (init && (init.weight.shape.join() !== `1,${C}` || init.bias.shape.join() !== '1')) {
      throw new TransformerError('SHAPE_MISMATCH', `ValueHead: weight must be [1, ${C}] and bias [1], got [${init.weight.shape}] and [${init.bias.shape}].`);
    }
    this.backbone = backbone;
    const w = init ? init.weight.clone() : initWeight([1, C], backbone.config.initStd, backbone.config.seed, 'v_head.summary.weight');
    this.summary = new Linear({ inFeatures: C, outFeatures: 1, layout: 'out_in', bias: true, weight: ownedVariable(w, true), ...(init ? { biasValue: init.bias } : {}) });
  }

  /** hidden [B, T, C] → values [B, T]. */
  apply(hidden: tf.Tensor): tf.Tensor2D {
    const [B, T, C] = hidden.shape as [number, number, number];
    return tf.tidy(() => this.summary.apply(hidden.reshape([B * T, C])).reshape([B, T]) as tf.Tensor2D); // [B, T]
  }

  /** ids [B, T] → values [B, T]. */
  values(ids: tf.Tensor, opts: HeadForwardOptions = {}): tf.Tensor2D {
    const { hidden, auxLoss } = this.backbone.run(ids, { ...opts, logits: false });
    auxLoss?.dispose();
    try {
      return this.apply(hidden);
    } finally {
      hidden.dispose();
    }
  }

  /** ids [B, T] → one scalar per row [B], the value at its last real token. */
  pooled(ids: tf.Tensor, opts: HeadForwardOptions = {}): tf.Tensor1D {
    const { hidden, auxLoss } = this.backbone.run(ids, { ...opts, logits: false });
    auxLoss?.dispose();
    try {
      return tf.tidy(() => this.summary.apply(poolLastToken(hidden, opts.attentionMask)).reshape([-1]) as tf.Tensor1D); // [B]
    } finally {
      hidden.dispose();
    }
  }

  namedParameters(): Array<[string, tf.Variable]> {
    return [['v_head.summary.weight', this.summary.weight], ['v_head.summary.bias', this.summary.bias!]];
  }

  /** Write value_head.safetensors (TRL's tensor names) into dir, beside the model files. */
  async save(dir: string): Promise<void> {
    await writeSafetensors(join(dir, 'value_head.safetensors'), new Map(this.namedParameters()), { format: 'pt' });
  }

  /** Read dir/value_head.safetensors onto a backbone. */
  static async load(dir: string, backbone: TransformerLM): Promise<ValueHead> {
    const path = join(dir, 'value_head.safetensors');
    let file;
    try {
      file = await readSafetensors(path);
    } catch (e) {
      throw new TransformerError('CHECKPOINT_INVALID', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
    const w = file.tensors.get('v_head.summary.weight');
    const b = file.tensors.get('v_head.summary.bias');
    if (!w || !b) throw new TransformerError('CHECKPOINT_MISSING_TENSOR', `${path} must hold "v_head.summary.weight" and "v_head.summary.bias".`);
    const init = { weight: tf.tensor(checkedFloat32(w, 'v_head.summary.weight'), w.shape), bias: tf.tensor(checkedFloat32(b, 'v_head.summary.bias'), b.shape) };
    try {
      return new ValueHead(backbone, init);
    } finally {
      tf.dispose([init.weight, init.bias]);
    }
  }

  dispose(): void {
    this.summary.weight.dispose();
    this.summary.bias?.dispose();
  }
}
