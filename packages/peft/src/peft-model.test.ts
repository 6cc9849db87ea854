// PeftModel on tiny GPT-2 and Llama (GQA) TransformerLMs: identity at init, merge / unmerge /
// mergeAndUnload, several adapters, what is trainable, that training moves only adapters, no leaks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend } from '@llm/tensor-gpu';
import { Linear, loadModel } from '@llm/transformer';
import { expectError, maxAbsDiff } from '@llm/kit';
import { PeftError, PeftModel, getPeftModel, trainableParameters, LoraLinear, isAdapterLayer, type PeftConfig, type ResolvedLoraConfig } from './index.js';
import { FAMILIES, GPT2, LLAMA, ids, lmLoss, logitsOf, tinyModel } from './testing/tiny.testing.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  dir = await mkdtemp(join(tmpdir(), 'peft-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const expectPeft = (fn: () => unknown, code: string, msg?: string | RegExp) => expectError(fn, code, msg, PeftError);

const METHODS: Array<[string, PeftConfig]> = [
  ['LoRA', { peftType: 'LORA', r: 4, loraAlpha: 8 }],
  ['DoRA', { peftType: 'LORA', r: 4, loraAlpha: 8, useDora: true, targetModules: 'all-linear' }],
  ['IA3', { peftType: 'IA3' }],
  ['bottleneck', { peftType: 'BOTTLENECK_ADAPTER', bottleneckSize: 4 }],
];

/** Make a LoRA / DoRA / IA3 adapter non-trivial (B, magnitudes, vectors randomized). */
function perturb(peft: PeftModel, seed = 1): void {
  let i = 0;
  for (const [, v] of peft.tuner(peft.activeAdapter!).stateDict() as Array<[string, tf.Variable]>) {
    tf.tidy(() => v.assign(v.add(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i++))));
  }
}

describe('at init the adapted model computes the base model', () => {
  for (const [fam, cfg] of FAMILIES) for (const [method, pc] of METHODS) {
    it(`${method} on ${fam}`, () => {
      const model = tinyModel(cfg);
      const x = ids(1);
      const base = logitsOf(model.forward(x));
      const peft = getPeftModel(model, pc);
      expect(maxAbsDiff(logitsOf(peft.forward(x)), base)).toBeLessThan(1e-5);
      expect(model.linearNames().some((n) => isAdapterLayer(model.getModule(n)))).toBe(true);
      peft.dispose();
    });
  }
});

describe('merge, unmerge, mergeAndUnload', () => {
  for (const [fam, cfg] of FAMILIES) for (const [method, pc] of METHODS.slice(0, 3)) {
    it(`${method} on ${fam}: merged == unmerged (1e-5), unmerge restores W (1e-6), mergeAndUnload is a plain saveable model with the same logits`, async () => {
      const model = tinyModel(cfg);
      const before = new Map(model.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)]));
      const peft = getPeftModel(model, pc);
      perturb(peft);
      const x = ids(2);
      const y = logitsOf(peft.forward(x));
      expect(maxAbsDiff(y, logitsOf(peft.withAdaptersDisabled(() => peft.forward(x))))).toBeGreaterThan(1e-3);
      peft.merge();
      expect(peft.merged).toBe('default');
      expect(maxAbsDiff(logitsOf(peft.forward(x)), y)).toBeLessThan(1e-5);
      peft.unmerge();
      for (const [n, v] of model.namedParameters()) {
        const key = n.replace('.base_layer.', '.');
        if (before.has(key)) expect(maxAbsDiff(v.dataSync(), before.get(key)!), n).toBeLessThan(1e-6);
      }
      const plain = peft.mergeAndUnload();
      expect(plain).toBe(model);
      expect(plain.linearNames().every((n) => plain.getModule(n) instanceof Linear)).toBe(true);
      expect(maxAbsDiff(logitsOf(plain.forward(x)), y)).toBeLessThan(1e-5);
      const out = join(dir, `merged-${fam}-${method}`);
      await plain.save(out);
      const again = await loadModel(out);
      expect(maxAbsDiff(logitsOf(again.forward(x)), y)).toBeLessThan(1e-5);
      expectPeft(() => peft.forward(x), 'UNSUPPORTED', /unloaded/);
      again.dispose();
      plain.dispose();
    });
  }

  it('bottleneck adapters cannot merge: PeftError UNSUPPORTED, model untouched', () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'BOTTLENECK_ADAPTER' });
    expectPeft(() => peft.merge(), 'UNSUPPORTED', /cannot be merged/);
    expectPeft(() => peft.mergeAndUnload(), 'UNSUPPORTED', /bottleneck/);
    const x = ids(3);
    expect(peft.forward(x).shape).toEqual([2, 6, 40]);
    peft.dispose();
  });
});

