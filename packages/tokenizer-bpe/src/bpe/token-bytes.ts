/**
 * The decoding side of a vocabulary: every id's bytes, packed in one buffer.
 *
 *   const tb = TokenBytes.build(new Map([['hi', 0]]), new Map([['<|end|>', 1]]));
 *   tb.concat([0, 1, 0])   // → bytes of "hi<|end|>hi"
 *   tb.decode([0, 1])      // → 'hi<|end|>'
 *   tb.concat([7])         // → TokenizerError('UNKNOWN_TOKEN')
 *
 * Building also checks what decoding relies on: ids are non-negative integers, and no id is used
 * twice (two ranks, two special tokens, or a special token on a rank) — INVALID_ARGUMENT otherwise;
 * the largest id is below `maxVocabSize` (the tables are that long) — LIMIT_EXCEEDED otherwise.
 */
import { TokenizerError } from '../errors.js';
import { TOKENIZER_LIMITS, type TokenizerLimits, limitExceeded } from '../limits.js';

const encoder = new TextEncoder();

/** Longest id list decoded by string concatenation (see decode). */
const STRING_DECODE_LIMIT = 16384;

function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= 0x7ffffffe;
}

function badId(what: string, id: number): TokenizerError {
  return new TokenizerError('INVALID_ARGUMENT', `${what} has id ${id}; ids must be non-negative integers`);
}

function usedTwice(id: number, what: string): TokenizerError {
  return new TokenizerError('INVALID_ARGUMENT', `id ${id} is used twice (again by ${what})`);
}

export class TokenBytes {
  /** Per id, lazily: its text when its bytes are valid UTF-8, else null (undefined: not computed). */
  private readonly texts: (string | null | undefined)[];
  private readonly strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

  private constructor(
    private readonly pool: Uint8Array,
    private readonly start: Int32Array,
    private readonly length: Int32Array,
    private readonly maxDecodeBytes: number,
  ) {
    this.texts = new Array<string | null | undefined>(start.length);
  }

  /** Largest id + 1. */
  get vocabSize(): number {
    return this.start.length;
  }

  static build(
    ranks: ReadonlyMap<string, number>,
    specials: ReadonlyMap<string, number>,
    limits: TokenizerLimits = TOKENIZER_LIMITS,
  ): TokenBytes {
    let maxId = -1;
    let size = 0;
    const specialBytes = new Map<string, Uint8Array>();
    for (const [key, id] of ranks) {
      if (!validId(id)) throw badId(`token ${JSON.stringify(key)}`, id);
      if (id > maxId) maxId = id;
      size += key.length;
    }
    for (const [text, id] of specials) {
      if (!validId(id)) throw badId(`special token ${JSON.stringify(text)}`, id);
      if (id > maxId) maxId = id;
      const bytes = encoder.encode(text);
      specialBytes.set(text, bytes);
      size += bytes.length;
    }
    if (maxId >= limits.maxVocabSize) {
      throw limitExceeded(`the vocabulary uses id ${maxId}`, limits.maxVocabSize, 'maxVocabSize');
    }
    const pool = new Uint8Array(size);
    const start = new Int32Array(maxId + 1).fill(-1);
    const length = new Int32Array(maxId + 1);
    let used = 0;
    for (const [key, id] of ranks) {
      if (start[id] !== -1) throw usedTwice(id, `token ${JSON.stringify(key)}`);
      start[id] = used;
      for (let k = 0; k < key.length; k++) pool[used + k] = key.charCodeAt(k);
      length[id] = key.length;
      used += key.length;
    }
    for (const [text, bytes] of specialBytes) {
      const id = specials.get(text)!;
      if (start[id] !== -1) throw usedTwice(id, `special token ${JSON.stringify(text)}`);
      start[id] = used;
      pool.set(bytes, used);
      length[id] = bytes.length;
      used += bytes.length;
    }
    return new TokenBytes(pool, start, length, limits.maxDecodeBytes);
  }

  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.start.length && this.start[id]! >= 0;
  }

  private unknown(id: unknown): TokenizerError {
    return new TokenizerError('UNKNOWN_TOKEN', `unknown token id ${String(id)} (vocabulary size ${this.start.length})`);
  }

  /** A copy of one token's bytes. */
  bytesOf(id: number): Uint8Array {
    if (!this.has(id)) throw this.unknown(id);
    const s = this.start[id]!;
    return this.pool.slice(s, s + this.length[id]!);
  }

  /**
   * The text of `ids`: UTF-8 decoding of their bytes, U+FFFD for invalid sequences.
   *
   * Up to STRING_DECODE_LIMIT ids, runs of tokens with valid UTF-8 are concatenated as cached
   * strings and only runs of tokens holding partial characters go through TextDecoder — exact,
   * since a valid token starts on a character boundary, where a decoder would also end any
   * pending invalid sequence. Longer lists are copied to one byte buffer and decoded at once:
   * measured, string concatenation loses to TextDecoder beyond ~16k tokens (rope/GC costs).
   */
  decode(ids: ArrayLike<number>): string {
    if (ids.length > STRING_DECODE_LIMIT) return this.utf8.decode(this.concat(ids));
    const { start, texts } = this;
    let out = '';
    let pending = -1; // index of the first id of a run of non-UTF-8 tokens
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (id >>> 0 !== id || id >= start.length || start[id]! < 0) throw this.unknown(id);
      let text = texts[id];
      if (text === undefined) text = texts[id] = this.textOf(id);
      if (text === null) {
        if (pending < 0) pending = k;
        continue;
      }
      if (pending >= 0) {
        out += this.decodeRun(ids, pending, k);
        pending = -1;
      }
      out += text;
    }
    if (pending >= 0) out += this.decodeRun(ids, pending, ids.length);
    return out;
  }

  private decodeRun(ids: ArrayLike<number>, from: number, to: number): string {
    return this.utf8.decode(this.concat(Array.prototype.slice.call(ids, from, to) as number[]));
  }

  /** The token's text if its bytes are valid UTF-8, else null. */
  private textOf(id: number): string | null {
    const s = this.start[id]!;
    try {
      return this.strict.decode(this.pool.subarray(s, s + this.length[id]!));
    } catch {
      return null;
    }
  }

  /** The bytes of `ids` one after the other. */
  concat(ids: ArrayLike<number>): Uint8Array {
    const { start, length, pool } = this;
    let total = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      // `id >>> 0 === id` rejects negatives, fractions and non-numbers in one test.
      if (id >>> 0 !== id || id >= start.length || start[id]! < 0) throw this.unknown(id);
      total += length[id]!;
    }
    if (total > this.maxDecodeBytes) {
      throw limitExceeded(`decoding ${ids.length} ids would produce ${total} bytes`, this.maxDecodeBytes, 'maxDecodeBytes');
    }
    const out = new Uint8Array(total);
    let n = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const s = start[id]!;
      const e = s + length[id]!;
      for (let b = s; b < e; b++) out[n++] = pool[b]!;
    }
    return out;
  }
}
