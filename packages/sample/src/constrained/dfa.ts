/**
 * A lazily determinized DFA over Unicode code points: each DFA state is a set of live NFA states
 * (ε-closed), created the first time a transition reaches it and then cached, as are the
 * transitions themselves (a 128-entry table for ASCII, a Map above). State −1 is dead.
 *
 *   const dfa = LazyDfa.fromPattern('\\d+');
 *   const s = dfa.step(dfa.start, 0x37);   // '7'
 *   dfa.isAccepting(s)                     // → true
 *   dfa.step(s, 0x61)                      // → DEAD ('a')
 *   dfa.matches('123')                     // → true
 *
 * Subset construction can need exponentially many states (`(a|b)*a(a|b){20}`), and they are made
 * as generation and mask computation walk the automaton, so the DFA has a budget
 * (`limits.maxDfaStates` states, `limits.maxDfaMembers` NFA states summed over them): past it, the
 * step that would create a state throws SampleError('CONSTRAINT_INVALID') instead of growing.
 */
import { SampleError } from '../errors.js';
import { type ConstraintLimits, SAMPLE_LIMITS } from '../limits.js';
import { type CharSet, contains, unionAll } from './charset.js';
import { type Nfa, buildNfa } from './nfa.js';
import { parseRegex } from './regex-parser.js';

/** The dead state: no continuation can match. */
export const DEAD = -1;
/** Marks a transition not computed yet in the ASCII tables. */
const UNKNOWN = -2;

export class LazyDfa {
  readonly start: number;
  private readonly members: Int32Array[] = [];
  private readonly accepting: boolean[] = [];
  private readonly ascii: Int32Array[] = [];
  private readonly other: Array<Map<number, number>> = [];
  private readonly outSets: Array<CharSet | undefined> = [];
  private readonly ids = new Map<string, number>();
  /** NFA states summed over all DFA states (the budget's second measure). */
  private memberCount = 0;

  constructor(private readonly nfa: Nfa, private readonly limits: ConstraintLimits = SAMPLE_LIMITS) {
    this.start = this.intern(this.closure([nfa.start]));
  }

  /** Parses and compiles `pattern`; throws CONSTRAINT_INVALID for unsupported syntax or a pattern past `limits`. */
  static fromPattern(pattern: string, limits: ConstraintLimits = SAMPLE_LIMITS): LazyDfa {
    return new LazyDfa(buildNfa(parseRegex(pattern, limits), limits), limits);
  }

  /** How many DFA states exist so far. */
  get size(): number {
    return this.members.length;
  }

  /** The state after reading code point `cp` in `state`, or DEAD. */
  step(state: number, cp: number): number {
    if (cp < 128) {
      const table = this.ascii[state]!;
      let to = table[cp]!;
      if (to === UNKNOWN) table[cp] = to = this.compute(state, cp);
      return to;
    }
    const map = this.other[state]!;
    let to = map.get(cp);
    if (to === undefined) map.set(cp, (to = this.compute(state, cp)));
    return to;
  }

  /** Whether the text read so far is a full match. */
  isAccepting(state: number): boolean {
    return this.accepting[state]!;
  }

  /** Every code point that leads somewhere live from `state` (cached). */
  outSet(state: number): CharSet {
    let set = this.outSets[state];
    if (set === undefined) {
      const sets: CharSet[] = [];
      for (const s of this.members[state]!) {
        const nfaSet = this.nfa.states[s]!.set;
        if (nfaSet !== null) sets.push(nfaSet);
      }
      this.outSets[state] = set = unionAll(sets);
    }
    return set;
  }

  /** Whether the whole of `text` matches. `LazyDfa.fromPattern('a|b').matches('b')` → true. */
  matches(text: string): boolean {
    let state = this.start;
    for (const ch of text) {
      state = this.step(state, ch.codePointAt(0)!);
      if (state === DEAD) return false;
    }
    return this.isAccepting(state);
  }

  private compute(state: number, cp: number): number {
    const targets: number[] = [];
    for (const s of this.members[state]!) {
      const ns = this.nfa.states[s]!;
      if (ns.set !== null && contains(ns.set, cp)) targets.push(ns.next[0]!);
    }
    return targets.length === 0 ? DEAD : this.intern(this.closure(targets));
  }

  /** Live NFA states reachable by ε-edges from `seeds`, keeping consuming states and accept. */
  private closure(seeds: number[]): Int32Array {
    const { states, live, accept } = this.nfa;
    const seen = new Set<number>();
    const kept: number[] = [];
    const stack = seeds.filter((s) => live[s] === 1);
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      const ns = states[s]!;
      if (ns.set !== null || s === accept) kept.push(s);
      if (ns.set === null) for (const n of ns.next) if (live[n] === 1 && !seen.has(n)) stack.push(n);
    }
    return Int32Array.from(kept).sort();
  }

  private intern(members: Int32Array): number {
    if (members.length === 0) return DEAD;
    const key = members.join(',');
    let id = this.ids.get(key);
    if (id === undefined) {
      this.memberCount += members.length;
      if (this.members.length >= this.limits.maxDfaStates || this.memberCount > this.limits.maxDfaMembers) {
        throw new SampleError(
          'CONSTRAINT_INVALID',
          `regex automaton too large: over ${this.limits.maxDfaStates} DFA states or ${this.limits.maxDfaMembers} NFA ` +
            'states in them (limits.maxDfaStates / maxDfaMembers); the pattern needs exponentially many states ' +
            '(e.g. (a|b)*a(a|b){20}): simplify it, or raise the limits',
        );
      }
      id = this.members.length;
      this.ids.set(key, id);
      this.members.push(members);
      this.accepting.push(members.includes(this.nfa.accept));
      this.ascii.push(new Int32Array(128).fill(UNKNOWN));
      this.other.push(new Map());
      this.outSets.push(undefined);
    }
    return id;
  }
}

/**
 * Throws CONSTRAINT_INVALID when `dfa` matches no string at all.
 * `requireSatisfiable(LazyDfa.fromPattern('a[]'), 'a[]')` throws.
 */
export function requireSatisfiable(dfa: LazyDfa, pattern: string): void {
  if (dfa.start === DEAD) {
    throw new SampleError(
      'CONSTRAINT_INVALID',
      `regex /${pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern}/ matches no string at all, so no output can satisfy it`,
    );
  }
}
