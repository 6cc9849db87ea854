/**
 * Thompson construction: a RegexNode becomes an NFA whose states either consume one code point
 * from a CharSet or fan out by ε-edges. Built back to front: `compile(node, next)` returns the
 * entry state of `node` given the state that follows it. States from which the accepting state
 * cannot be reached (after an empty class like `[]`) are marked dead, so every live DFA state
 * built from live NFA states can still reach a match.
 *
 *   const nfa = buildNfa(parseRegex('ab?'));
 *   nfa.states.length   // → 4: 'a', an ε-fork, 'b', accept
 *   nfa.live[nfa.start] // → 1
 */
import { SampleError } from '../errors.js';
import { type ConstraintLimits, SAMPLE_LIMITS } from '../limits.js';
import type { CharSet } from './charset.js';
import type { RegexNode } from './regex-ast.js';

/** One NFA state: with `set`, consume a code point in it and go to `next[0]`; else ε to each of `next`. */
export interface NfaState {
  readonly set: CharSet | null;
  readonly next: number[];
}

export interface Nfa {
  readonly states: readonly NfaState[];
  readonly start: number;
  readonly accept: number;
  /** 1 where the accepting state is reachable from the state. */
  readonly live: Uint8Array;
}

/** Builds the NFA of `node`; throws CONSTRAINT_INVALID when it has more than `limits.maxNfaStates` states. */
export function buildNfa(node: RegexNode, limits: ConstraintLimits = SAMPLE_LIMITS): Nfa {
  const b = new Builder(limits.maxNfaStates);
  const accept = b.add(null, []);
  const start = b.compile(node, accept);
  return { states: b.states, start, accept, live: liveStates(b.states, accept) };
}

class Builder {
  readonly states: NfaState[] = [];

  constructor(private readonly maxStates: number) {}

  add(set: CharSet | null, next: number[]): number {
    if (this.states.length >= this.maxStates) {
      throw new SampleError(
        'CONSTRAINT_INVALID',
        `regex too large: over ${this.maxStates} automaton states (limits.maxNfaStates); lower the {m,n} counts ` +
          '(maxLength, maxItems) or the nesting',
      );
    }
    this.states.push({ set, next });
    return this.states.length - 1;
  }

  /** Entry state of `node`, whose exit goes to `next`. */
  compile(node: RegexNode, next: number): number {
    switch (node.type) {
      case 'empty':
        return next;
      case 'chars':
        return this.add(node.set, [next]);
      case 'concat':
        return node.items.reduceRight((after, item) => this.compile(item, after), next);
      case 'alt':
        return this.add(
          null,
          node.options.map((o) => this.compile(o, next)),
        );
      case 'repeat':
        return this.repeat(node.item, node.min, node.max, next);
    }
  }

  /** `item{min,max}`: a loop (max = ∞) or max − min nested optional copies, after `min` copies. */
  private repeat(item: RegexNode, min: number, max: number, next: number): number {
    let entry: number;
    if (max === Infinity) {
      entry = this.add(null, []); // loop: ε to the body (which returns here) or on to `next`
      this.states[entry]!.next.push(this.compile(item, entry), next);
    } else {
      entry = next;
      for (let i = min; i < max; i++) entry = this.add(null, [this.compile(item, entry), next]);
    }
    for (let i = 0; i < min; i++) entry = this.compile(item, entry);
    return entry;
  }
}

/** Marks states that can reach `accept` (walking edges backwards; empty sets never fire). */
function liveStates(states: readonly NfaState[], accept: number): Uint8Array {
  // predecessor lists in compressed form (offsets + one flat array): NFAs may have a million states
  const n = states.length;
  const fires = (s: NfaState) => s.set === null || s.set.length > 0;
  const start = new Int32Array(n + 1);
  for (const s of states) if (fires(s)) for (const to of s.next) start[to + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const preds = new Int32Array(start[n]!);
  const fill = start.slice(0, n);
  states.forEach((s, i) => {
    if (fires(s)) for (const to of s.next) preds[fill[to]!++] = i;
  });
  const live = new Uint8Array(n);
  const stack = [accept];
  live[accept] = 1;
  while (stack.length > 0) {
    const to = stack.pop()!;
    for (let k = start[to]!; k < start[to + 1]!; k++) {
      const p = preds[k]!;
      if (live[p] === 0) {
        live[p] = 1;
        stack.push(p);
      }
    }
  }
  return live;
}
