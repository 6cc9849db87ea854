/**
 * SFT batches: epochs over tokenized examples, length-grouped (less padding) and reshuffled each
 * epoch from the seed, right-padded by collate. The state is { epoch, index }, so a resumed run
 * continues with the exact next batch.
 *
 *   const src = new SftSampler(examples, { batchSize: 8, seed: 1, padId: 0 });
 *   src.next();   // HostBatch: inputs, targets (−100 on prompt tokens and padding), mask
 */
import { hashSeed } from '@llm/tensor-gpu';
import { TrainError } from '../errors.js';
import type { BatchSource, HostBatch } from '../data/batches.js';
import { collate, groupByLength } from './collate.js';
import type { TokenizedExample } from './examples.js';

export interface SftSamplerOptions {
  batchSize: number;
  seed: number;
  padId: number;
  /** Cut examples to this many tokens (the model's context). */
  maxLength?: number;
}

export class SftSampler implements BatchSource {
  private epoch = 0;
  private index = 0;
  private batches: number[][];

  constructor(private readonly examples: readonly TokenizedExample[], private readonly opts: SftSamplerOptions) {
    if (examples.length === 0) throw new TrainError('DATA_EMPTY', 'no SFT examples to train on (all skipped or the file is empty).');
    this.batches = this.plan(0);
  }

  private plan(epoch: number): number[][] {
    const lengths = this.examples.map((e) => Math.min(e.ids.length, this.opts.maxLength ?? Infinity));
    return groupByLength(lengths, { batchSize: this.opts.batchSize, seed: hashSeed(this.opts.seed, `sft-epoch:${epoch}`) });
  }

  next(): HostBatch {
    if (this.index >= this.batches.length) {
      this.epoch++;
      this.index = 0;
      this.batches = this.plan(this.epoch);
    }
    const rows = this.batches[this.index++]!.map((i) => this.examples[i]!);
    return collate(rows, { padId: this.opts.padId, ...(this.opts.maxLength ? { maxLength: this.opts.maxLength } : {}) });
  }

  getState(): { epoch: number; index: number } {
    return { epoch: this.epoch, index: this.index };
  }

  setState(state: unknown): void {
    const s = state as { epoch?: unknown; index?: unknown } | null;
    if (!s || !Number.isInteger(s.epoch) || !Number.isInteger(s.index)) throw new TrainError('CHECKPOINT_INVALID', `SFT sampler state must be { epoch, index }, got ${JSON.stringify(state)}.`);
    this.epoch = s.epoch as number;
    this.index = s.index as number;
    this.batches = this.plan(this.epoch);
  }
}
