/**
 * A seeded, resumable batch source over examples: each epoch is a fresh permutation from the seed
 * (`hashSeed(seed, kind-epoch:e)`), cut into batches of `batchSize` (the last may be smaller); the
 * state is { epoch, index }, so setState(getState()) replays the same batches (as @llm/train's
 * SftSampler). `collate` turns the examples of a batch into whatever the objective takes.
 *
 *   const src = new EpochSampler(pairs, { batchSize: 8, seed: 1 }, 'pairs', (rows) => collatePairs(rows, 0), pairHash);
 *   const state = src.getState(); const a = src.next(); src.setState(state); src.next(); // = a
 */
import { Rng, hashSeed } from '@llm/tensor-gpu';
import type { BatchSource } from '@llm/train';
import { AlignError } from '../errors.js';

export interface SamplerOptions {
  batchSize: number;
  seed: number;
  /** Shuffle each epoch (default true); false: file order. */
  shuffle?: boolean;
}

export class EpochSampler<E, B> implements BatchSource<B> {
  private epoch = 0;
  private index = 0;
  private batches: number[][];

  constructor(
    readonly examples: readonly E[],
    private readonly opts: SamplerOptions,
    private readonly kind: string,
    private readonly collate: (rows: E[], indices: number[]) => B,
    private readonly idsOf: (e: E) => ReadonlyArray<readonly number[] | number>,
  ) {
    if (examples.length === 0) throw new AlignError('DATA_INVALID', `${kind}: no examples to batch.`);
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) throw new AlignError('CONFIG_INVALID', `${kind}: batchSize must be a positive integer, got ${opts.batchSize}.`);
    if (!Number.isSafeInteger(opts.seed)) throw new AlignError('CONFIG_INVALID', `${kind}: seed must be an integer, got ${opts.seed}.`);
    this.batches = this.plan(0);
  }

  private plan(epoch: number): number[][] {
    const order = Array.from({ length: this.examples.length }, (_, i) => i);
    if (this.opts.shuffle !== false) {
      const rng = new Rng(hashSeed(this.opts.seed, `${this.kind}-epoch:${epoch}`));
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    const out: number[][] = [];
    for (let s = 0; s < order.length; s += this.opts.batchSize) out.push(order.slice(s, s + this.opts.batchSize));
    return out;
  }

  next(): B {
    if (this.index >= this.batches.length) {
      this.epoch++;
      this.index = 0;
      this.batches = this.plan(this.epoch);
    }
    const idx = this.batches[this.index++]!;
    return this.collate(idx.map((i) => this.examples[i]!), idx);
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.batches.length;
  }

  getState(): { epoch: number; index: number } {
    return { epoch: this.epoch, index: this.index };
  }

  setState(state: unknown): void {
    const s = state as { epoch?: unknown; index?: unknown } | null;
    const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!s || typeof s !== 'object' || !ok(s.epoch) || !ok(s.index)) throw new AlignError('INVALID_ARGUMENT', `${this.kind} sampler state must be { epoch, index } (integers ≥ 0), got ${JSON.stringify(state)?.slice(0, 200)}.`);
    const batches = this.plan(s.epoch);
    if (s.index > batches.length) throw new AlignError('INVALID_ARGUMENT', `${this.kind} sampler state: index ${s.index} is beyond the ${batches.length} batches of an epoch (other data?).`);
    this.epoch = s.epoch;
    this.index = s.index;
    this.batches = batches;
  }

  /** Kind, counts and an FNV-1a hash of every example's ids: other data gives another fingerprint. */
  fingerprint(): Record<string, unknown> {
    let h = 0x811c9dc5;
    let tokens = 0;
    const mix = (x: number) => {
      const v = Math.round(x * 1000) | 0;
      h = Math.imul(h ^ (v & 0xffff), 0x01000193);
      h = Math.imul(h ^ ((v >>> 16) & 0xffff), 0x01000193);
    };
    for (const e of this.examples) {
      for (const part of this.idsOf(e)) {
        if (typeof part === 'number') mix(part);
        else {
          mix(part.length + 1_000_000);
          for (const id of part) mix(id);
          tokens += part.length;
        }
      }
    }
    return { kind: this.kind, examples: this.examples.length, tokens, batchSize: this.opts.batchSize, seed: this.opts.seed, hash: (h >>> 0).toString(16) };
  }
}
