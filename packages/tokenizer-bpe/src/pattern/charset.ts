/**
 * Sets of code points for the linear-time matcher, with JavaScript's own meaning of each atom
 * (`\p{L}`, `[^\r\n\p{L}\p{N}]`, `.`, `\s`, a literal, …): membership is what `new RegExp(src, 'u')`
 * says. BMP answers are kept in bit tables filled one 256-code-point block at a time, the first time
 * the text reaches that block (so building a set costs nothing up front, and a block ~25 µs); astral
 * answers in a small map.
 *
 *   const letters = charSet('\\p{L}');
 *   letters.has(0x61)       // true ('a')
 *   letters.has(0x1d400)    // true ('𝐀', astral)
 */

export class CharSet {
  /** 256 blocks of 256 code points, 8 words of bits each, filled on first use. */
  private readonly blocks: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(256);
  private readonly astral = new Map<number, boolean>();
  private readonly one: RegExp;

  constructor(readonly src: string) {
    this.one = new RegExp(`^(?:${src})$`, 'u');
  }

  /** Whether code point `cp` is in the set (a lone surrogate is a code point of its own, as in 'u' mode). */
  has(cp: number): boolean {
    if (cp < 0x10000) {
      const block = this.blocks[cp >>> 8] ?? this.fill(cp >>> 8);
      return ((block[(cp & 255) >>> 5]! >>> (cp & 31)) & 1) === 1;
    }
    let v = this.astral.get(cp);
    if (v === undefined) {
      if (this.astral.size >= 4096) this.astral.clear();
      v = this.one.test(String.fromCodePoint(cp));
      this.astral.set(cp, v);
    }
    return v;
  }

  private fill(b: number): Uint32Array {
    const words = new Uint32Array(8);
    for (let k = 0; k < 256; k++) {
      if (this.one.test(String.fromCharCode((b << 8) | k))) words[k >>> 5]! |= 1 << (k & 31);
    }
    this.blocks[b] = words;
    return words;
  }
}

const cache = new Map<string, CharSet>();
const CACHE_SIZE = 256;

/** The set for JavaScript atom source `src` (cached by source, with what it has learned). */
export function charSet(src: string): CharSet {
  let set = cache.get(src);
  if (set === undefined) {
    set = new CharSet(src);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(src, set);
  }
  return set;
}