describe('several adapters', () => {
  it('setAdapter switches, only the active adapter trains, disable/withAdaptersDisabled give the base, deleteAdapter restores modules', async () => {
    const model = tinyModel(LLAMA);
    const x = ids(4);
    const base = logitsOf(model.forward(x));
    const peft = getPeftModel(model, { peftType: 'LORA', r: 2, targetModules: ['q_proj', 'v_proj'] });
    perturb(peft, 10);
    peft.addAdapter('second', { peftType: 'LORA', r: 3, targetModules: ['k_proj', 'o_proj'] });
    expect(peft.activeAdapter).toBe('default');
    const yA = logitsOf(peft.forward(x));
    peft.setAdapter('second');
    perturb(peft, 20);
    const yB = logitsOf(peft.forward(x));
    expect(maxAbsDiff(yA, yB)).toBeGreaterThan(1e-3);
    expect(peft.trainableParameters().map(([n]) => n).every((n) => n.includes('.second.'))).toBe(true);
    expect(peft.trainableParameters()).toHaveLength(2 * 2 * 2);
    peft.setAdapter('default');
    expect(maxAbsDiff(logitsOf(peft.forward(x)), yA)).toBeLessThan(1e-6);
    expect(maxAbsDiff(logitsOf(peft.withAdaptersDisabled(() => peft.forward(x))), base)).toBeLessThan(1e-6);
    expect(peft.adaptersEnabled).toBe(true);
    expect(await peft.withAdaptersDisabled(async () => logitsOf(peft.forward(x)))).toHaveLength(base.length);
    expect(peft.adaptersEnabled).toBe(true);
    peft.disableAdapters();
    expect(maxAbsDiff(logitsOf(peft.forward(x)), base)).toBeLessThan(1e-6);
    peft.enableAdapters();
    expect(maxAbsDiff(logitsOf(peft.forward(x)), yA)).toBeLessThan(1e-6);
    expectPeft(() => peft.addAdapter('second', { peftType: 'LORA' }), 'ADAPTER_EXISTS');
    expectPeft(() => peft.addAdapter('ia3', { peftType: 'IA3' }), 'UNSUPPORTED', /different peft types/);
    expectPeft(() => peft.setAdapter('nope'), 'ADAPTER_NOT_FOUND', '"nope"');
    peft.deleteAdapter('second');
    expect(model.getModule('model.layers.0.self_attn.k_proj')).toBeInstanceOf(Linear);
    expect(model.getModule('model.layers.0.self_attn.q_proj')).toBeInstanceOf(LoraLinear);
    peft.deleteAdapter('default');
    expect(model.linearNames().every((n) => model.getModule(n) instanceof Linear)).toBe(true);
    expect(maxAbsDiff(logitsOf(peft.forward(x)), base)).toBeLessThan(1e-6);
    peft.dispose();
  });
});

