import { describe, expect, it } from 'vitest';
import { trainedVocab } from '../testing/constrained.js';
import { indexVocab } from './vocab-index.js';
import { vocabFromTokenizer } from './vocab.js';

describe('vocabFromTokenizer', () => {
  it('copies token bytes; special tokens and unknown ids get empty bytes', () => {
    const { vocab, tok, eos } = trainedVocab();
    expect(vocab.size).toBe(tok.vocabSize);
    expect(vocab.tokenBytes(eos)).toEqual(new Uint8Array(0));
    for (const id of [0, 97, 255, 256, 300, vocab.size - 2]) expect(vocab.tokenBytes(id)).toEqual(tok.tokenToBytes(id));
    const gappy = vocabFromTokenizer({
      vocabSize: 4,
      specialTokens: new Map([['<s>', 3]]),
      tokenToBytes: (id) => {
        if (id === 1) throw new Error('unknown token id 1');
        return Uint8Array.of(65 + id);
      },
    });
    expect([0, 1, 2, 3].map((id) => [...gappy.tokenBytes(id)])).toEqual([[65], [], [67], []]);
  });
});

describe('indexVocab', () => {
  it('builds the preorder trie of the docstring and shares an existing index', () => {
    const words = ['a', 'ab', 'b', '', 'ab'];
    const index = indexVocab({ size: 5, tokenBytes: (id) => new TextEncoder().encode(words[id] ?? '') });
    expect(index.nodeCount).toBe(3);
    expect([...index.byte]).toEqual([0x61, 0x62, 0x62]);
    expect([...index.depth]).toEqual([1, 2, 1]);
    expect([...index.skip]).toEqual([2, 2, 3]);
    // tokens ending at each node: 'a' → [0], 'ab' → [1, 4] (duplicates kept), 'b' → [2]
    const at = (i: number): number[] => [...index.ids.slice(index.tokenStart[i], index.tokenStart[i + 1])];
    expect([at(0), at(1), at(2)]).toEqual([[0], [1, 4], [2]]);
    expect(indexVocab(index)).toBe(index);
  });
});
