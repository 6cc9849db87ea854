/**
 * Compiles a vetted pattern tree into the instruction list the matcher runs: a Thompson-style
 * automaton compiled back to front (each node is given its continuation), with the alternatives
 * of every branch in JavaScript's priority order, so that following the first branch that leads
 * to a match gives exactly the match JavaScript's backtracking engine returns.
 *
 *   const prog = compileProgram(parsePattern('\\p{L}+|\\s', limits), limits);
 *   prog.op[prog.start]   // Op.Split: try the letters first, then the space
 *
 * A repetition of one code-point set (`\p{L}+`, `\s*`, `[^\r\n]*?`) becomes a single loop
 * instruction that the matcher runs as a scan (no stack per character); counted repetitions
 * (`\p{N}{1,3}`) are unrolled into nested optionals, as a backtracking engine tries them.
 */
import { TokenizerError } from '../errors.js';
import type { TokenizerLimits } from '../limits.js';
import { type CharSet, charSet } from './charset.js';
import type { PatternNode } from './parse.js';

export const enum Op {
  /** End of the pattern (or of a lookaround / atomic body): the match ends here. */
  Match = 0,
  /** One code point in set `a`, then `b`. */
  Char = 1,
  /** Try `a`; if no match follows, try `b`. */
  Split = 2,
  /** Greedy `set a *`, then `b`: as many code points of the set as lead to a match. */
  GreedyLoop = 3,
  /** Lazy `set a *?`, then `b`: as few as lead to a match. */
  LazyLoop = 4,
  /** Assertion kind `a` (AssertKind), then `b`. */
  Assert = 5,
  /** Lookahead with body starting at `a`, then `b`; `c` = 1 when negative. */
  Look = 6,
  /** Lookbehind: the code points before match `behind[a]` (sets, last one nearest), then `b`; `c` = 1 when negative. */
  Behind = 7,
  /** Atomic group with body starting at `a` (its first match only), then `b`. */
  Atomic = 8,
}

export interface Program {
  readonly op: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly c: Int32Array;
  readonly sets: readonly CharSet[];
  /** Lookbehind set sequences (set ids), by Behind's `a`. */
  readonly behind: readonly (readonly number[])[];
  readonly start: number;
  readonly size: number;
  /** Per instruction: its memo slot (Split, Look, Atomic) or -1. */
  readonly memo: Int32Array;
  readonly memoCount: number;
  /** Per instruction: its loop slot (GreedyLoop, LazyLoop) or -1. */
  readonly loop: Int32Array;
  readonly loopCount: number;
  /** Per instruction: 1 inside a lookaround or atomic body (whose results are also memoized when they succeed). */
  readonly inSub: Uint8Array;
}

class Builder {
  readonly op: number[] = [];
  readonly a: number[] = [];
  readonly b: number[] = [];
  readonly c: number[] = [];
  readonly inSub: number[] = [];
  readonly sets: CharSet[] = [];
  readonly behind: number[][] = [];
  private readonly setIds = new Map<string, number>();
  subDepth = 0;

  constructor(
    private readonly source: string,
    private readonly limits: TokenizerLimits,
  ) {}

  emit(op: Op, a: number, b: number, c = 0): number {
    const at = this.op.length;
    if (at >= this.limits.maxPatternProgram) {
      throw new TokenizerError(
        'UNSAFE_PATTERN',
        `pre-tokenization pattern ${JSON.stringify(this.source.slice(0, 120))} compiles to more than ${this.limits.maxPatternProgram} ` +
          `instructions (limits.maxPatternProgram): its counted repetitions multiply out too far`,
      );
    }
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    this.c.push(c);
    this.inSub.push(this.subDepth > 0 ? 1 : 0);
    return at;
  }

  setId(src: string): number {
    let id = this.setIds.get(src);
    if (id === undefined) {
      if (this.sets.length >= this.limits.maxPatternSets) {
        throw new TokenizerError(
          'UNSAFE_PATTERN',
          `pre-tokenization pattern ${JSON.stringify(this.source.slice(0, 120))} uses more than ${this.limits.maxPatternSets} distinct ` +
            `characters and classes (limits.maxPatternSets); merge them into classes`,
        );
      }
      id = this.sets.length;
      this.sets.push(charSet(src));
      this.setIds.set(src, id);
    }
    return id;
  }

