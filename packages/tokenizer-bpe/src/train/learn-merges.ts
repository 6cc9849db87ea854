/**
 * The fast merge loop (the approach of HF tokenizers' BpeTrainer): pair counts are built once over
 * the unique words, a max-heap picks the best pair with lazy invalidation, and each merge rewrites
 * only the words that contain the pair, adjusting neighbouring pair counts incrementally.
 *
 *   const merges = learnMerges(WordStore.fromCounts(new Map([['abab', 1]])), new TrainingVocab(),
 *     { maxNewTokens: 10, minFrequency: 1 });
 *   // [{ left: 97, right: 98, id: 256 }, { left: 256, right: 256, id: 257 }]
 *
 * Choice of pair (the same rule as `trainBpeReference`): the highest count, where a pair's count is
 * the number of adjacent occurrences (overlapping ones included, as in minbpe's get_stats)
 * summed over words weighted by word frequency; ties go to the smaller left id, then the smaller
 * right id. A merge replaces occurrences left to right, without overlap.
 */
import { PairHeap } from './pair-heap.js';
import { PairTable } from './pair-table.js';
import type { Merge, TrainingVocab } from './vocab.js';
import type { WordStore } from './words.js';

export interface LearnMergesOptions {
  /** Stop after this many new tokens (merges that reuse existing bytes do not count). */
  maxNewTokens: number;
  /** Stop when the best pair occurs fewer times than this. */
  minFrequency: number;
  /** Called after every merge that added a token, with the number of new tokens so far. */
  onNewToken?: (newTokens: number) => void;
}

/** Runs the merge loop on `words` (rewritten in place), growing `vocab`; returns the merges. */
export function learnMerges(words: WordStore, vocab: TrainingVocab, opts: LearnMergesOptions): Merge[] {
  return new MergeLoop(words, vocab, opts).run();
}

class MergeLoop {
  private readonly table: PairTable;
  private readonly heap: PairHeap;
  private readonly visited: Int32Array;
  private readonly touched: number[] = [];
  private step = 0;

  constructor(
    private readonly words: WordStore,
    private readonly vocab: TrainingVocab,
    private readonly opts: LearnMergesOptions,
  ) {
    this.table = new PairTable(vocab.size + opts.maxNewTokens);
    this.heap = new PairHeap(this.table);
    this.visited = new Int32Array(words.size).fill(-1);
  }

  run(): Merge[] {
    this.countInitialPairs();
    const { table, heap, vocab, opts } = this;
    const merges: Merge[] = [];
    let newTokens = 0;
    while (newTokens < opts.maxNewTokens) {
      const p = heap.pop();
      if (p < 0) break;
      const actual = table.count[p]!;
      if (heap.poppedCount !== actual) {
        if (actual > 0) heap.push(p, actual); // stale entry: requeue with the true count
        continue;
      }
      if (actual < opts.minFrequency) break;
      const before = vocab.size;
      const id = vocab.merge(table.left[p]!, table.right[p]!);
      merges.push({ left: table.left[p]!, right: table.right[p]!, id });
      this.apply(p, id);
      if (vocab.size > before) {
        newTokens++;
        opts.onNewToken?.(newTokens);
      }
    }
    return merges;
  }

  private countInitialPairs(): void {
    const { words, table } = this;
    const sym = words.symbols;
    for (let w = 0; w < words.size; w++) {
      const s = words.start[w]!;
      const end = s + words.length[w]!;
      const cnt = words.count[w]!;
      for (let i = s; i + 1 < end; i++) table.add(sym[i]!, sym[i + 1]!, cnt, w);
    }
    for (let p = 0; p < table.size; p++) this.heap.push(p, table.count[p]!);
  }

  /** Replaces pair `p` by `id` in every word holding it, then queues the pairs that gained. */
  private apply(p: number, id: number): void {
    const { table, visited } = this;
    const step = ++this.step;
    const a = table.left[p]!;
    const b = table.right[p]!;
    for (const w of table.wordsOf(p)) {
      if (visited[w] === step) continue;
      visited[w] = step;
      this.mergeWord(w, a, b, id);
    }
    table.retire(p);
    for (const q of this.touched) if (table.count[q]! > 0) this.heap.push(q, table.count[q]!);
    this.touched.length = 0;
  }

  /**
   * Rewrites word `w`, replacing (a, b) by c left to right, and moves the counts of the pairs
   * around each occurrence: (prev, a) → (prev, c) and (b, next) → (c, next). The count of
   * (a, b) itself is zeroed by the caller (no occurrence survives a left-to-right merge).
   */
  private mergeWord(w: number, a: number, b: number, c: number): void {
    const { words, table } = this;
    const sym = words.symbols;
    const s = words.start[w]!;
    const end = s + words.length[w]!;
    const cnt = words.count[w]!;
    let r = s;
    let out = s;
    while (r < end) {
      const x = sym[r]!;
      if (x === a && r + 1 < end && sym[r + 1] === b) {
        if (out > s) {
          const prev = sym[out - 1]!;
          table.add(prev, a, -cnt, w);
          this.gain(prev, c, cnt, w);
        }
        if (r + 2 < end) {
          const next = sym[r + 2]!;
          table.add(b, next, -cnt, w);
          this.gain(c, next, cnt, w);
        }
        sym[out++] = c;
        r += 2;
      } else {
        sym[out++] = x;
        r++;
      }
    }
    words.length[w] = out - s;
  }

  private gain(l: number, r: number, cnt: number, w: number): void {
    const { table } = this;
    const q = table.add(l, r, cnt, w);
    if (table.mark[q] !== this.step) {
      table.mark[q] = this.step;
      this.touched.push(q);
    }
  }
}
