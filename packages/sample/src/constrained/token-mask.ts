/**
 * Which tokens may follow a (DFA state, pending UTF-8 bytes) pair, and a compact, fast-to-apply
 * form of that answer.
 *
 * `allowedTokens` walks the vocabulary trie once: each node feeds its byte to the UTF-8 decoder;
 * a finished code point steps the DFA; a partial one must still be completable by some code
 * point the DFA accepts. A failing node skips its whole subtree.
 *
 * `TokenMask` stores the answer as the allowed ids (few allowed), the banned ids (few banned) or
 * a bitset (in between), and applies it to a row of logits.
 *
 *   const ids = allowedTokens(index, dfa, dfa.start, NO_PENDING, isEos);   // e.g. Int32Array [5, 17, …]
 *   const mask = TokenMask.fromAllowed(ids, index.size);
 *   mask.apply(logits);                     // every other id → −Infinity
 */
import { intersectsRange } from './charset.js';
import { DEAD, type LazyDfa } from './dfa.js';
import { INVALID, NO_PENDING, isPending, pendingRange, utf8Step } from './utf8.js';
import type { VocabIndex } from './vocab-index.js';

/**
 * Ids (excluding those flagged in `excluded`, e.g. EOS) whose bytes can follow `state` with
 * `pending` bytes of a partial character, in trie order.
 */
export function allowedTokens(
  index: VocabIndex,
  dfa: LazyDfa,
  state: number,
  pending: number,
  excluded: Uint8Array,
): Int32Array {
  const { byte, depth, skip, tokenStart, ids } = index;
  const stateAt = new Int32Array(index.maxDepth + 1); // DFA state after the prefix of length d
  const pendAt = new Int32Array(index.maxDepth + 1); // decoder state after the prefix of length d
  stateAt[0] = state;
  pendAt[0] = pending;
  const out = new Int32Array(ids.length);
  let count = 0;
  for (let i = 0; i < byte.length; ) {
    const d = depth[i]!;
    const q = stateAt[d - 1]!;
    const r = utf8Step(pendAt[d - 1]!, byte[i]!);
    let next: number;
    if (r === INVALID) next = DEAD;
    else if (isPending(r)) next = canComplete(dfa, q, r) ? q : DEAD;
    else next = dfa.step(q, r);
    if (next === DEAD) {
      i = skip[i]!;
      continue;
    }
    stateAt[d] = next;
    pendAt[d] = isPending(r) ? r : NO_PENDING;
    for (let k = tokenStart[i]!; k < tokenStart[i + 1]!; k++) {
      const id = ids[k]!;
      if (excluded[id] === 0) out[count++] = id;
    }
    i++;
  }
  return out.slice(0, count);
}

/** Whether some character starting with the bytes behind `pending` leads somewhere live from `state`. */
export function canComplete(dfa: LazyDfa, state: number, pending: number): boolean {
  const [lo, hi] = pendingRange(pending);
  return intersectsRange(dfa.outSet(state), lo, hi);
}

/** Below this fraction of the vocabulary, an id list beats a bitset. */
const LIST_FRACTION = 1 / 32;

/** A set of allowed token ids over a vocabulary of `size`, applied in place to logits. */
export class TokenMask {
  private constructor(
    /** How many ids are allowed. */
    readonly allowedCount: number,
    private readonly size: number,
    private readonly kind: 'allowed' | 'banned' | 'bits',
    private readonly data: Int32Array | Uint32Array,
  ) {}

  /**
   * The mask allowing exactly `allowed` (distinct ids < size).
   *
   *   TokenMask.fromAllowed(Int32Array.of(0, 2), 4).apply(logits)   // logits[1], logits[3] → −Inf
   */
  static fromAllowed(allowed: Int32Array, size: number): TokenMask {
    const n = allowed.length;
    if (n <= size * LIST_FRACTION) return new TokenMask(n, size, 'allowed', Int32Array.from(allowed).sort());
    const bits = new Uint32Array(Math.ceil(size / 32));
    for (const id of allowed) bits[id >>> 5]! |= 1 << (id & 31);
    if (size - n > size * LIST_FRACTION) return new TokenMask(n, size, 'bits', bits);
    const banned = new Int32Array(size - n);
    let k = 0;
    for (let id = 0; id < size; id++) if ((bits[id >>> 5]! & (1 << (id & 31))) === 0) banned[k++] = id;
    return new TokenMask(n, size, 'banned', banned);
  }

  /** Whether `id` is allowed. */
  has(id: number): boolean {
    if (id < 0 || id >= this.size) return false;
    if (this.kind === 'bits') return (this.data[id >>> 5]! & (1 << (id & 31))) !== 0;
    const found = binarySearch(this.data, id);
    return this.kind === 'allowed' ? found : !found;
  }

  /** Sets every disallowed logit to −Infinity (ids ≥ size too: padded vocabularies). */
  apply(logits: Float32Array): void {
    if (this.kind === 'allowed') this.applyAllowed(logits);
    else if (this.kind === 'banned') for (const id of this.data) logits[id] = -Infinity;
    else this.applyBits(logits);
    if (logits.length > this.size) logits.fill(-Infinity, this.size);
  }

  private applyAllowed(logits: Float32Array): void {
    const kept = new Float32Array(this.data.length);
    this.data.forEach((id, j) => (kept[j] = logits[id]!));
    logits.fill(-Infinity, 0, this.size);
    this.data.forEach((id, j) => (logits[id] = kept[j]!));
  }

  private applyBits(logits: Float32Array): void {
    const bits = this.data;
    for (let w = 0; w < bits.length; w++) {
      const word = bits[w]!;
      if (word === 0xffffffff) continue;
      const base = w << 5;
      const end = Math.min(base + 32, this.size);
      if (word === 0) logits.fill(-Infinity, base, end);
      else for (let id = base; id < end; id++) if ((word & (1 << (id & 31))) === 0) logits[id] = -Infinity;
    }
  }
}

function binarySearch(sorted: ArrayLike<number>, x: number): boolean {
  let a = 0;
  let b = sorted.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (sorted[m]! < x) a = m + 1;
    else b = m;
  }
  return a < sorted.length && sorted[a] === x;
}