describe('trainable weights', () => {
  it('only adapter weights (plus modules_to_save copies and bias-mode biases) are trainable; PEFT names', () => {
    const model = tinyModel(GPT2);
    const peft = getPeftModel(model, { peftType: 'LORA', r: 4 });
    expect(peft.trainableParameters().map(([n]) => n)).toEqual([
      'transformer.h.0.attn.c_attn.lora_A.default.weight', 'transformer.h.0.attn.c_attn.lora_B.default.weight',
      'transformer.h.1.attn.c_attn.lora_A.default.weight', 'transformer.h.1.attn.c_attn.lora_B.default.weight',
    ]);
    const c = trainableParameters(peft);
    expect(c.trainable).toBe(2 * (4 * 16 + 48 * 4));
    expect(c.line).toBe(`trainable params: ${c.trainable.toLocaleString('en-US')} || all params: ${c.all.toLocaleString('en-US')} || trainable%: ${((100 * c.trainable) / c.all).toFixed(4)}`);
    peft.dispose();

    const m2 = tinyModel({ ...GPT2, tieWordEmbeddings: false });
    const p2 = getPeftModel(m2, { peftType: 'LORA', r: 2, bias: 'lora_only', modulesToSave: ['lm_head'] });
    const names = p2.trainableParameters().map(([n]) => n);
    expect(names).toContain('transformer.h.0.attn.c_attn.base_layer.bias');
    expect(names).toContain('lm_head.modules_to_save.default.weight');
    expect(names.filter((n) => n.endsWith('.bias'))).toHaveLength(2);
    p2.dispose();

    const m3 = tinyModel(GPT2);
    const p3 = getPeftModel(m3, { peftType: 'LORA', r: 2, bias: 'all' });
    const biases = p3.trainableParameters().map(([n]) => n).filter((n) => n.endsWith('.bias'));
    expect(biases).toContain('transformer.h.0.ln_1.bias');
    expect(biases).toContain('transformer.h.0.mlp.c_fc.bias');
    expect(biases).toContain('transformer.h.0.attn.c_attn.base_layer.bias');
    p3.dispose();
  });

  it('a few SGD / AdamW steps on the LoRA weights lower the loss; base weights stay bit-for-bit; no tensor leaks', () => {
    for (const [, cfg] of FAMILIES) {
      const model = tinyModel({ ...cfg, dropout: 0.1 });
      const frozen = model.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)] as const);
      const peft = getPeftModel(model, { peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0.1, targetModules: 'all-linear' });
      const x = ids(5, 4, 8);
      const l0 = lmLoss(peft, x).dataSync()[0]!;
      const vars = peft.trainableParameters().map(([, v]) => v);
      const opt = tf.train.adam(1e-2);
      const n0 = tf.memory().numTensors;
      for (let s = 0; s < 15; s++) {
        const { value, grads } = tf.variableGrads(() => lmLoss(peft, x, true), vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose([value, ...Object.values(grads)]);
        if (s === 1) expect(tf.memory().numTensors).toBeLessThanOrEqual(n0 + 2 * vars.length + 2); // optimizer slots only
      }
      const nAfter = tf.memory().numTensors;
      for (let s = 0; s < 3; s++) {
        const { value, grads } = tf.variableGrads(() => lmLoss(peft, x, true), vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        tf.dispose([value, ...Object.values(grads)]);
      }
      expect(tf.memory().numTensors).toBe(nAfter);
      const l1 = lmLoss(peft, x).dataSync()[0]!;
      expect(l1).toBeLessThan(l0 - 0.05);
      const now = new Map(model.namedParameters().map(([n, v]) => [n.replace('.base_layer.', '.'), v] as const));
      for (const [n, d] of frozen) expect(Array.from(now.get(n)!.dataSync())).toEqual(Array.from(d));
      // forward loop: no leaks
      const n1 = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) tf.dispose(peft.forward(x, { training: i % 2 === 0 }));
      expect(tf.memory().numTensors).toBe(n1);
      opt.dispose();
      peft.dispose();
    }
  });

  it('adapter dropout is seeded by the base dropout state: same state, same training logits', () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', r: 4, loraDropout: 0.5 });
    perturb(peft, 30);
    const x = ids(6);
    const s = peft.getDropoutState();
    const a = logitsOf(peft.forward(x, { training: true }));
    const b = logitsOf(peft.forward(x, { training: true }));
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    peft.setDropoutState(s);
    expect(maxAbsDiff(logitsOf(peft.forward(x, { training: true })), a)).toBe(0);
    peft.dispose();
  });

  it('modules_to_save: the copy trains and runs; disabled adapters use the original; a tied head cannot be unloaded', () => {
    const model = tinyModel({ ...LLAMA });
    const x = ids(7);
    const base = logitsOf(model.forward(x));
    const peft = getPeftModel(model, { peftType: 'LORA', r: 2, modulesToSave: ['lm_head'] });
    tf.tidy(() => {
      const w = peft.trainableParameters().find(([n]) => n === 'lm_head.modules_to_save.default.weight')![1];
      w.assign(w.mul(2));
    });
    expect(maxAbsDiff(logitsOf(peft.forward(x)), base.map((v) => 2 * v))).toBeLessThan(1e-5);
    expect(maxAbsDiff(logitsOf(peft.withAdaptersDisabled(() => peft.forward(x))), base)).toBeLessThan(1e-6);
    const plain = peft.mergeAndUnload();
    expect(maxAbsDiff(logitsOf(plain.forward(x)), base.map((v) => 2 * v))).toBeLessThan(1e-5);
    plain.dispose();
    const tied = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', r: 2, modulesToSave: ['lm_head'] });
    expectPeft(() => tied.mergeAndUnload(), 'UNSUPPORTED', /tied/);
    tied.dispose();
  });

  it('CausalLM surface: config, generationConfig, createCache; prefill + decode == one forward', () => {
    const peft = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', r: 2 });
    perturb(peft, 40);
    expect(peft.config.family).toBe('llama');
    expect(peft.generationConfig).toEqual({});
    const x = ids(8, 1, 6);
    const full = logitsOf(peft.forward(x));
    const cache = peft.createCache(1, 8);
    const a = logitsOf(peft.forward(x.slice([0, 0], [1, 5]), { cache }));
    const b = logitsOf(peft.forward(x.slice([0, 5], [1, 1]), { cache }));
    expect(maxAbsDiff([...a, ...b], full)).toBeLessThan(1e-5);
    peft.dispose();
  });
});

