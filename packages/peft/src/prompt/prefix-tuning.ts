/**
 * Prefix tuning (Li & Liang 2021; HF PEFT PREFIX_TUNING): P trainable keys and values in front of
 * every layer's attention, the model frozen. As PEFT's get_prompt (peft/peft_model.py) and
 * PrefixEncoder (peft/tuners/prefix_tuning/model.py): a table [P, L·2·K·D] (or an MLP embedding →
 * Linear → tanh → Linear producing it, `prefixProjection`) viewed as [P, 2L, K, D] and permuted to
 * [2L, K, P, D]: entry 2l is layer l's keys, 2l+1 its values. Keys are used as given (no RoPE). The
 * ids start at position P. On llama K = kv heads (PEFT sizes token_dim = K·D for GQA models).
 *
 *   const peft = getPeftModel(model, { peftType: 'PREFIX_TUNING', numVirtualTokens: 10 });
 *   peft.forward(ids);                               // [B, T, V]
 *
 * Saved as PEFT does: one tensor `prompt_embeddings` [P, L·2·K·D] (with projection, the MLP's output:
 * PEFT cannot load that back into the MLP either, so a loaded projected prefix is a plain table).
 * Dimension legend: P virtual tokens, L layers, K heads of the keys, D head dim, E = L·2·K·D, M MLP width.
 */
import { tf, Rng, hashSeed } from '@llm/tensor-gpu';
import type { RunOptions } from '@llm/transformer';
import { PeftError } from '../errors.js';
import { kaimingUniformA5, normal } from '../layers/init.js';
import { promptConfigToJson, type ResolvedPrefixTuningConfig } from './config.js';
import { ownedVariable } from '@llm/tensor-gpu';
import type { Tuner } from '../tuner.js';

interface Mlp {
  w1: tf.Variable; // [M, token_dim]
  b1: tf.Variable; // [M]
  w2: tf.Variable; // [E, M]
  b2: tf.Variable; // [E]
}

export class PrefixTuner implements Tuner {
  readonly peftType = 'PREFIX_TUNING' as const;
  private readonly embedding: tf.Variable; // [P, E] or, with the MLP, [P, token_dim]
  private readonly mlp: Mlp | null;
  private enabled = true;
  readonly width: number; // E

  /** `flat`: a plain table even when the config says prefixProjection (an adapter loaded from a file). */
  constructor(
    readonly adapterName: string,
    readonly config: ResolvedPrefixTuningConfig,
    opts: { flat?: boolean; trainable?: boolean } = {},
  ) {
    const tr = opts.trainable ?? true;
    const own = (t: tf.Tensor) => ownedVariable(t, tr);
    const { numVirtualTokens: P, numLayers: L, tokenDim: td, encoderHiddenSize: M, seed } = config;
    this.width = L * 2 * td;
    const E = this.width;
    const rng = (what: string) => new Rng(hashSeed(seed, `prefix.${what}`));
    const zero = config.initWeights === 'zero';
    if (config.prefixProjection && !opts.flat) {
      this.embedding = own(tf.tensor2d(normal(rng('embedding'), P * td, 1), [P, td]));
      const lin = (name: string, out: number, inF: number, zeros: boolean) => ({
        w: own(zeros ? tf.zeros([out, inF]) : tf.tensor2d(kaimingUniformA5(rng(`${name}.weight`), out, inF), [out, inF])),
        b: own(zeros ? tf.zeros([out]) : tf.tensor1d(biasInit(rng(`${name}.bias`), out, inF))),
      });
      const l1 = lin('transform.0', M, td, false);
      const l2 = lin('transform.2', E, M, zero);
      this.mlp = { w1: l1.w, b1: l1.b, w2: l2.w, b2: l2.b };
    } else {
      this.embedding = own(zero ? tf.zeros([P, E]) : tf.tensor2d(normal(rng('embedding'), P * E, 1), [P, E]));
      this.mlp = null;
    }
  }

  get virtualTokens(): number {
    return this.config.numVirtualTokens;
  }

  /** The trainable weights, by PEFT's module names (prompt_encoder.<adapter>.embedding / transform.0 / transform.2). */
  parameters(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [['embedding.weight', this.embedding]];
    if (this.mlp) out.push(['transform.0.weight', this.mlp.w1], ['transform.0.bias', this.mlp.b1], ['transform.2.weight', this.mlp.w2], ['transform.2.bias', this.mlp.b2]);
    return out;
  }

  /** What PEFT saves: `prompt_embeddings` [P, E] (computed through the MLP when there is one; the caller disposes a computed one). */
  stateDict(): Array<[string, tf.Tensor]> {
    return [['prompt_embeddings', this.mlp ? tf.tidy(() => this.table()) : this.embedding]];
  }

  configJson(): Record<string, unknown> {
    return promptConfigToJson(this.config);
  }

  loadStateDict(weights: ReadonlyMap<string, tf.Tensor>): void {
    if (this.mlp) throw new PeftError('UNSUPPORTED', 'a projected prefix (prefixProjection) cannot load flattened prompt_embeddings (PEFT cannot either); load the adapter with loadAdapter, which builds a plain table.');
    const w = weights.get('prompt_embeddings');
    if (!w) throw new PeftError('ADAPTER_INVALID', `the adapter file has no "prompt_embeddings" tensor (it has ${[...weights.keys()].slice(0, 5).join(', ') || 'none'}).`);
    const want = [this.config.numVirtualTokens, this.width];
    if (w.rank !== 2 || w.shape[0] !== want[0] || w.shape[1] !== want[1]) throw new PeftError('SHAPE_MISMATCH', `prompt_embeddings is [${w.shape}], this model needs [${want}] (num_virtual_tokens × num_layers·2·token_dim).`);
    for (const k of weights.keys()) if (k !== 'prompt_embeddings') throw new PeftError('TARGET_NOT_FOUND', `unexpected tensor "${k}" in a PREFIX_TUNING adapter (only prompt_embeddings).`);
    this.embedding.assign(w.cast('float32'));
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
  }

  /** { past } with per-layer keys/values [1, K, P, D]; call inside the forward's tidy. */
  runOptions(_batch: number): Partial<RunOptions> {
    if (!this.enabled) return {};
    const { numVirtualTokens: P, numLayers: L, numAttentionHeads: K, tokenDim } = this.config;
    const D = tokenDim / K;
    const kv = this.table().reshape([P, 2 * L, K, D]).transpose([1, 2, 0, 3]); // [2L, K, P, D]
    const parts = tf.split(kv, 2 * L, 0); // 2L × [1, K, P, D]
    return { past: { keys: parts.filter((_, i) => i % 2 === 0), values: parts.filter((_, i) => i % 2 === 1) } };
  }

  /** [P, E]: the table, or the MLP over the embeddings. */
  private table(): tf.Tensor2D {
    if (!this.mlp) return this.embedding as tf.Tensor2D;
    const { w1, b1, w2, b2 } = this.mlp;
    const h = tf.tanh(tf.matMul(this.embedding, w1, false, true).add(b1)); // [P, M]
    return tf.matMul(h, w2, false, true).add(b2) as tf.Tensor2D; // [P, E]
  }

  dispose(): void {
    for (const [, v] of this.parameters()) v.dispose();
  }
}

/** nn.Linear's bias init: U(−1/√fanIn, 1/√fanIn). */
function biasInit(rng: Rng, out: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return Float32Array.from({ length: out }, () => (rng.next() * 2 - 1) * bound);
}
