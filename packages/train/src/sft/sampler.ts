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
    const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!s || typeof s !== 'object' || !ok(s.epoch) || !ok(s.index)) throw new TrainError('CHECKPOINT_INVALID', `SFT sampler state must be { epoch, index } (integers ≥ 0), got ${JSON.stringify(state)?.slice(0, 200)}.`);
    const batches = this.plan(s.epoch);
    if (s.index > batches.length) throw new TrainError('CHECKPOINT_INVALID', `SFT sampler state: index ${s.index} is beyond the ${batches.length} batches of an epoch (other data than the checkpoint's?).`);
    this.epoch = s.epoch;
    this.index = s.index;
    this.batches = batches;
  }

  /** How many examples and tokens, and a hash of every id and label: other data gives another fingerprint. */
  fingerprint(): Record<string, unknown> {
    let h = 0x811c9dc5; // FNV-1a over ids and labels, example by example
    let tokens = 0;
    const mix = (x: number) => {
      h = Math.imul(h ^ (x & 0xffff), 0x01000193);
      h = Math.imul(h ^ ((x >>> 16) & 0xffff), 0x01000193);
    };
    for (const e of this.examples) {
      mix(e.ids.length);
      for (let i = 0; i < e.ids.length; i++) mix(e.ids[i]!), mix(e.labels[i]! + 1000);
      tokens += e.ids.length;
    }
    return { kind: 'sft', examples: this.examples.length, tokens, hash: (h >>> 0).toString(16) };
  }
}
