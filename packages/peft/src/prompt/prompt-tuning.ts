/**
 * Prompt tuning (Lester et al. 2021; HF PEFT PROMPT_TUNING): P trainable vectors in front of every
 * sequence's token embeddings, the model frozen. They run through every layer as if they were
 * tokens (positions 0..P−1), so the ids follow at P; with a cache they are stored on the first
 * forward and decoding continues after them (peft/peft_model.py PeftModelForCausalLM.forward and
 * prepare_inputs_for_generation; peft/tuners/prompt_tuning/model.py PromptEmbedding).
 *
 *   const peft = getPeftModel(model, { peftType: 'PROMPT_TUNING', numVirtualTokens: 8, promptTuningInit: 'TEXT',
 *     promptTuningInitText: 'Answer briefly:' }, { tokenizer });
 *   peft.forward(ids);                               // [B, T, V]: logits of the ids only
 *
 * Saved as PEFT does: one tensor `prompt_embeddings` [P, C].
 * Dimension legend: P virtual tokens, C width, V vocab.
 */
import { tf, Rng, hashSeed } from '@llm/tensor-gpu';
import type { RunOptions, TransformerLM } from '@llm/transformer';
import { PeftError } from '../errors.js';
import { normal } from '../layers/init.js';
import { promptConfigToJson, type ResolvedPromptTuningConfig } from './config.js';
import { ownedVariable } from '@llm/tensor-gpu';
import type { Tuner } from '../tuner.js';

export interface PromptInitOptions {
  /** Encodes promptTuningInitText (promptTuningInit 'TEXT'). */
  tokenizer?: { encode(text: string): number[] };
  /** Default true. */
  trainable?: boolean;
}

export class PromptTuner implements Tuner {
  readonly peftType = 'PROMPT_TUNING' as const;
  private readonly embedding: tf.Variable; // [P, C]
  private enabled = true;

  constructor(
    readonly adapterName: string,
    readonly config: ResolvedPromptTuningConfig,
    model: TransformerLM,
    opts: PromptInitOptions = {},
  ) {
    const P = config.numVirtualTokens;
    const C = config.tokenDim;
    this.embedding = ownedVariable(tf.tidy(() => initialPrompt(config, model, opts)), opts.trainable ?? true);
    if (this.embedding.shape[0] !== P || this.embedding.shape[1] !== C) throw new PeftError('SHAPE_MISMATCH', `prompt init gave [${this.embedding.shape}], expected [${P}, ${C}].`);
  }

  get virtualTokens(): number {
    return this.config.numVirtualTokens;
  }

  /** The trainable weights (the virtual token embeddings). */
  parameters(): Array<[string, tf.Variable]> {
    return [['prompt_embeddings', this.embedding]];
  }

  stateDict(): Array<[string, tf.Tensor]> {
    return [['prompt_embeddings', this.embedding]];
  }

  configJson(): Record<string, unknown> {
    return promptConfigToJson(this.config);
  }

  loadStateDict(weights: ReadonlyMap<string, tf.Tensor>): void {
    const w = weights.get('prompt_embeddings');
    if (!w) throw new PeftError('ADAPTER_INVALID', `the adapter file has no "prompt_embeddings" tensor (it has ${[...weights.keys()].slice(0, 5).join(', ') || 'none'}).`);
    const want = [this.config.numVirtualTokens, this.config.tokenDim];
    if (w.rank !== 2 || w.shape[0] !== want[0] || w.shape[1] !== want[1]) throw new PeftError('SHAPE_MISMATCH', `prompt_embeddings is [${w.shape}], this model needs [${want}] (num_virtual_tokens × token_dim).`);
    for (const k of weights.keys()) if (k !== 'prompt_embeddings') throw new PeftError('TARGET_NOT_FOUND', `unexpected tensor "${k}" in a PROMPT_TUNING adapter (only prompt_embeddings).`);
    this.embedding.assign(w.cast('float32'));
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
  }

  /** { prefixEmbeds [1, P, C] } for a forward that starts sequences; call inside the forward's tidy. */
  runOptions(_batch: number): Partial<RunOptions> {
    return this.enabled ? { prefixEmbeds: this.embedding.expandDims(0) } : {};
  }

  dispose(): void {
    this.embedding.dispose();
  }
}

/** PEFT's PromptEmbedding init: RANDOM N(0, 1) (nn.Embedding), TEXT (the text's token embeddings, repeated), SAMPLE_VOCAB. */
function initialPrompt(cfg: ResolvedPromptTuningConfig, model: TransformerLM, opts: PromptInitOptions): tf.Tensor2D {
  const P = cfg.numVirtualTokens;
  const rng = new Rng(hashSeed(cfg.seed, 'prompt_embeddings'));
  if (cfg.promptTuningInit === 'RANDOM') return tf.tensor2d(normal(rng, P * cfg.tokenDim, 1), [P, cfg.tokenDim]);
  const V = model.config.vocabSize;
  let ids: number[];
  if (cfg.promptTuningInit === 'SAMPLE_VOCAB') {
    ids = Array.from({ length: P }, () => Math.floor(rng.next() * V));
  } else {
    if (!opts.tokenizer) throw new PeftError('INVALID_ARGUMENT', 'promptTuningInit "TEXT" needs a tokenizer (getPeftModel(model, config, { tokenizer })).');
    const text = opts.tokenizer.encode(cfg.promptTuningInitText!);
    if (text.length === 0) throw new PeftError('CONFIG_INVALID', 'promptTuningInitText encodes to no tokens.');
    const bad = text.find((t) => !Number.isInteger(t) || t < 0 || t >= V);
    if (bad !== undefined) throw new PeftError('INVALID_ARGUMENT', `promptTuningInitText encodes to id ${bad}, outside the model's vocabulary [0, ${V}).`);
    // PEFT: cut to P, or repeat ⌈P / n⌉ times and cut.
    ids = Array.from({ length: P }, (_, i) => text[i % text.length]!);
  }
  return tf.gather(model.param(model.layout.embedName), tf.tensor1d(ids, 'int32')) as tf.Tensor2D; // [P, C]
}
