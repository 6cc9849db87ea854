/**
 * Runs a compiled pattern over text in time linear in the text: the same matches as JavaScript's
 * backtracking engine (leftmost, then the first alternative in priority order), without its
 * exponential or polynomial blow-ups.
 *
 *   const m = new Matcher(program, limits);
 *   m.forEachMatch('hello world', 0, 11, (i, j) => pieces.push(text.slice(i, j)));
 *
 * How. Let END(s, p) be the end of the first match the automaton finds from instruction `s` at
 * position `p` (or FAIL). Because the subset the vetting accepts has no back-references and no
 * repetition of empty matches, END depends only on (s, p), not on how (s, p) was reached. A
 * backtracking engine computes END by depth-first search and recomputes it every time (s, p) is
 * reached again; this matcher remembers it:
 * - a failure of any branching instruction (Split, Look, Atomic) at p is recorded in a bit table
 *   (pages of 4,096 positions, dropped once the search has moved past them); inside a lookaround
 *   or atomic body, successes are remembered too (a bounded map);
 * - a loop over one set (`\p{L}+`, `\s*`) is scanned forward once, then its continuation is tried
 *   from the longest run down (greedy) or the shortest up (lazy); the result for the whole run is
 *   one interval (positions up to the last success give its result, later ones FAIL), so a search
 *   that starts again inside the run knows its answer without rescanning;
 * - the search is an explicit stack of frames (never JavaScript recursion), bounded by
 *   `maxPatternFrames`.
 * Each (instruction, position) pair is thus evaluated at most a constant number of times: the
 * work over a whole text is O(text length × program size). A step counter with that bound (times
 * a safety factor) turns any residual blow-up into a typed error instead of a hang.
 */
import { TokenizerError } from '../errors.js';
import type { TokenizerLimits } from '../limits.js';
import { AssertKind } from './parse.js';
import { Op, type Program } from './program.js';

const FAIL = -1;
const PAGE_SHIFT = 12;
const PAGE_WORDS = (1 << PAGE_SHIFT) >>> 5;
const SUCCESS_MEMO_SIZE = 1 << 20;
const FRAME = 5;

// Frame kinds.
const F_SPLIT1 = 0;
const F_SPLIT2 = 1;
const F_LOOK = 2;
const F_LOOK2 = 3;
const F_ATOM = 4;
const F_ATOM2 = 5;
const F_GREEDY = 6;
const F_LAZY = 7;

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}
function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}
function isWordUnit(u: number): boolean {
  return (u >= 0x61 && u <= 0x7a) || (u >= 0x41 && u <= 0x5a) || (u >= 0x30 && u <= 0x39) || u === 0x5f;
}

export class Matcher {
  private text = '';
  private segStart = 0;
  private segEnd = 0;
  /** Failure bits: fails[slot][page] (positions relative to segStart). */
  private fails: (Uint32Array | undefined)[][] = [];
  private pagesAllocated = 0;
  private firstLivePage = 0;
  private successes = new Map<number, number>();
  /** Interval caches of the set loops, by loop slot (see the file comment). */
  private readonly loopFrom: Int32Array;
  private readonly loopTo: Int32Array;
  private readonly loopLast: Int32Array;
  private readonly loopValue: Int32Array;
  private stack = new Int32Array(FRAME * 64);
  private steps = 0;
  private stepBudget = 0;

  constructor(
    private readonly prog: Program,
    private readonly limits: TokenizerLimits,
  ) {
    this.loopFrom = new Int32Array(prog.loopCount);
    this.loopTo = new Int32Array(prog.loopCount);
    this.loopLast = new Int32Array(prog.loopCount);
    this.loopValue = new Int32Array(prog.loopCount);
  }

  /**
   * Calls `fn(i, j)` for each non-empty match in text[start..end), in order, as a global
   * JavaScript regex over `text.slice(start, end)` would find them (`^`, `$` and lookarounds see
   * only that range). An empty match skips one code point.
   */
  forEachMatch(text: string, start: number, end: number, fn: (i: number, j: number) => void): void {
    this.reset(text, start, end);
    const prog = this.prog;
    for (let p = start; p <= end; ) {
      let q = p;
      let v = FAIL;
      for (;;) {
        this.release(q);
        v = this.run(prog.start, q);
        if (v !== FAIL || q >= end) break;
        q += this.width(q);
      }
      if (v === FAIL) return;
      if (v === q) {
        if (q >= end) return;
        p = q + this.width(q);
      } else {
        fn(q, v);
        p = v;
      }
    }
  }

