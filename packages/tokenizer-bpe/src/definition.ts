/**
 * The data that fully defines a byte-level BPE tokenizer, shared by the encoder, the trainer and
 * every file format. Token bytes are kept as "binary strings": one char per byte (char codes
 * 0–255), which makes Map lookups fast and keys printable in tests.
 *
 *   const def: TokenizerDefinition = {
 *     name: 'tiny',
 *     pattern: GPT2_PATTERN,
 *     ranks: new Map([['a', 0], ['b', 1], ['ab', 256]]),   // bytes → rank (= token id)
 *     specialTokens: new Map([['<|endoftext|>', 257]]),      // text → id
 *   };
 *
 * Invariants (checked by `validateDefinition`): ranks are distinct non-negative integers; special
 * token ids are distinct and collide with no rank; every multi-byte token can be built by merging
 * two lower-ranked tokens (true for tiktoken files and for anything `trainBpe` produces).
 */
export interface TokenizerDefinition {
  /** A short name, e.g. 'cl100k_base' or the name given at training. */
  name: string;
  /** Pre-tokenization regex source (JS syntax, compiled with flags 'gu'). */
  pattern: string;
  /** Token bytes (binary string) → rank. The rank is the token id. */
  ranks: Map<string, number>;
  /** Special token text → id. */
  specialTokens: Map<string, number>;
}

/** Bytes → binary string (one char per byte). */
export function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Binary string → bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