  /** Compiles `node` followed by the instruction `next`; returns its entry. */
  compile(node: PatternNode, next: number): number {
    switch (node.t) {
      case 'set':
        return this.emit(Op.Char, this.setId(node.src), next);
      case 'seq': {
        let at = next;
        for (let k = node.items.length - 1; k >= 0; k--) at = this.compile(node.items[k]!, at);
        return at;
      }
      case 'alt': {
        const single = singleSet(node);
        if (single !== undefined) return this.emit(Op.Char, this.setId(single), next);
        const entries = node.items.map((item) => this.compile(item, next));
        let at = entries[entries.length - 1]!;
        for (let k = entries.length - 2; k >= 0; k--) at = this.emit(Op.Split, entries[k]!, at);
        return at;
      }
      case 'group':
        return this.compile(node.body, next);
      case 'assert':
        return this.emit(Op.Assert, node.kind, next);
      case 'look': {
        if (node.behind) {
          const ids = flattenSets(node.body).map((src) => this.setId(src));
          this.behind.push(ids);
          return this.emit(Op.Behind, this.behind.length - 1, next, node.neg ? 1 : 0);
        }
        return this.emit(Op.Look, this.sub(node.body), next, node.neg ? 1 : 0);
      }
      case 'atomic':
        return this.emit(Op.Atomic, this.sub(node.body), next);
      case 'rep':
        return this.repeat(node, next);
      case 'backref':
        throw new TokenizerError('UNSAFE_PATTERN', 'back-references are not supported'); // vetted out before
    }
  }

  /** A lookaround / atomic body ending in its own Match; returns its entry. */
  private sub(body: PatternNode): number {
    this.subDepth++;
    const end = this.emit(Op.Match, 0, 0);
    const entry = this.compile(body, end);
    this.subDepth--;
    return entry;
  }

  private repeat(node: Extract<PatternNode, { t: 'rep' }>, next: number): number {
    const { body, min, max, greedy } = node;
    const single = singleSet(body);
    let tail = next;
    if (max === Infinity) {
      if (single !== undefined) tail = this.emit(greedy ? Op.GreedyLoop : Op.LazyLoop, this.setId(single), next);
      else {
        const loop = this.emit(Op.Split, 0, 0);
        const entry = this.compile(body, loop);
        this.a[loop] = greedy ? entry : next;
        this.b[loop] = greedy ? next : entry;
        tail = loop;
      }
    } else {
      for (let k = min; k < max; k++) {
        const entry = this.compile(body, tail);
        tail = greedy ? this.emit(Op.Split, entry, next) : this.emit(Op.Split, next, entry);
      }
    }
    for (let k = 0; k < min; k++) tail = this.compile(body, tail);
    return tail;
  }
}

/** The source of a set matching what `node` matches when that is always exactly one code point from a set. */
function singleSet(node: PatternNode): string | undefined {
  if (node.t === 'set') return node.src;
  if (node.t === 'group') return singleSet(node.body);
  if (node.t === 'alt') {
    const parts = node.items.map(singleSet);
    // Alternatives of single code points consume one code point whichever matches: one union set.
    return parts.every((p) => p !== undefined) ? `(?:${parts.join('|')})` : undefined;
  }
  return undefined;
}

/** The set sources of a fixed sequence (lookbehind bodies, vetted to be one). */
function flattenSets(node: PatternNode): string[] {
  if (node.t === 'set') return [node.src];
  if (node.t === 'group') return flattenSets(node.body);
  if (node.t === 'seq') return node.items.flatMap(flattenSets);
  return [];
}

/** Compiles a vetted tree (see parsePattern). */
export function compileProgram(tree: PatternNode, source: string, limits: TokenizerLimits): Program {
  const bld = new Builder(source, limits);
  const end = bld.emit(Op.Match, 0, 0);
  const start = bld.compile(tree, end);
  const size = bld.op.length;
  const memo = new Int32Array(size).fill(-1);
  const loop = new Int32Array(size).fill(-1);
  let memoCount = 0;
  let loopCount = 0;
  for (let s = 0; s < size; s++) {
    const op = bld.op[s]!;
    if (op === Op.Split || op === Op.Look || op === Op.Atomic) memo[s] = memoCount++;
    else if (op === Op.GreedyLoop || op === Op.LazyLoop) loop[s] = loopCount++;
  }
  return {
    op: Uint8Array.from(bld.op),
    a: Int32Array.from(bld.a),
    b: Int32Array.from(bld.b),
    c: Int32Array.from(bld.c),
    sets: bld.sets,
    behind: bld.behind,
    start,
    size,
    memo,
    memoCount,
    loop,
    loopCount,
    inSub: Uint8Array.from(bld.inSub),
  };
}