  private reset(text: string, start: number, end: number): void {
    this.text = text;
    this.segStart = start;
    this.segEnd = end;
    if (this.pagesAllocated > 0) {
      this.fails = [];
      this.pagesAllocated = 0;
    }
    this.firstLivePage = 0;
    if (this.successes.size > 0) this.successes = new Map();
    this.loopFrom.fill(-1);
    this.steps = 0;
    const len = end - start + 1;
    this.stepBudget = this.limits.patternStepFactor * len * (this.prog.size + 8) + 1_000_000;
  }

  /** Drops failure pages wholly before position p (the search never goes back there). */
  private release(p: number): void {
    const page = (p - this.segStart) >> PAGE_SHIFT;
    if (page <= this.firstLivePage) return;
    if (this.pagesAllocated > 0) {
      for (const pages of this.fails) {
        if (pages === undefined) continue;
        for (let k = this.firstLivePage; k < page && k < pages.length; k++) {
          if (pages[k] !== undefined) {
            pages[k] = undefined;
            this.pagesAllocated--;
          }
        }
      }
    }
    this.firstLivePage = page;
  }

  /** UTF-16 width of the code point at p (< segEnd). */
  private width(p: number): number {
    const t = this.text;
    return isHigh(t.charCodeAt(p)) && p + 1 < this.segEnd && isLow(t.charCodeAt(p + 1)) ? 2 : 1;
  }

