// The paged KV cache and the sequence API: block accounting (fork shares, free returns,
// copy-on-write of a shared partial block), CACHE_FULL leaves everything intact, truncate, no leak
// over 1,000 short sequences and 10,000 decode steps, and the typed errors of bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { compileForInference } from '../compile.js';
import type { InferenceModel } from './model.js';
import { CONFIGS, expectInferError, maxAbsDiff, randomIdRows, randomModel, useWasm } from '../testing/helpers.js';

beforeAll(useWasm);

describe('paged KV cache', () => {
  let ref: TransformerLM;
  let eng: InferenceModel;
  beforeAll(() => {
    ref = randomModel(CONFIGS.llama);
    eng = compileForInference(ref, { maxTokens: 40, blockTokens: 4 }); // 10 blocks of 4 positions
  });
  afterAll(() => {
    eng.dispose();
    ref.dispose();
  });
  const V = () => ref.config.vocabSize;
  const logitsOf = (tokens: number[]): Float32Array => {
    const out = ref.forward(tf.tensor2d([tokens], [1, tokens.length], 'int32'), { logitsToKeep: 1 });
    const d = Float32Array.from(out.dataSync() as Float32Array);
    out.dispose();
    return d;
  };

  it('fork shares every block; the first write copies only the shared partial block; free returns them', () => {
    const [p] = randomIdRows(1, 10, V(), 1) as [number[]];
    const a = eng.newSequence();
    eng.step([{ seq: a, tokens: p.slice(0, 6) }]); // 2 blocks (4 + 2)
    expect(eng.cacheStats()).toEqual({ blocksTotal: 10, blocksInUse: 2, blockTokens: 4 });
    const b = a.fork();
    expect(eng.cacheStats().blocksInUse).toBe(2); // nothing new
    expect(b.length).toBe(6);
    const [la] = eng.step([{ seq: a, tokens: [p[6]!] }]); // a writes into the shared partial block → copy
    expect(eng.cacheStats().blocksInUse).toBe(3);
    const [lb] = eng.step([{ seq: b, tokens: [p[7]!] }]); // b now owns the old partial block alone
    expect(eng.cacheStats().blocksInUse).toBe(3);
    expect(maxAbsDiff(la!, logitsOf(p.slice(0, 7)))).toBeLessThan(1e-4);
    expect(maxAbsDiff(lb!, logitsOf([...p.slice(0, 6), p[7]!]))).toBeLessThan(1e-4);
    a.free();
    expect(eng.cacheStats().blocksInUse).toBe(2);
    b.free();
    expect(eng.cacheStats().blocksInUse).toBe(0);
    b.free(); // idempotent
  });

  it('truncate drops whole blocks past the new length and decoding continues correctly', () => {
    const [p] = randomIdRows(1, 12, V(), 2) as [number[]];
    const s = eng.newSequence();
    eng.step([{ seq: s, tokens: p.slice(0, 10) }]);
    expect(eng.cacheStats().blocksInUse).toBe(3);
    s.truncate(5);
    expect(s.length).toBe(5);
    expect(eng.cacheStats().blocksInUse).toBe(2);
    const [l] = eng.step([{ seq: s, tokens: [p[11]!] }]);
    expect(maxAbsDiff(l!, logitsOf([...p.slice(0, 5), p[11]!]))).toBeLessThan(1e-4);
    s.free();
  });

  it('CACHE_FULL when blocks run out leaves every sequence and the pool as they were', async () => {
    const a = eng.newSequence();
    const b = eng.newSequence();
    eng.step([{ seq: a, tokens: randomIdRows(1, 30, V(), 3)[0]! }]); // 8 blocks
    const before = eng.cacheStats();
    await expectInferError(() => eng.step([{ seq: a, tokens: [1, 2] }, { seq: b, tokens: randomIdRows(1, 9, V(), 4)[0]! }]), 'CACHE_FULL', /needs 3 more KV blocks.*2 of 10 are free/);
    expect(eng.cacheStats()).toEqual(before);
    expect(a.length).toBe(30);
    expect(b.length).toBe(0);
    eng.step([{ seq: b, tokens: [1, 2, 3] }]); // what fits still runs
    a.free();
    b.free();
    expect(eng.cacheStats().blocksInUse).toBe(0);
  });

  it('1,000 short sequences created, stepped and freed: no block and no tfjs tensor leak', () => {
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) {
      const s = eng.newSequence();
      eng.step([{ seq: s, tokens: [i % V(), (i * 7) % V()] }]);
      if (i % 3 === 0) s.fork().free();
      eng.step([{ seq: s, tokens: [(i * 3) % V()] }]);
      s.free();
    }
    const cache = eng.createCache(2, 8);
    const ids = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
    for (let i = 0; i < 50; i++) {
      eng.forward(ids, { cache, logitsToKeep: 1, attentionMask: [[0, 1], [1, 1]] }).dispose();
      cache.truncate(0);
    }
    ids.dispose();
    cache.dispose();
    expect(eng.cacheStats().blocksInUse).toBe(0);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('10,000 decode steps (CausalLM forward over a cache, rewound as the context fills): no tensor, block or wasm-memory growth', () => {
    const tensors = tf.memory().numTensors;
    const bytes = eng.memoryBytes;
    const cache = eng.createCache(1, 32);
    let next = tf.tensor2d([[1]], [1, 1], 'int32');
    for (let i = 0; i < 10_000; i++) {
      if (cache.length === 32) cache.truncate(4);
      const logits = eng.forward(next, { cache, logitsToKeep: 1 }); // [1, 1, V]
      const id = tf.tidy(() => logits.argMax(-1));                 // [1, 1]
      logits.dispose();
      next.dispose();
      next = id.cast('int32');
      id.dispose();
    }
    next.dispose();
    cache.dispose();
    expect(eng.cacheStats().blocksInUse).toBe(0);
    expect(eng.memoryBytes).toBe(bytes);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('the default pool holds four full-length sequences even when blockSize is below one block', () => {
    const ref = randomModel({ ...CONFIGS.llama, blockSize: 7 });
    const small = compileForInference(ref); // blockTokens 16: 4 blocks (⌈4·7/16⌉ would be 2)
    try {
      expect(small.cacheStats().blocksTotal).toBe(4);
      const seqs = Array.from({ length: 4 }, () => small.newSequence());
      small.step(seqs.map((seq, i) => ({ seq, tokens: Array.from({ length: 7 }, (_, j) => (i + j) % 60) })));
      expect(small.cacheStats().blocksInUse).toBe(4);
      for (const seq of seqs) seq.free();
    } finally {
      small.dispose();
      ref.dispose();
    }
  });
});

describe('bad input → InferError with an actionable message', () => {
  let ref: TransformerLM;
  let eng: InferenceModel;
  beforeAll(() => {
    ref = randomModel(CONFIGS.gpt2);
    eng = compileForInference(ref, { maxTokens: 96 });
  });
  afterAll(() => {
    eng.dispose();
    ref.dispose();
  });

  it('ids out of range (forward and step)', async () => {
    const ids = tf.tensor2d([[1, 50]], [1, 2], 'int32');
    await expectInferError(() => eng.forward(ids), 'INVALID_ARGUMENT', /token id 50 at \[0, 1\] is outside the vocabulary \[0, 50\)/);
    ids.dispose();
    const s = eng.newSequence();
    await expectInferError(() => eng.step([{ seq: s, tokens: [-1] }]), 'INVALID_ARGUMENT', /token id -1 .*outside the vocabulary/);
    await expectInferError(() => eng.step([{ seq: s, tokens: [] }]), 'INVALID_ARGUMENT', /non-empty array/);
    expect(s.length).toBe(0);
    s.free();
    await expectInferError(() => eng.step([{ seq: s, tokens: [1] }]), 'INVALID_ARGUMENT', /was freed/);
  });

  it('too many tokens for the context', async () => {
    const s = eng.newSequence();
    await expectInferError(() => eng.step([{ seq: s, tokens: Array(49).fill(1) }]), 'CONTEXT_OVERFLOW', /reach 49 positions, but the model has 48/);
    const ids = tf.tensor2d([Array(49).fill(1)], [1, 49], 'int32');
    await expectInferError(() => eng.forward(ids), 'CONTEXT_OVERFLOW', /^forward: row 0 would hold 49 tokens, but the model has 48 positions \(blockSize/);
    const padded = tf.tensor2d([[0, ...Array(48).fill(1)], Array(49).fill(1)], [2, 49], 'int32');
    const mask = [[0, ...Array(48).fill(1)], Array(49).fill(1)]; // row 0 fits: its pad takes no position
    await expectInferError(() => eng.forward(padded, { attentionMask: mask }), 'CONTEXT_OVERFLOW', /^forward: row 1 would hold 49 tokens/);
    padded.dispose();
    ids.dispose();
    const cache = eng.createCache(1, 4);
    const five = tf.tensor2d([[1, 2, 3, 4, 5]], [1, 5], 'int32');
    await expectInferError(() => eng.forward(five, { cache }), 'CONTEXT_OVERFLOW', /createCache\(batch, maxLen\)/);
    five.dispose();
    cache.dispose();
    s.free();
    expect(eng.cacheStats().blocksInUse).toBe(0);
  });

  it('unsupported weights, fallback when blocks do not divide the width, replaced linears, disposed models', async () => {
    await expectInferError(() => compileForInference(ref, { weights: 'q3_k' as never }), 'UNSUPPORTED_FORMAT', /use one of f32, f16, q8_0/);
    const fb = compileForInference(ref, { weights: 'q4_k', maxTokens: 16 }); // widths 32 and 128: q4_k's blocks are 256
    expect(fb.fallbacks).toContain('transformer.h.0.attn.c_attn: q4_k → q8_0 (32 inputs, not a multiple of 256)');
    expect(fb.fallbacks.length).toBe(6 * ref.config.nLayer); // q, k, v (split c_attn), attn.c_proj, c_fc, mlp.c_proj per layer
    fb.dispose();
    const m = randomModel(CONFIGS.llama);
    const name = 'model.layers.0.self_attn.q_proj';
    const base = m.getModule(name);
    m.replaceModule(name, { inFeatures: base.inFeatures, outFeatures: base.outFeatures, apply: (x) => base.apply(x), namedParameters: () => [] });
    await expectInferError(() => compileForInference(m), 'UNSUPPORTED_MODEL', /not a plain Linear; merge adapters/);
    m.replaceModule(name, base);
    m.dispose();
    const e = compileForInference(ref, { maxTokens: 16 });
    e.dispose();
    await expectInferError(() => e.newSequence(), 'DISPOSED', /compile it again/);
    await expectInferError(() => compileForInference(ref, { blockTokens: 0 }), 'INVALID_ARGUMENT', /blockTokens must be an integer in \[1, 4096\], got 0/);
  });
});
