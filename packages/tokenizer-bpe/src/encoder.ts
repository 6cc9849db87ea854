/**
 * The byte-level BPE encoder/decoder, token-for-token identical to tiktoken.
 *
 *   const tok = new Tokenizer(getEncodingDefinition('cl100k_base'));   // or any TokenizerDefinition
 *   tok.encode('hello world')                        // → [15339, 1917]
 *   tok.decode([15339, 1917])                        // → 'hello world'
 *   tok.encode('<|endoftext|>')                      // throws TokenizerError('DISALLOWED_SPECIAL')
 *   tok.encode('<|endoftext|>', { allowedSpecial: 'all' })        // → [100257]
 *   tok.encode('<|endoftext|>', { disallowedSpecial: [] })        // → encoded as plain text
 *
 * The definition's pattern picks the pre-tokenizer: the built-in patterns of patterns.ts run as
 * hand-written scanners (same pieces, several times faster); any other pattern (e.g. from a
 * tokenizer file) is vetted and runs on the linear-time matcher of pattern/ (same pieces as a
 * JavaScript regex, without catastrophic backtracking): UNSAFE_PATTERN when it cannot.
 */
import type { TokenizerDefinition } from './definition.js';
import { TokenizerError } from './errors.js';
import { type TokenizerLimits, resolveLimits } from './limits.js';
import { SafePattern } from './pattern/safe-pattern.js';
import { CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN } from './patterns.js';
import { PieceEncoder } from './bpe/piece-encoder.js';
import { type Scanner, scanCl100k, scanGpt2, scanO200k } from './bpe/scanners.js';
import {
  type ResolvedSpecialOptions,
  type SpecialTokenOptions,
  SpecialFinder,
  disallowedSpecialError,
  resolveSpecialOptions,
} from './bpe/special-tokens.js';
import { type StreamingDecoder, createStreamingDecoder } from './bpe/stream-decoder.js';
import { TokenBytes } from './bpe/token-bytes.js';

export type { SpecialTokenOptions as EncodeOptions } from './bpe/special-tokens.js';
export type { StreamingDecoder } from './bpe/stream-decoder.js';

const SCANNERS: ReadonlyMap<string, Scanner> = new Map([
  [GPT2_PATTERN, scanGpt2],
  [CL100K_PATTERN, scanCl100k],
  [O200K_PATTERN, scanO200k],
]);

export interface TokenizerOptions {
  /** Pieces whose merge result is cached before the cache is dropped (default 65536; 0: no cache). */
  cacheSize?: number;
  /**
   * Overrides of TOKENIZER_LIMITS for this tokenizer: the pattern limits, `maxVocabSize` (largest
   * id + 1), `maxPieceBytes` (longest pre-tokenized piece) and `maxDecodeBytes`.
   */
  limits?: Partial<TokenizerLimits>;
}

/** Ids as an indexable list (arrays and typed arrays as they are, other iterables copied). */
function idList(ids: Iterable<number> | ArrayLike<number>): ArrayLike<number> {
  if (Array.isArray(ids) || ArrayBuffer.isView(ids)) return ids as ArrayLike<number>;
  if (ids != null && typeof (ids as Iterable<number>)[Symbol.iterator] === 'function') {
    return Array.from(ids as Iterable<number>);
  }
  if (ids != null && typeof (ids as ArrayLike<number>).length === 'number') return ids as ArrayLike<number>;
  throw new TokenizerError('INVALID_ARGUMENT', 'expected a list of token ids');
}

function checkText(text: unknown): asserts text is string {
  if (typeof text !== 'string') {
    throw new TokenizerError('INVALID_ARGUMENT', `expected a string to encode, got ${typeof text}`);
  }
}

export class Tokenizer {
  /** The definition this tokenizer was built from (not copied: do not mutate it afterwards). */
  readonly definition: TokenizerDefinition;
  /** Special token text → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly pieces: PieceEncoder;
  private readonly tokenBytes: TokenBytes;
  private readonly defaults: ResolvedSpecialOptions;
  private readonly defaultFinder: SpecialFinder;
  private readonly finders = new Map<string, SpecialFinder>();

  /** Builds the lookup tables (tens of milliseconds for a 200k vocabulary). */
  constructor(definition: TokenizerDefinition, options: TokenizerOptions = {}) {
    const limits = resolveLimits(options.limits);
    this.definition = definition;
    this.specialTokens = new Map(definition.specialTokens);
    this.tokenBytes = TokenBytes.build(definition.ranks, this.specialTokens, limits);
    const scanner = SCANNERS.get(definition.pattern);
    const matcher = scanner ? undefined : new SafePattern(definition.pattern, limits);
    this.pieces = new PieceEncoder(definition.ranks, scanner, matcher, { ...options, limits });
    this.defaults = resolveSpecialOptions(this.specialTokens);
    this.defaultFinder = new SpecialFinder(this.defaults.disallowed);
  }