describe('targets', () => {
  it('PEFT defaults per family; all-linear skips lm_head; a regex full-matches; nothing matched → TARGET_NOT_FOUND listing names', () => {
    const g = getPeftModel(tinyModel(GPT2), { peftType: 'LORA' });
    expect((g.peftConfig.default as ResolvedLoraConfig).targetModules).toEqual(['c_attn']);
    expect(g.peftConfig.default).toMatchObject({ fanInFanOut: true });
    g.dispose();
    const l = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', targetModules: 'all-linear' });
    const wrapped = l.base.linearNames().filter((n) => l.base.getModule(n) instanceof LoraLinear);
    expect(wrapped).toHaveLength(2 * 7);
    expect(wrapped).not.toContain('lm_head');
    expect(l.peftConfig.default).toMatchObject({ fanInFanOut: false });
    l.dispose();
    const r = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', targetModules: String.raw`model\.layers\.1\..*proj` });
    expect(r.base.linearNames().filter((n) => r.base.getModule(n) instanceof LoraLinear)).toHaveLength(7);
    r.dispose();
    const t = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', targetModules: ['q_proj'], layersToTransform: [1] });
    expect(t.base.linearNames().filter((n) => t.base.getModule(n) instanceof LoraLinear)).toEqual(['model.layers.1.self_attn.q_proj']);
    t.dispose();
    const m = tinyModel(GPT2);
    expectPeft(() => getPeftModel(m, { peftType: 'LORA', targetModules: ['q_proj'] }), 'TARGET_NOT_FOUND', ['transformer.h.0.attn.c_attn', '"q_proj"'] as never);
    expectPeft(() => getPeftModel(m, { peftType: 'LORA', targetModules: 'attn' }), 'TARGET_NOT_FOUND');
    expectPeft(() => getPeftModel(m, { peftType: 'LORA', modulesToSave: ['score'] }), 'TARGET_NOT_FOUND', /score/);
    expect(m.linearNames().every((n) => m.getModule(n) instanceof Linear)).toBe(true);
    m.dispose();
  });
});

