// llama-quantize's Q4_K_M mix (src/llama-quant.cpp), checked on the cases its rules distinguish.
import { describe, expect, it } from 'vitest';
import { q4kmTypeFor, useMoreBits } from './q4km.js';
import { GGML_TYPE } from './types.js';

const { F32, F16, Q4_K, Q5_0, Q6_K, Q8_0 } = GGML_TYPE;

describe('useMoreBits', () => {
  it('is the first and last eighth plus every third layer between', () => {
    // 32 layers: n/8 = 4, 7n/8 = 28 → 0..3, 6, 9, 12, …, 27, 28..31
    const more = Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32));
    expect(more).toEqual([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
    // 5 layers: n/8 = 0, 7n/8 = 4 → (i - 0) % 3 == 2 → 2; and 4
    expect([0, 1, 2, 3, 4].filter((i) => useMoreBits(i, 5))).toEqual([2, 4]);
  });
});

describe('q4kmTypeFor (Llama-7B-like shapes: 32 layers, width 4096, ffn 11008)', () => {
  const t = (name: string, layer: number, ncols: number, opts = {}) => q4kmTypeFor(name, layer, 32, { ncols, ...opts });
  it('output.weight → Q6_K; untied token_embd → Q4_K; tied token_embd → Q6_K', () => {
    expect(t('output.weight', -1, 4096)).toBe(Q6_K);
    expect(t('token_embd.weight', -1, 4096)).toBe(Q4_K);
    expect(t('token_embd.weight', -1, 4096, { tiedEmbeddings: true })).toBe(Q6_K);
  });
  it('attn_v and ffn_down follow useMoreBits, other linears stay Q4_K', () => {
    expect(t('blk.0.attn_v.weight', 0, 4096)).toBe(Q6_K);
    expect(t('blk.4.attn_v.weight', 4, 4096)).toBe(Q4_K);
    expect(t('blk.6.attn_v.weight', 6, 4096)).toBe(Q6_K);
    expect(t('blk.31.attn_v.weight', 31, 4096)).toBe(Q6_K);
    expect(t('blk.6.ffn_down.weight', 6, 11008 - 11008 % 256)).toBe(Q6_K);
    expect(t('blk.7.ffn_down.weight', 7, 11008 - 11008 % 256)).toBe(Q4_K);
    for (const n of ['attn_q', 'attn_k', 'attn_output', 'ffn_gate', 'ffn_up']) {
      expect(t(`blk.0.${n}.weight`, 0, 4096)).toBe(Q4_K);
    }
  });
  it("GPT-2's fused attn_qkv counts as attn_v", () => {
    expect(t('blk.0.attn_qkv.weight', 0, 768)).toBe(Q6_K);
    expect(t('blk.5.attn_qkv.weight', 5, 768)).toBe(Q4_K);
  });
  it('keeps norms, biases, position embeddings and 1-D tensors in their source type', () => {
    expect(t('blk.0.attn_norm.weight', 0, 4096, { nDims: 1 })).toBe(F32);
    expect(t('output_norm.weight', -1, 4096)).toBe(F32);
    expect(t('blk.0.attn_qkv.bias', 0, 2304, { nDims: 1 })).toBe(F32);
    expect(t('position_embd.weight', -1, 768)).toBe(F32);
    expect(t('position_embd.weight', -1, 768, { sourceType: F16 })).toBe(F16);
  });
  it('8-expert models send attn_v to Q8_0', () => {
    expect(t('blk.4.attn_v.weight', 4, 4096, { nExpert: 8 })).toBe(Q8_0);
  });
});

describe('q4kmTypeFor shape fallbacks (tiny models)', () => {
  it('rows not a multiple of 256: Q4_K → Q5_0, Q6_K → Q8_0, output → Q8_0', () => {
    expect(q4kmTypeFor('blk.1.attn_q.weight', 1, 5, { ncols: 64 })).toBe(Q5_0);
    expect(q4kmTypeFor('blk.2.attn_v.weight', 2, 5, { ncols: 64 })).toBe(Q8_0);
    expect(q4kmTypeFor('output.weight', -1, 5, { ncols: 64 })).toBe(Q8_0);
    expect(q4kmTypeFor('blk.0.ffn_down.weight', 0, 5, { ncols: 172 })).toBe(F16); // 172 % 32 ≠ 0
  });
});