  /** Largest id (ranks and special tokens) + 1. `getEncoding('cl100k_base').vocabSize === 100277`. */
  get vocabSize(): number {
    return this.tokenBytes.vocabSize;
  }

  /**
   * Text → ids with tiktoken's special-token rules (see SpecialTokenOptions): by default any
   * special-token text in the input throws DISALLOWED_SPECIAL; allowed ones become their ids.
   * `encode('hi<|endoftext|>', { allowedSpecial: ['<|endoftext|>'] })` → [6151, 100257].
   */
  encode(text: string, options?: SpecialTokenOptions): number[] {
    const out: number[] = [];
    this.run(text, options, out);
    return out;
  }

  /** Text → ids, special-token text encoded as plain text. `encodeOrdinary('<|endoftext|>').length > 1`. */
  encodeOrdinary(text: string): number[] {
    checkText(text);
    const out: number[] = [];
    this.pieces.encodeRange(text, 0, text.length, out);
    return out;
  }

  /** encode() over many texts. `encodeBatch(['a', 'b'])` → [[64], [65]]. */
  encodeBatch(texts: Iterable<string>, options?: SpecialTokenOptions): number[][] {
    const out: number[][] = [];
    for (const text of texts) out.push(this.encode(text, options));
    return out;
  }

  /** encode(text, options).length without building the array. */
  countTokens(text: string, options?: SpecialTokenOptions): number {
    return this.run(text, options, null);
  }

  /**
   * Ids → text. Bytes that are not valid UTF-8 (a character cut between tokens) become U+FFFD,
   * as tiktoken's `decode` does. Unknown ids throw UNKNOWN_TOKEN. `decode([15339])` → 'hello'.
   */
  decode(ids: Iterable<number> | ArrayLike<number>): string {
    return this.tokenBytes.decode(idList(ids));
  }

  /** Ids → raw bytes. `decodeBytes([15339])` → Uint8Array [104, 101, 108, 108, 111]. */
  decodeBytes(ids: Iterable<number> | ArrayLike<number>): Uint8Array {
    return this.tokenBytes.concat(idList(ids));
  }

  /** One token's bytes (a copy). `tokenToBytes(100257)` → the UTF-8 of '<|endoftext|>'. */
  tokenToBytes(id: number): Uint8Array {
    return this.tokenBytes.bytesOf(id);
  }

  /** A streaming decoder (see StreamingDecoder): its chunks concatenate to decode(all ids). */
  decoder(): StreamingDecoder {
    return createStreamingDecoder((ids) => this.tokenBytes.concat(ids));
  }

  /** Encodes with special-token handling; pushes to `out` when given; returns the token count. */
  private run(text: string, options: SpecialTokenOptions | undefined, out: number[] | null): number {
    checkText(text);
    const resolved =
      options === undefined || (options.allowedSpecial === undefined && options.disallowedSpecial === undefined)
        ? this.defaults
        : resolveSpecialOptions(this.specialTokens, options);
    if (resolved.disallowed.length > 0) {
      const finder = resolved === this.defaults ? this.defaultFinder : this.finder(resolved.disallowed);
      const hit = finder.cursor(text)(0);
      if (hit) throw disallowedSpecialError(hit.token);
    }
    if (resolved.allowed.length === 0) return this.pieces.encodeRange(text, 0, text.length, out);
    const next = this.finder(resolved.allowed).cursor(text);
    let count = 0;
    for (let start = 0; ; ) {
      const hit = next(start);
      count += this.pieces.encodeRange(text, start, hit ? hit.index : text.length, out);
      if (!hit) return count;
      if (out !== null) out.push(this.specialTokens.get(hit.token)!);
      count++;
      start = hit.index + hit.token.length;
    }
  }

  /** A (cached) finder for a set of special tokens. */
  private finder(tokens: readonly string[]): SpecialFinder {
    const key = [...tokens].sort().join('\u0000');
    let f = this.finders.get(key);
    if (f === undefined) {
      if (this.finders.size >= 64) this.finders.clear();
      f = new SpecialFinder(tokens);
      this.finders.set(key, f);
    }
    return f;
  }
}
