/**
 * StepEngine: what the scheduler needs from an inference model over a paged KV cache — the
 * sequence API of @llm/infer (names fixed there), declared here so the scheduler runs on either
 * @llm/infer's engine or the tfjs adapter (tfjs-engine.ts).
 *
 *   const a = engine.newSequence();
 *   const [logits] = engine.step([{ seq: a, tokens: promptIds }]);   // prefill; logits [V] of the last token
 *   const b = a.fork();                                               // shares a's blocks
 *   engine.step([{ seq: a, tokens: [7] }, { seq: b, tokens: [9] }]);  // one call for the whole batch
 *   a.free(); b.free();
 *
 * A step that needs more blocks than are free throws an error with code 'CACHE_FULL' (isCacheFull)
 * and changes nothing.
 */
export interface Sequence {
  readonly id: number;
  /** Tokens stored. */
  readonly length: number;
  /** A new sequence sharing this one's stored prefix (its blocks). */
  fork(): Sequence;
  /** Keep the first n tokens. */
  truncate(n: number): void;
  /** Release the blocks (idempotent). */
  free(): void;
}

export interface StepInput {
  seq: Sequence;
  tokens: number[];
}

export interface CacheStats {
  blocksTotal: number;
  blocksInUse: number;
  blockTokens: number;
}

export interface StepEngine {
  readonly config: { vocabSize: number; blockSize: number };
  newSequence(): Sequence;
  /** Appends each input's tokens; returns each input's last-token logits [V] (all positions' [T·V] with allLogits). */
  step(inputs: readonly StepInput[], opts?: { allLogits?: boolean }): Float32Array[];
  cacheStats(): CacheStats;
}
