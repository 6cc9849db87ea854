/**
 * A Constraint that keeps generated text inside a regex (matched against the whole output).
 * Tokens are byte strings that may end inside a UTF-8 character, so the state is a DFA state
 * plus the decoder's pending partial character. Masks are computed once per state and cached.
 *
 *   const c = regexConstraint('\\d{4}-\\d{2}-\\d{2}', vocab, { eosIds: [eos] });
 *   let s = c.start();
 *   c.mask(logits, s);            // only tokens made of digits (at most 4 of them) stay finite
 *   s = c.advance(s, id);         // after sampling `id`
 *   c.isComplete(s);              // true once the text is a whole date; then EOS is allowed
 */
import { SampleError } from '../errors.js';
import { type ConstraintLimits, constraintLimits } from '../limits.js';
import type { Constraint, TokenVocab } from '../types.js';
import { DEAD, LazyDfa, requireSatisfiable } from './dfa.js';
import { TokenMask, allowedTokens, canComplete } from './token-mask.js';
import { NO_PENDING, decodeFrom } from './utf8.js';
import { type VocabIndex, indexVocab } from './vocab-index.js';

/** Where the output is: a DFA state and a partial UTF-8 character (utf8.ts); treat as opaque. */
export interface RegexState {
  readonly dfa: number;
  readonly pending: number;
}

export interface RegexConstraintOptions {
  /** End-of-sequence ids: allowed exactly when the text so far is a complete match. */
  eosIds: readonly number[];
  /** Cached masks kept before the cache is cleared (default 4096; each ≤ size/8 bytes). */
  maskCacheSize?: number;
  /** Bounds of the regex and its automata (default SAMPLE_LIMITS; see limits.ts); raise one for a big trusted pattern. */
  limits?: Partial<ConstraintLimits>;
}

/** The state after an EOS was accepted: complete, finished, only EOS allowed. */
const ENDED = -2;

/**
 * Compiles `pattern` (see regex-parser.ts for the subset) against `vocab` (index it once with
 * indexVocab to share it between constraints). Throws SampleError('CONSTRAINT_INVALID') for
 * unsupported syntax or a pattern no text matches. `isFinished` is true when no token of the
 * vocabulary can extend the text (so only EOS, if complete, remains).
 *
 *   const c = regexConstraint('ab?', vocab, { eosIds: [eos] });   // vocab: 'a', 'b', 'ab', …
 *   c.isComplete(c.advance(c.start(), idOf('a')))                 // → true ('a' matches)
 *   c.isFinished(c.advance(c.start(), idOf('ab')))                // → true (nothing may follow)
 */
export function regexConstraint(
  pattern: string,
  vocab: TokenVocab,
  opts: RegexConstraintOptions,
): Constraint<RegexState> {
  if (opts === null || typeof opts !== 'object') {
    throw new SampleError('INVALID_ARGUMENT', 'constraint options are required: { eosIds: [...] }');
  }
  const limits = constraintLimits(opts.limits, (m) => {
    throw new SampleError('INVALID_ARGUMENT', `constraint options: ${m}`);
  });
  const dfa = LazyDfa.fromPattern(pattern, limits);
  requireSatisfiable(dfa, pattern);
  return new RegexConstraint(dfa, indexVocab(vocab), opts);
}

class RegexConstraint implements Constraint<RegexState> {
  private readonly eosIds: readonly number[];
  private readonly isEos: Uint8Array;
  private readonly masks = new Map<number, TokenMask>();
  private readonly maxMasks: number;

  constructor(private readonly dfa: LazyDfa, private readonly vocab: VocabIndex, opts: RegexConstraintOptions) {
    this.eosIds = checkEosIds(opts.eosIds, vocab.size);
    this.isEos = new Uint8Array(vocab.size);
    for (const id of this.eosIds) this.isEos[id] = 1;
    this.maxMasks = opts.maskCacheSize ?? 4096;
    if (!Number.isSafeInteger(this.maxMasks) || this.maxMasks < 1) {
      throw new SampleError('INVALID_ARGUMENT', `constraint options: maskCacheSize must be a positive integer, got ${String(opts.maskCacheSize)}`);
    }
  }

  start(): RegexState {
    return { dfa: this.dfa.start, pending: NO_PENDING };
  }

  mask(logits: Float32Array, state: RegexState): void {
    if (logits.length < this.vocab.size) {
      throw new SampleError(
        'SHAPE_MISMATCH',
        `constraint mask: logits have ${logits.length} entries, the vocabulary ${this.vocab.size}`,
      );
    }
    const eosLogits = this.eosIds.map((id) => logits[id]!);
    if (state.dfa === ENDED) logits.fill(-Infinity);
    else this.tokenMask(state).apply(logits);
    if (this.isComplete(state)) this.eosIds.forEach((id, j) => (logits[id] = eosLogits[j]!));
  }

  advance(state: RegexState, id: number): RegexState {
    if (this.isEos[id] === 1) {
      if (!this.isComplete(state)) this.reject(id, 'EOS before the text is a complete match');
      return { dfa: ENDED, pending: NO_PENDING };
    }
    const bytes = this.vocab.tokenBytes(id);
    if (state.dfa === ENDED || bytes.length === 0)
      this.reject(id, 'nothing may follow EOS, and special tokens never may');
    const decoded = decodeFrom(state.pending, bytes);
    if (decoded === null) this.reject(id, 'its bytes are not valid UTF-8 here');
    let q = state.dfa;
    for (const cp of decoded.codePoints) if (q !== DEAD) q = this.dfa.step(q, cp);
    const ok = q !== DEAD && (decoded.pending === NO_PENDING || canComplete(this.dfa, q, decoded.pending));
    if (!ok) this.reject(id, 'the text would no longer match the pattern');
    return { dfa: q, pending: decoded.pending };
  }

  isComplete(state: RegexState): boolean {
    return state.dfa === ENDED || (state.pending === NO_PENDING && this.dfa.isAccepting(state.dfa));
  }

  /** True when no non-EOS token of the vocabulary can follow (so only EOS, if anything). */
  isFinished(state: RegexState): boolean {
    return state.dfa === ENDED || this.tokenMask(state).allowedCount === 0;
  }

  /** The cached mask of non-EOS tokens for `state`, computed on first use. */
  private tokenMask(state: RegexState): TokenMask {
    const key = state.dfa * 2 ** 22 + state.pending;
    let mask = this.masks.get(key);
    if (mask === undefined) {
      if (this.masks.size >= this.maxMasks) this.masks.clear();
      const ids = allowedTokens(this.vocab, this.dfa, state.dfa, state.pending, this.isEos);
      mask = TokenMask.fromAllowed(ids, this.vocab.size);
      this.masks.set(key, mask);
    }
    return mask;
  }

  private reject(id: number, why: string): never {
    throw new SampleError(
      'CONSTRAINT_INVALID',
      `constraint advance: token ${id} cannot be appended: ${why} (apply mask() before sampling)`,
    );
  }
}

function checkEosIds(eosIds: readonly number[], size: number): readonly number[] {
  if (!Array.isArray(eosIds))
    throw new SampleError('INVALID_ARGUMENT', 'constraint options: eosIds must be an array of token ids');
  for (const id of eosIds) {
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw new SampleError(
        'INVALID_ARGUMENT',
        `constraint options: eos id ${id} is not in the vocabulary [0, ${size})`,
      );
    }
  }
  return [...eosIds];
}