  private failed(slot: number, p: number): boolean {
    const rel = p - this.segStart;
    const page = this.fails[slot]?.[rel >> PAGE_SHIFT];
    if (page === undefined) return false;
    const bit = rel & ((1 << PAGE_SHIFT) - 1);
    return ((page[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  private store(s: number, p: number, v: number): void {
    const slot = this.prog.memo[s]!;
    if (slot < 0) return;
    if (v !== FAIL) {
      if (this.prog.inSub[s] === 1) {
        if (this.successes.size >= SUCCESS_MEMO_SIZE) this.successes = new Map();
        this.successes.set((p - this.segStart) * this.prog.memoCount + slot, v);
      }
      return;
    }
    const rel = p - this.segStart;
    let pages = this.fails[slot];
    if (pages === undefined) pages = this.fails[slot] = [];
    const pageNo = rel >> PAGE_SHIFT;
    let page = pages[pageNo];
    if (page === undefined) {
      if (this.pagesAllocated >= this.limits.maxPatternMemoPages) throw this.tooMuch('memo pages', this.limits.maxPatternMemoPages, 'maxPatternMemoPages');
      page = pages[pageNo] = new Uint32Array(PAGE_WORDS);
      this.pagesAllocated++;
    }
    const bit = rel & ((1 << PAGE_SHIFT) - 1);
    page[bit >>> 5]! |= 1 << (bit & 31);
  }

  private tooMuch(what: string, limit: number, name: string): TokenizerError {
    return new TokenizerError(
      'LIMIT_EXCEEDED',
      `the pre-tokenization pattern needs more than ${limit} ${what} on this text (limits.${name}); ` +
        `split the text into smaller pieces or simplify the pattern`,
    );
  }

  private push(kind: number, s: number, p: number, x: number, y: number, sp: number): number {
    if (sp + FRAME > this.stack.length) {
      if (sp / FRAME >= this.limits.maxPatternFrames) throw this.tooMuch('backtracking frames', this.limits.maxPatternFrames, 'maxPatternFrames');
      const grown = new Int32Array(Math.min(this.stack.length * 2, (this.limits.maxPatternFrames + 1) * FRAME));
      grown.set(this.stack);
      this.stack = grown;
    }
    const st = this.stack;
    st[sp] = kind;
    st[sp + 1] = s;
    st[sp + 2] = p;
    st[sp + 3] = x;
    st[sp + 4] = y;
    return sp + FRAME;
  }

  /** Reads the code point at p (< segEnd) into `this.cp` and returns its width. */
  private cp = 0;
  private read(p: number): number {
    const t = this.text;
    const u = t.charCodeAt(p);
    if (isHigh(u) && p + 1 < this.segEnd) {
      const l = t.charCodeAt(p + 1);
      if (isLow(l)) {
        this.cp = ((u - 0xd800) << 10) + (l - 0xdc00) + 0x10000;
        return 2;
      }
    }
    this.cp = u;
    return 1;
  }

  /** Start of the code point that ends at j (> from), never before `from`. */
  private prev(j: number, from: number): number {
    const t = this.text;
    return j - 2 >= from && isLow(t.charCodeAt(j - 1)) && isHigh(t.charCodeAt(j - 2)) ? j - 2 : j - 1;
  }

  /** Whether `p` is the start of a code point for a scan that began at `from` (≤ p). */
  private aligned(p: number, from: number): boolean {
    const t = this.text;
    return !(p > from && isLow(t.charCodeAt(p)) && isHigh(t.charCodeAt(p - 1)));
  }

  /** The set loop `slot`'s cached result at q, or undefined (-2) when q is outside its interval. */
  private loopCached(s: number, slot: number, q: number): number {
    const from = this.loopFrom[slot]!;
    if (from < 0 || q < from || q > this.loopTo[slot]! || !this.aligned(q, from)) return -2;
    if (this.prog.op[s] === Op.LazyLoop) return this.loopValue[slot]!;
    return q <= this.loopLast[slot]! ? this.loopValue[slot]! : FAIL;
  }

  private setLoop(slot: number, from: number, to: number, last: number, value: number): void {
    this.loopFrom[slot] = from;
    this.loopTo[slot] = to;
    this.loopLast[slot] = last;
    this.loopValue[slot] = value;
  }

  private assertion(kind: number, p: number): boolean {
    switch (kind) {
      case AssertKind.Start:
        return p === this.segStart;
      case AssertKind.End:
        return p === this.segEnd;
      default: {
        const t = this.text;
        const before = p > this.segStart && isWordUnit(t.charCodeAt(p - 1));
        const after = p < this.segEnd && isWordUnit(t.charCodeAt(p));
        return (before !== after) === (kind === AssertKind.WordBoundary);
      }
    }
  }

  private behindMatches(index: number, p: number): boolean {
    const ids = this.prog.behind[index]!;
    const t = this.text;
    let pos = p;
    for (let k = ids.length - 1; k >= 0; k--) {
      if (pos <= this.segStart) return false;
      let cp = t.charCodeAt(pos - 1);
      let w = 1;
      if (isLow(cp) && pos - 2 >= this.segStart && isHigh(t.charCodeAt(pos - 2))) {
        cp = ((t.charCodeAt(pos - 2) - 0xd800) << 10) + (cp - 0xdc00) + 0x10000;
        w = 2;
      }
      if (!this.prog.sets[ids[k]!]!.has(cp)) return false;
      pos -= w;
    }
    return true;
  }

  private overBudget(): TokenizerError {
    return new TokenizerError(
      'UNSAFE_PATTERN',
      `the pre-tokenization pattern took more than ${this.stepBudget} steps on ${this.segEnd - this.segStart} characters ` +
        `(limits.patternStepFactor); this is a bug in the matcher's linear-time guarantee, please report the pattern`,
    );
  }

  /** END(s0, p0): the end of the first match from instruction s0 at position p0, or FAIL. */
  private run(s0: number, p0: number): number {
    const prog = this.prog;
    const { op, a, b, c, memo, inSub, loop, sets } = prog;
    const end = this.segEnd;
    let s = s0;
    let p = p0;
    let v = FAIL;
    let sp = 0;
    let steps = this.steps;
    for (;;) {
      // Evaluate (s, p) until a value is known (v) or a frame is pushed to wait for one.
      evaluate: for (;;) {
        if ((++steps & 0xfff) === 0 && steps > this.stepBudget) throw this.overBudget();
        switch (op[s]) {
          case Op.Match:
            v = p;
            break evaluate;
          case Op.Char: {
            if (p < end) {
              const w = this.read(p);
              if (sets[a[s]!]!.has(this.cp)) {
                p += w;
                s = b[s]!;
                continue;
              }
            }
            v = FAIL;
            break evaluate;
          }
          case Op.Assert:
            if (this.assertion(a[s]!, p)) {
              s = b[s]!;
              continue;
            }
            v = FAIL;
            break evaluate;
          case Op.Behind:
            if (this.behindMatches(a[s]!, p) !== (c[s] === 1)) {
              s = b[s]!;
              continue;
            }
            v = FAIL;
            break evaluate;
          case Op.Split:
          case Op.Look:
          case Op.Atomic: {
            const slot = memo[s]!;
            if (this.failed(slot, p)) {
              v = FAIL;
              break evaluate;
            }
            if (inSub[s] === 1) {
              const known = this.successes.get((p - this.segStart) * prog.memoCount + slot);
              if (known !== undefined) {
                v = known;
                break evaluate;
              }
            }
            const kind = op[s] === Op.Split ? F_SPLIT1 : op[s] === Op.Look ? F_LOOK : F_ATOM;
            sp = this.push(kind, s, p, 0, 0, sp);
            s = a[s]!;
            continue;
          }
          case Op.GreedyLoop:
          case Op.LazyLoop: {
            const slot = loop[s]!;
            const known = this.loopCached(s, slot, p);
            if (known !== -2) {
              v = known;
              break evaluate;
            }
            if (op[s] === Op.LazyLoop) {
              // Lazy: the continuation first, one more code point of the set only when it fails (F_LAZY).
              sp = this.push(F_LAZY, s, p, p, 0, sp);
              s = b[s]!;
              continue;
            }
            // Scan the run of set members from p, stopping early where the cache knows the answer.
            const set = sets[a[s]!]!;
            let r = p;
            let to = -1;
            while (r < end) {
              if (r > p) {
                const k = this.loopCached(s, slot, r);
                if (k !== -2) {
                  if (k !== FAIL) {
                    this.setLoop(slot, p, this.loopTo[slot]!, this.loopLast[slot]!, k);
                    v = k;
                    break evaluate;
                  }
                  to = this.loopTo[slot]!;
                  break;
                }
              }
              const w = this.read(r);
              if (!set.has(this.cp)) break;
              r += w;
              steps++;
            }
            if (steps > this.stepBudget) throw this.overBudget();
            // Try the continuation from the longest run down: at r itself unless r's answer is known (FAIL).
            let j = r;
            if (to >= 0) j = this.prev(r, p);
            else to = r;
            sp = this.push(F_GREEDY, s, p, j, to, sp);
            s = b[s]!;
            p = j;
            continue;
          }
          default:
            throw new Error(`pattern matcher: bad instruction ${op[s]}`);
        }
      }
      // Return v to the frames, resuming the first one that has more to do.
      resume: for (;;) {
        if (sp === 0) {
          this.steps = steps;
          return v;
        }
        const st = this.stack;
        const f = sp - FRAME;
        const kind = st[f]!;
        const fs = st[f + 1]!;
        const fp = st[f + 2]!;
        switch (kind) {
          case F_SPLIT1:
            if (v !== FAIL) break;
            st[f] = F_SPLIT2;
            s = b[fs]!;
            p = fp;
            break resume;
          case F_LOOK:
            if ((v !== FAIL) === (c[fs] === 1)) {
              v = FAIL;
              break;
            }
            st[f] = F_LOOK2;
            s = b[fs]!;
            p = fp;
            break resume;
          case F_ATOM:
            if (v === FAIL) break;
            st[f] = F_ATOM2;
            s = b[fs]!;
            p = v;
            break resume;
          case F_GREEDY: {
            const j = st[f + 3]!;
            const to = st[f + 4]!;
            const slot = loop[fs]!;
            if (v !== FAIL) {
              this.setLoop(slot, fp, to, j, v);
              sp = f;
              continue;
            }
            if (j <= fp) {
              this.setLoop(slot, fp, to, -1, FAIL);
              sp = f;
              continue;
            }
            const nj = this.prev(j, fp);
            st[f + 3] = nj;
            s = b[fs]!;
            p = nj;
            break resume;
          }
          case F_LAZY: {
            const j = st[f + 3]!;
            const slot = loop[fs]!;
            if (v !== FAIL) {
              this.setLoop(slot, fp, j, 0, v);
              sp = f;
              continue;
            }
            if (j < end) {
              const w = this.read(j);
              if (sets[a[fs]!]!.has(this.cp)) {
                const nj = j + w;
                const k = this.loopCached(fs, slot, nj);
                if (k !== -2) {
                  this.setLoop(slot, fp, this.loopTo[slot]!, 0, k);
                  v = k;
                  sp = f;
                  continue;
                }
                st[f + 3] = nj;
                s = b[fs]!;
                p = nj;
                break resume;
              }
            }
            this.setLoop(slot, fp, j, 0, FAIL);
            v = FAIL;
            sp = f;
            continue;
          }
          default:
            break; // F_SPLIT2, F_LOOK2, F_ATOM2: the value is final
        }
        // The frame of instruction fs at fp is done with value v.
        this.store(fs, fp, v);
        sp = f;
      }
    }
  }
}
