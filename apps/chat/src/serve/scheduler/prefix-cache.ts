/**
 * Prefix cache: forked sequences of recently seen prompt prefixes (a system prompt, a tools block),
 * least recently used first out. A hit is the longest stored prefix of a prompt that leaves at
 * least one token to feed; the caller forks the stored sequence (sharing its blocks).
 *
 *   const pc = new PrefixCache(8);
 *   pc.put(systemIds, seq.fork());
 *   pc.lookup(promptIds);   // { tokens: systemIds, seq } when promptIds starts with systemIds
 */
import type { Sequence } from './engine.js';

interface Entry {
  tokens: number[];
  seq: Sequence;
  used: number;
}

export class PrefixCache {
  private entries: Entry[] = [];
  private clock = 0;
  hits = 0;
  lookups = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.length;
  }

  has(tokens: readonly number[]): boolean {
    return this.entries.some((e) => sameIds(e.tokens, tokens));
  }

  lookup(prompt: readonly number[]): { tokens: number[]; seq: Sequence } | null {
    this.lookups++;
    let best: Entry | null = null;
    for (const e of this.entries) {
      if (e.tokens.length < prompt.length && (!best || e.tokens.length > best.tokens.length) && startsWith(prompt, e.tokens)) best = e;
    }
    if (!best) return null;
    best.used = ++this.clock;
    this.hits++;
    return best;
  }

  put(tokens: readonly number[], seq: Sequence): void {
    if (this.capacity <= 0 || this.has(tokens)) {
      seq.free();
      return;
    }
    this.entries.push({ tokens: [...tokens], seq, used: ++this.clock });
    while (this.entries.length > this.capacity) this.evictOne();
  }

  /** Free the least recently used entry; false when there is none. */
  evictOne(): boolean {
    if (!this.entries.length) return false;
    let at = 0;
    this.entries.forEach((e, i) => (e.used < this.entries[at]!.used ? (at = i) : 0));
    this.entries.splice(at, 1)[0]!.seq.free();
    return true;
  }

  clear(): void {
    while (this.evictOne());
  }
}

function startsWith(a: readonly number[], prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && startsWith(a, b);