describe('PiSSA init (stretch)', () => {
  it('A, B are the top-r singular factors, the base keeps the residual: logits unchanged at init, mergeAndUnload gives back W', () => {
    for (const [, cfg] of FAMILIES) {
      const model = tinyModel(cfg);
      const x = ids(12);
      const base = logitsOf(model.forward(x));
      const w0 = new Map(model.namedParameters().map(([n, v]) => [n, Float32Array.from(v.dataSync() as Float32Array)]));
      const peft = getPeftModel(model, { peftType: 'LORA', r: 2, loraAlpha: 4, initLoraWeights: 'pissa', targetModules: 'all-linear' });
      expect(maxAbsDiff(logitsOf(peft.forward(x)), base)).toBeLessThan(1e-4);
      const l = model.getModule(model.linearNames()[0]!) as LoraLinear;
      const a = l.adapters.get('default')!;
      // s·BA is the best rank-2 approximation: the residual has no component along A's rows
      const res = tf.tidy(() => {
        const w = (l.base as Linear).layout === 'in_out' ? (l.base as Linear).weight.transpose() : (l.base as Linear).weight; // [O, C]
        return tf.matMul(w, a.A, false, true).abs().max().dataSync()[0]!;
      });
      expect(res).toBeLessThan(1e-4);
      const plain = peft.mergeAndUnload();
      for (const [n, v] of plain.namedParameters()) expect(maxAbsDiff(v.dataSync(), w0.get(n)!), n).toBeLessThan(1e-5);
      plain.dispose();
    }
  });
});

describe('the Tuner hook for prompt learning', () => {
  it('runOptions apply when a sequence starts (no cache or an empty one); createCache adds virtualTokens', () => {
    const peft = new PeftModel(tinyModel(GPT2));
    let calls = 0;
    peft.addTuner('p', () => ({
      peftType: 'PROMPT_TUNING',
      adapterName: 'p',
      config: { peftType: 'LORA' } as never,
      virtualTokens: 3,
      stateDict: () => [],
      loadStateDict: () => undefined,
      setEnabled: () => undefined,
      runOptions: (batch: number) => {
        calls++;
        expect(batch).toBe(2);
        return { logitsToKeep: 1 };
      },
      dispose: () => undefined,
    }));
    const x = ids(13);
    expect(peft.forward(x).shape).toEqual([2, 1, 40]);
    const cache = peft.createCache(2, 8);
    expect(cache.maxLen).toBe(11);
    expect(peft.forward(x, { cache }).shape).toEqual([2, 1, 40]);
    expect(peft.forward(x.slice([0, 0], [2, 1]), { cache }).shape).toEqual([2, 1, 40]);
    expect(calls).toBe(2);
    expect(peft.withAdaptersDisabled(() => peft.forward(x)).shape).toEqual([2, 6, 40]);
    expect(calls).toBe(2);
    expectPeft(() => peft.merge(), 'UNSUPPORTED', /cannot be merged/);
    peft.dispose();
  });
});

describe('no tensor leaks in adapter management', () => {
  it('add / merge / unmerge / switch / delete cycles leave tf.memory().numTensors where it was', () => {
    for (const [, cfg] of FAMILIES) for (const pc of [METHODS[0]![1], METHODS[1]![1], METHODS[2]![1]]) {
      const model = tinyModel(cfg);
      const x = ids(14);
      tf.dispose(model.forward(x)); // model state made on first use (RoPE tables) is not a leak
      const n0 = tf.memory().numTensors;
      const peft = getPeftModel(model, pc);
      for (let i = 0; i < 2; i++) {
        peft.addAdapter('b', pc);
        peft.setAdapter('b');
        peft.merge();
        tf.dispose(peft.forward(x));
        peft.unmerge();
        peft.setAdapter('default');
        peft.deleteAdapter('b');
      }
      peft.deleteAdapter('default');
      expect(tf.memory().numTensors).toBe(n0);
      peft.dispose();
    }
  });
  it('inferenceMode: true makes the adapter frozen (PEFT)', () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', inferenceMode: true });
    expect(peft.trainableParameters()).toHaveLength(0);
    peft.dispose();
  });
});
