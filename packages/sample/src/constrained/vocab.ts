/**
 * A TokenVocab from a tokenizer (@llm/tokenizer-bpe's Tokenizer fits): special tokens and ids
 * the tokenizer does not know (gaps in the id space) get empty bytes, so constraints never
 * allow them. Token bytes are read once, up front.
 *
 *   const vocab = vocabFromTokenizer(getEncoding('cl100k_base'));
 *   vocab.size                 // → 100277
 *   vocab.tokenBytes(15339)    // → bytes of 'hello'
 *   vocab.tokenBytes(100257)   // → empty (<|endoftext|>)
 */
import type { TokenVocab } from '../types.js';

/** What vocabFromTokenizer needs of a tokenizer. */
export interface TokenizerBytes {
  readonly vocabSize: number;
  tokenToBytes(id: number): Uint8Array;
  readonly specialTokens: ReadonlyMap<string, number>;
}

export function vocabFromTokenizer(tok: TokenizerBytes): TokenVocab {
  const special = new Set(tok.specialTokens.values());
  const empty = new Uint8Array(0);
  const bytes = Array.from({ length: tok.vocabSize }, (_, id) => (special.has(id) ? empty : bytesOrEmpty(tok, id)));
  return { size: tok.vocabSize, tokenBytes: (id) => bytes[id] ?? empty };
}

/** The token's bytes, or empty when the tokenizer has no token with that id. */
function bytesOrEmpty(tok: TokenizerBytes, id: number): Uint8Array {
  try {
    return tok.tokenToBytes(id);
  } catch {
    return new Uint8Array(0);
  }
}
