/**
 * The size checks every tokenizer file format shares, made while reading and before anything of
 * that size is built (see limits.ts for the limits themselves).
 *
 *   const budget = new TokenBudget(limits, 'tokenizer.json');
 *   budget.add(bytes.length, 'model.vocab["Ġthe"]');      // LIMIT_EXCEEDED past maxTokenBytes / maxTotalTokenBytes
 *   checkSpecials(specials, 'tokenizer.json', limits);
 *   checkFilePattern(pattern, 'tokenizer.json: pre_tokenizer', limits);   // vetted for the linear-time matcher
 */
import { TokenizerError } from '../errors.js';
import { type TokenizerLimits, limitExceeded } from '../limits.js';
import { SafePattern } from '../pattern/safe-pattern.js';
import { checkId, preview } from './json-checks.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from '../patterns.js';

/** Token sizes seen so far in one file: each token ≤ maxTokenBytes, all together ≤ maxTotalTokenBytes. */
export class TokenBudget {
  private total = 0;

  constructor(
    private readonly limits: TokenizerLimits,
    private readonly where: string,
  ) {}

  /** Checks one more token of `bytes` bytes (call before building it when the size is known first). */
  add(bytes: number, what: string): void {
    if (bytes > this.limits.maxTokenBytes) {
      throw limitExceeded(`${this.where}: ${what} is a token of ${bytes} bytes`, this.limits.maxTokenBytes, 'maxTokenBytes');
    }
    this.total += bytes;
    if (this.total > this.limits.maxTotalTokenBytes) {
      throw limitExceeded(`${this.where}: the tokens add up to more than ${this.limits.maxTotalTokenBytes} bytes`, this.limits.maxTotalTokenBytes, 'maxTotalTokenBytes');
    }
  }
}

/** A count of entries (vocab, merges, special tokens) against its limit. */
export function checkCount(count: number, what: string, where: string, limit: number, name: keyof TokenizerLimits): void {
  if (count > limit) throw limitExceeded(`${where}: ${count} ${what}`, limit, name);
}

/** Special tokens: how many, how long, and ids below maxVocabSize. */
export function checkSpecials(specials: ReadonlyMap<string, number>, where: string, limits: TokenizerLimits): void {
  checkCount(specials.size, 'special tokens', where, limits.maxSpecialTokens, 'maxSpecialTokens');
  for (const [text, id] of specials) checkSpecial(text, id, where, limits);
}

/** One special token's text length and id. */
export function checkSpecial(text: string, id: unknown, where: string, limits: TokenizerLimits): void {
  if (text.length > limits.maxSpecialTokenLength) {
    throw limitExceeded(`${where}: special token ${preview(text)} has ${text.length} characters`, limits.maxSpecialTokenLength, 'maxSpecialTokenLength');
  }
  checkId(id, `special token ${preview(text)}`, where, limits);
}

/**
 * Vets a pattern read from a file as the Tokenizer will run it (built-in patterns pass as they
 * are); the error keeps its code (UNSAFE_PATTERN, LIMIT_EXCEEDED, INVALID_ARGUMENT) and names `where`.
 */
export function checkFilePattern(pattern: string, where: string, limits: TokenizerLimits): void {
  if (pattern === GPT2_PATTERN || pattern === CL100K_PATTERN || pattern === O200K_PATTERN) return;
  try {
    new SafePattern(pattern, limits);
  } catch (err) {
    if (err instanceof TokenizerError) throw new TokenizerError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
}
