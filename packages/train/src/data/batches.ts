/**
 * Batches for the training loop. A BatchSource yields host arrays and carries a state (a few
 * integers) that a checkpoint stores, so a resumed run sees exactly the batches it would have seen.
 *
 *   const { train, val } = splitTokens(shard, 0.1);       // first 90% / last 10%, as nanoGPT
 *   const src = new WindowSampler(train, { batchSize: 12, blockSize: 64, seed: 1337 });
 *   const b = src.next();   // inputs/targets Int32Array [12·64]; targets = inputs shifted by one
 */
import { Rng, hashSeed } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import type { TokenShard } from './shard.js';

/** One batch on the host, row-major [batch, length]. mask (1 real, 0 pad) is absent when every token is real. */
export interface HostBatch {
  inputs: Int32Array;
  /** Next-token targets, −100 where no loss is taken. */
  targets: Int32Array;
  batch: number;
  length: number;
  mask?: Uint8Array;
}

export interface BatchSource<B = HostBatch> {
  next(): B;
  /** JSON-serialisable position/RNG state; setState(getState()) replays the same batches. */
  getState(): unknown;
  setState(state: unknown): void;
  /**
   * The identity of the data (plain JSON): a checkpoint records it and a resume on other data is
   * refused unless forced. Optional: a source without it is not compared.
   */
  fingerprint?(): Record<string, unknown>;
}

/** A contiguous token range of a shard. */
export interface TokenRange {
  shard: TokenShard;
  start: number;
  end: number;
}

/** Train = first (1 − valFraction) of the tokens, val = the rest (nanoGPT's split). */
export function splitTokens(shard: TokenShard, valFraction = 0.1): { train: TokenRange; val: TokenRange } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new TrainError('CONFIG_INVALID', `valFraction must be in [0, 1), got ${valFraction}.`);
  const cut = Math.floor(shard.count * (1 - valFraction));
  return { train: { shard, start: 0, end: cut }, val: { shard, start: cut, end: shard.count } };
}

export interface WindowOptions {
  batchSize: number;
  blockSize: number;
  seed: number;
}

/** Uniformly random windows of blockSize + 1 tokens (teacher forcing: targets = inputs shifted by one). */
export class WindowSampler implements BatchSource {
  private readonly rng: Rng;
  constructor(readonly range: TokenRange, readonly opts: WindowOptions) {
    const n = range.end - range.start;
    if (n < opts.blockSize + 1) {
      throw new TrainError('DATA_EMPTY', `a token range of ${n} tokens is too short for blockSize ${opts.blockSize} (needs ≥ ${opts.blockSize + 1}): use more data, a smaller blockSize or a smaller validation fraction.`);
    }
    this.rng = new Rng(hashSeed(opts.seed, `windows:${range.start}:${range.end}`));
  }

  next(): HostBatch {
    const { batchSize: B, blockSize: T } = this.opts;
    const span = this.range.end - this.range.start - T; // valid starts: [start, end − T − 1]
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const at = this.range.start + Math.floor(this.rng.next() * span);
      const w = this.range.shard.read(at, T + 1);
      inputs.set(w.subarray(0, T), b * T);
      targets.set(w.subarray(1), b * T);
    }
    return { inputs, targets, batch: B, length: T };
  }

  getState(): number {
    return this.rng.getState();
  }

  setState(state: unknown): void {
    if (typeof state !== 'number' || !Number.isInteger(state) || state < 0 || state >= 2 ** 32) {
      throw new TrainError('CHECKPOINT_INVALID', `window sampler state must be an integer in [0, 2^32), got ${JSON.stringify(state)}.`);
    }
    this.rng.setState(state);
  }

  /** The shard (tokenizer, token count, source files and sizes) and the token range sampled. */
  fingerprint(): Record<string, unknown> {
    const m = this.range.shard.meta;
    return { kind: 'windows', tokenizer: m.tokenizer.hash, tokens: m.count, sources: m.sources, start: this.range.start, end: this.range.end };
  }
}
