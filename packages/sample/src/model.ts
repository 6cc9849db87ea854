/**
 * What @llm/sample needs from a model: the CausalLM contract of design.md, structurally (any
 * object with these members works — @llm/transformer's TransformerLM, a quantized model, a fake
 * in a test). No dependency on a concrete model package.
 *
 *   const cache = model.createCache(1, 64);
 *   const logits = model.forward(ids, { cache, logitsToKeep: 1 });   // [B, 1, V]
 */
import type { tf } from '@llm/tensor-gpu';
import type { ModelGenerationDefaults } from './config.js';

export interface CacheLike {
  /** Positions stored (padding included). */
  readonly length: number;
  /** Keep rows in this order (beam search). */
  reorder?(rows: readonly number[]): void;
  /** Drop positions from `length` on (speculative decoding). */
  truncate?(length: number): void;
  dispose(): void;
}

export interface CausalLMLike {
  /** eosTokenId: config.json's end-of-sequence id(s), the fallback when generationConfig has none. */
  readonly config: { readonly vocabSize: number; readonly blockSize: number; readonly eosTokenId?: number | readonly number[] | null };
  /**
   * The model's generation defaults (plain data, e.g. a checkpoint's generation_config.json as
   * @llm/transformer loads it): used below explicit options, above the library defaults.
   */
  readonly generationConfig?: ModelGenerationDefaults;
  /** ids [B, T] int32 → logits [B, T', V]; appends to the cache when given. */
  forward(ids: tf.Tensor, opts?: { cache?: CacheLike; attentionMask?: tf.Tensor | ArrayLike<ArrayLike<number>>; logitsToKeep?: number }): tf.Tensor;
  createCache(batch: number, maxLen?: number): CacheLike;
}

/** The tokenizer members streaming and stop strings use (@llm/tokenizer-bpe's Tokenizer has them). */
export interface TokenizerLike {
  decode(ids: ArrayLike<number>): string;
  decoder(): { push(ids: number | Iterable<number>): string; flush(): string };
}
