/**
 * Ordinary-text encoding (no special tokens): pre-tokenize into pieces, then turn each piece into
 * ids the way tiktoken does — whole-piece lookup first, byte-pair merge otherwise.
 *
 *   const pe = new PieceEncoder(def.ranks, scanCl100k, undefined);
 *   const out: number[] = [];
 *   pe.encodeRange('hello world', 0, 11, out)   // → 2, out = [15339, 1917] in cl100k_base
 *
 * Speed notes (measured, see benchmarks/tokenizer):
 * - pieces are never materialized as strings: the scanner returns boundaries, and the vocabulary
 *   is a PieceTable keyed by the token's text, looked up straight from the input's code units
 *   (most pieces of real text are one token, so this one probe is the common case);
 * - only pieces that miss are UTF-8 encoded and merged, and their ids are cached (bounded: the
 *   cache is dropped when full) under the same code-unit key;
 * - a token whose bytes are not valid UTF-8 cannot be a whole piece's text — the piece is text —
 *   so such tokens only live in the ByteTable used by the merge.
 */
import type { Scanner } from './scanners.js';
import { TokenizerError } from '../errors.js';
import { TOKENIZER_LIMITS, type TokenizerLimits, limitExceeded } from '../limits.js';
import type { SafePattern } from '../pattern/safe-pattern.js';
import { BpeMerger } from './bpe-merge.js';
import { ByteTable } from './byte-table.js';
import { hashChars, hashUnits } from './hash.js';
import { MISSING, PieceTable } from './piece-table.js';
import { decodeUtf8Strict, encodeUtf8 } from './utf8.js';

/** Largest merge cache (entries; each takes ~150 bytes of tables). */
const MAX_CACHE_SIZE = 1 << 20;

/** Pieces longer than this (code units) are merged every time instead of cached. */
const MAX_CACHED_PIECE = 256;

export interface PieceEncoderOptions {
  /** Entries in the merge cache before it is dropped (default 65536; 0 disables it). */
  cacheSize?: number;
  /** `maxPieceBytes` bounds the memory of one merge (default TOKENIZER_LIMITS). */
  limits?: TokenizerLimits;
}

export class PieceEncoder {
  private readonly vocab: PieceTable;
  private readonly cache: PieceTable | undefined;
  /** Multi-token cache values: [count, id, id, …] runs; cache value -(offset + 2) points here. */
  private multi: Int32Array;
  private multiUsed = 0;
  private readonly merger: BpeMerger;
  private bytes = new Uint8Array(1024);
  private ids = new Int32Array(1024);
  private readonly maxPieceBytes: number;

