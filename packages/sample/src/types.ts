/**
 * The small contracts of @llm/sample: logits processors and constraints work on one row's logits
 * on the host (a Float32Array of V scores), in place, as llama.cpp's sampler chain does.
 *
 *   const p: LogitsProcessor = new TopKProcessor(40);
 *   p.process(logits, { ids: [1, 2, 3], promptLength: 2 });   // everything outside the top 40 → −Infinity
 */

/** What a processor may look at for one row. */
export interface SampleContext {
  /** Every id of the row so far: prompt, then generated tokens. */
  readonly ids: readonly number[];
  /** How many of `ids` are the prompt. */
  readonly promptLength: number;
}

/** One step of the sampler chain: rewrites one row's logits [V] in place (−Infinity bans a token). */
export interface LogitsProcessor {
  process(logits: Float32Array, ctx: SampleContext): void;
}

/** Token id → its bytes (a tokenizer's vocabulary as constraints need it). */
export interface TokenVocab {
  readonly size: number;
  /** The token's bytes; empty for special tokens (never allowed by a text constraint). */
  tokenBytes(id: number): Uint8Array;
}

/**
 * A constraint on the generated text (regex, JSON schema): masks tokens that cannot continue a
 * valid output and tracks where the output is. States are immutable values.
 */
export interface Constraint<S = unknown> {
  /** State before any generated token. */
  start(): S;
  /** Set logits of tokens that cannot follow `state` to −Infinity (EOS ids only when complete). */
  mask(logits: Float32Array, state: S): void;
  /** State after appending token `id` (which mask allowed). */
  advance(state: S, id: number): S;
  /** Whether the text so far is a complete match. */
  isComplete(state: S): boolean;
  /** Whether nothing can follow `state` any more (the match cannot be extended). */
  isFinished(state: S): boolean;
}