  constructor(
    ranks: ReadonlyMap<string, number>,
    private readonly scanner: Scanner | undefined,
    private readonly matcher: SafePattern | undefined,
    options: PieceEncoderOptions = {},
  ) {
    this.maxPieceBytes = (options.limits ?? TOKENIZER_LIMITS).maxPieceBytes;
    this.vocab = buildVocabTable(ranks);
    this.merger = new BpeMerger(ByteTable.fromRanks(ranks));
    const cacheSize = options.cacheSize ?? 65536;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0 || cacheSize > MAX_CACHE_SIZE) {
      throw new TokenizerError('INVALID_ARGUMENT', `cacheSize must be an integer from 0 to ${MAX_CACHE_SIZE}, got ${String(cacheSize)}`);
    }
    this.cache = cacheSize > 0 ? new PieceTable(cacheSize, cacheSize * 16) : undefined;
    // Room for 16 code units of key and 16 ids per entry on average (CJK pieces run long).
    this.multi = new Int32Array(cacheSize > 0 ? cacheSize * 16 : 0);
  }

  /** Encodes text[start..end) as ordinary text, pushing ids to `out` (if given); returns the count. */
  encodeRange(text: string, start: number, end: number, out: number[] | null): number {
    if (this.scanner) return this.encodeScanned(text, start, end, out, this.scanner);
    return this.encodeMatched(text, start, end, out);
  }

  private encodeScanned(text: string, start: number, end: number, out: number[] | null, scan: Scanner): number {
    let count = 0;
    for (let i = start; i < end; ) {
      const j = scan(text, i, end);
      const h = hashChars(text, i, j);
      const id = this.vocab.get(text, i, j, h);
      if (id >= 0) {
        if (out !== null) out.push(id);
        count++;
      } else count += this.encodeRare(text, i, j, h, out);
      i = j;
    }
    return count;
  }

  /** Custom patterns: the linear-time matcher runs on the range as its own text (so `$`/lookaheads end there). */
  private encodeMatched(text: string, start: number, end: number, out: number[] | null): number {
    let count = 0;
    this.matcher!.forEachMatch(text, start, end, (i, j) => {
      const h = hashChars(text, i, j);
      const id = this.vocab.get(text, i, j, h);
      if (id >= 0) {
        if (out !== null) out.push(id);
        count++;
      } else count += this.encodeRare(text, i, j, h, out);
    });
    return count;
  }

  /** A piece that is not one token: from the cache, or merged (and then cached). */
  private encodeRare(text: string, i: number, j: number, h: number, out: number[] | null): number {
    const cache = this.cache;
    if (cache !== undefined) {
      const v = cache.get(text, i, j, h);
      if (v !== MISSING) return this.emitCached(v, out);
    }
    const units = j - i;
    // A UTF-16 code unit is at most 3 UTF-8 bytes; units ≤ bytes, so units > limit is over it too.
    if (units > this.maxPieceBytes || (3 * units > this.maxPieceBytes && utf8Length(text, i, j) > this.maxPieceBytes)) {
      throw limitExceeded(`a pre-tokenized piece of ${units} characters (${utf8Length(text, i, j)} bytes) is too long to merge`, this.maxPieceBytes, 'maxPieceBytes');
    }
    if (this.bytes.length < 3 * units) {
      // Small pieces grow the buffers with room to spare; huge ones get exactly what they need.
      const size = units <= 1 << 16 ? 6 * units : 3 * units;
      this.bytes = new Uint8Array(size);
      this.ids = new Int32Array(size);
    }
    const nBytes = encodeUtf8(text, i, j, this.bytes);
    const n = this.merger.merge(this.bytes, nBytes, this.ids);
    if (out !== null) for (let k = 0; k < n; k++) out.push(this.ids[k]!);
    if (cache !== undefined && j - i <= MAX_CACHED_PIECE) this.remember(text, i, j, h, n, cache);
    return n;
  }

  private emitCached(v: number, out: number[] | null): number {
    if (v >= 0) {
      if (out !== null) out.push(v);
      return 1;
    }
    const off = -v - 2;
    const n = this.multi[off]!;
    if (out !== null) for (let k = 1; k <= n; k++) out.push(this.multi[off + k]!);
    return n;
  }

  private remember(text: string, i: number, j: number, h: number, n: number, cache: PieceTable): void {
    if (j - i > cache.keyCapacity || (n > 1 && n + 1 > this.multi.length)) return; // never fits
    if (!cache.hasRoom(j - i) || (n > 1 && this.multiUsed + n + 1 > this.multi.length)) {
      cache.clear();
      this.multiUsed = 0;
    }
    if (n === 1) {
      cache.set(text, i, j, h, this.ids[0]!);
      return;
    }
    const off = this.multiUsed;
    this.multi[off] = n;
    for (let k = 0; k < n; k++) this.multi[off + 1 + k] = this.ids[k]!;
    this.multiUsed += n + 1;
    cache.set(text, i, j, h, -off - 2);
  }
}

/** UTF-8 length of text[i..j) (lone surrogates count 3, as U+FFFD). */
function utf8Length(text: string, i: number, j: number): number {
  let n = 0;
  for (let k = i; k < j; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < j && (text.charCodeAt(k + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      k++;
    } else n += 3;
  }
  return n;
}

/** Token text (UTF-16) → id, for every token whose bytes are valid UTF-8. */
function buildVocabTable(ranks: ReadonlyMap<string, number>): PieceTable {
  let keyUnits = 0;
  let maxLen = 0;
  for (const key of ranks.keys()) {
    keyUnits += key.length;
    maxLen = Math.max(maxLen, key.length);
  }
  const table = new PieceTable(Math.max(1, ranks.size), keyUnits);
  const units = new Uint16Array(maxLen);
  for (const [key, id] of ranks) {
    const n = decodeUtf8Strict(key, units);
    if (n > 0) table.setUnits(units, n, hashUnits(units, 0, n), id);
  }
  return table;
}
