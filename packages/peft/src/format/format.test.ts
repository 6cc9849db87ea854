// HF PEFT's on-disk format: save → load round trips, adapter_config.json as PEFT writes it (byte for
// byte against the PyTorch fixtures' files), tensor names and shapes, and typed errors on bad input.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, readSafetensors, readSafetensorsHeader, tensorToRaw, writeSafetensors } from '@llm/tensor-gpu';
import { Linear, loadModel } from '@llm/transformer';
import { expectErrorAsync, maxAbsDiff } from '@llm/kit';
import { PeftError, adapterConfigText, getPeftModel, loadAdapter, saveAdapter, type PeftConfig, type PeftModel } from '../index.js';
import { pyFloat, pythonJson } from './python-json.js';
import { GPT2, LLAMA, ids, logitsOf, tinyModel } from '../testing/tiny.testing.js';

let dir: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  dir = await mkdtemp(join(tmpdir(), 'peft-format-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const expectPeftAsync = (p: Promise<unknown>, code: string, msg?: Array<string | RegExp> | string | RegExp) => expectErrorAsync(p, code, msg, PeftError);

function perturb(peft: PeftModel, seed: number): void {
  let i = 0;
  for (const [, v] of peft.tuner(peft.activeAdapter!).stateDict() as Array<[string, tf.Variable]>) tf.tidy(() => v.assign(v.add(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i++))));
}

describe('save → load round trip', () => {
  const cases: Array<[string, typeof GPT2, PeftConfig]> = [
    ['gpt2 LoRA', GPT2, { peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0.05 }],
    ['gpt2 LoRA bias=all + modules_to_save', { ...GPT2, tieWordEmbeddings: false }, { peftType: 'LORA', r: 2, bias: 'all', modulesToSave: ['lm_head'], useRslora: true }],
    ['llama DoRA', LLAMA, { peftType: 'LORA', r: 4, useDora: true, targetModules: ['q_proj', 'k_proj', 'down_proj'] }],
    ['gpt2 IA3', GPT2, { peftType: 'IA3' }],
    ['llama bottleneck', LLAMA, { peftType: 'BOTTLENECK_ADAPTER', bottleneckSize: 4, nonLinearity: 'gelu' }],
    ['gpt2 PiSSA (the residual base is recomputed on load, as PEFT)', GPT2, { peftType: 'LORA', r: 2, initLoraWeights: 'pissa' }],
  ];
  for (const [label, cfg, pc] of cases) {
    it(`${label}: identical logits on a fresh base`, async () => {
      const peft = getPeftModel(tinyModel(cfg), pc);
      perturb(peft, 3);
      const x = ids(9);
      const y = logitsOf(peft.forward(x));
      const out = join(dir, label.replace(/\W+/g, '-'));
      await peft.save(out);
      const meta = await readSafetensorsHeader(join(out, 'adapter_model.safetensors'));
      expect(meta.metadata).toEqual({ format: 'pt' });
      expect([...meta.tensors.keys()].sort()).toEqual(peft.tuner('default').stateDict().map(([n]) => n).sort());
      const loaded = await loadAdapter(tinyModel(cfg), out);
      expect(maxAbsDiff(logitsOf(loaded.forward(x)), y)).toBeLessThan(1e-5);
      expect(loaded.trainableParameters()).toHaveLength(0); // isTrainable defaults to false, as PEFT
      loaded.dispose();
      peft.dispose();
    });
  }
});

describe('adapter_config.json and tensor names as PEFT writes them', () => {
  it('gpt2 LoRA: sorted keys, 2-space indent, 0.0 floats, no trailing newline; names base_model.model.<module>.lora_A.weight [r, in] / lora_B [out, r]', async () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', r: 4, loraAlpha: 16 });
    const out = join(dir, 'gpt2-lora-fields');
    await saveAdapter(peft, out);
    const text = await readFile(join(out, 'adapter_config.json'), 'utf8');
    expect(text.startsWith('{\n  "alora_invocation_tokens": null,\n  "alpha_pattern": {},\n')).toBe(true);
    expect(text.endsWith('\n}')).toBe(true);
    expect(text).toContain('\n  "lora_dropout": 0.0,\n');
    expect(text).toContain('\n  "target_modules": [\n    "c_attn"\n  ],\n');
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(Object.keys(json).sort());
    expect(json).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 16, lora_dropout: 0, bias: 'none', fan_in_fan_out: true, use_rslora: false, use_dora: false, init_lora_weights: true, modules_to_save: null, inference_mode: true, base_model_name_or_path: null, revision: null, rank_pattern: {}, alpha_pattern: {}, layers_to_transform: null, layers_pattern: null, auto_mapping: null });
    const fixtureKeys = Object.keys(JSON.parse(await readFile(join(fixture('gpt2-lora'), 'adapter_config.json'), 'utf8')) as object).filter((k) => k !== 'peft_version');
    expect(Object.keys(json).sort()).toEqual(fixtureKeys.sort());
    const { tensors } = await readSafetensorsHeader(join(out, 'adapter_model.safetensors'));
    expect(Object.fromEntries([...tensors].map(([n, e]) => [n, [e.dtype, ...e.shape]]))).toEqual({
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': ['F32', 4, 16],
      'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight': ['F32', 48, 4],
      'base_model.model.transformer.h.1.attn.c_attn.lora_A.weight': ['F32', 4, 16],
      'base_model.model.transformer.h.1.attn.c_attn.lora_B.weight': ['F32', 48, 4],
    });
    peft.dispose();
  });

  it('DoRA saves lora_magnitude_vector [out] (no ".weight"); IA3 saves ia3_l [1, in] for feed-forward, [out, 1] otherwise', async () => {
    const d = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', r: 2, useDora: true });
    const names = d.tuner('default').stateDict().map(([n, v]) => `${n} [${v.shape}]`);
    expect(names).toContain('base_model.model.model.layers.0.self_attn.v_proj.lora_magnitude_vector [8]');
    d.dispose();
    const i = getPeftModel(tinyModel(GPT2), { peftType: 'IA3' });
    expect(i.tuner('default').stateDict().map(([n, v]) => `${n} [${v.shape}]`).slice(0, 2)).toEqual([
      'base_model.model.transformer.h.0.attn.c_attn.ia3_l [48,1]',
      'base_model.model.transformer.h.0.mlp.c_proj.ia3_l [1,64]',
    ]);
    expect(JSON.parse(adapterConfigText(i, 'default'))).toMatchObject({ peft_type: 'IA3', target_modules: ['c_attn', 'mlp.c_proj'], feedforward_modules: ['mlp.c_proj'], fan_in_fan_out: true, init_ia3_weights: true });
    i.dispose();
  });

  for (const name of ['gpt2-lora', 'gpt2-lora-rslora-bias', 'llama-lora', 'llama-dora', 'gpt2-ia3', 'llama-ia3']) {
    it(`${name}: a PEFT-written adapter_config.json is written back byte for byte (unknown fields such as peft_version kept)`, async () => {
      const model = await loadModel(fixture(name));
      const peft = await loadAdapter(model, fixture(name));
      expect(adapterConfigText(peft, 'default')).toBe(await readFile(join(fixture(name), 'adapter_config.json'), 'utf8'));
      peft.dispose();
    });
  }

  it('non-default adapters go to <dir>/<name>/; loadAdapter(peftModel, dir, { adapterName }) adds one', async () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', r: 2 });
    peft.addAdapter('other', { peftType: 'LORA', r: 3, targetModules: ['c_fc'] });
    peft.setAdapter('other');
    perturb(peft, 5);
    const x = ids(10);
    const y = logitsOf(peft.forward(x));
    const out = join(dir, 'multi');
    await peft.save(out);
    const top = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as { r: number };
    const sub = JSON.parse(await readFile(join(out, 'other', 'adapter_config.json'), 'utf8')) as { r: number };
    expect([top.r, sub.r]).toEqual([2, 3]);
    const fresh = await loadAdapter(tinyModel(GPT2), out);
    await loadAdapter(fresh, join(out, 'other'), { adapterName: 'other' });
    expect(fresh.adapterNames()).toEqual(['default', 'other']);
    fresh.setAdapter('other');
    expect(maxAbsDiff(logitsOf(fresh.forward(x)), y)).toBe(0);
    fresh.dispose();
    peft.dispose();
  });
});

describe('half-precision adapter files', () => {
  it('F16 / BF16 tensors (as PEFT often saves them) load as float32', async () => {
    const peft = getPeftModel(tinyModel(LLAMA), { peftType: 'LORA', r: 2 });
    perturb(peft, 7);
    const x = ids(15);
    const y = logitsOf(peft.forward(x));
    for (const dtype of ['F16', 'BF16'] as const) {
      const out = join(dir, `half-${dtype}`);
      await peft.save(out);
      const raw = new Map(peft.tuner('default').stateDict().map(([n, v]) => [n, tensorToRaw(v, dtype)]));
      await writeSafetensors(join(out, 'adapter_model.safetensors'), raw, { format: 'pt' });
      const loaded = await loadAdapter(tinyModel(LLAMA), out);
      expect(maxAbsDiff(logitsOf(loaded.forward(x)), y)).toBeLessThan(dtype === 'F16' ? 2e-3 : 2e-2);
      loaded.dispose();
    }
    peft.dispose();
  });
});

describe('bad adapter directories → typed errors', () => {
  let good: string;
  beforeAll(async () => {
    const peft = getPeftModel(tinyModel(GPT2), { peftType: 'LORA', r: 2 });
    good = join(dir, 'good');
    await peft.save(good);
    peft.dispose();
  });
  const copyWith = async (name: string, cfg?: (c: Record<string, unknown>) => void, tensors?: (t: Map<string, tf.Tensor>) => void) => {
    const out = join(dir, name);
    await mkdir(out, { recursive: true });
    const c = JSON.parse(await readFile(join(good, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    cfg?.(c);
    await writeFile(join(out, 'adapter_config.json'), JSON.stringify(c));
    const file = await readSafetensors(join(good, 'adapter_model.safetensors'));
    const t = new Map([...file.tensors].map(([n, raw]) => [n, tf.tensor(new Float32Array(raw.data.slice().buffer), raw.shape)]));
    tensors?.(t);
    await writeSafetensors(join(out, 'adapter_model.safetensors'), t, { format: 'pt' });
    tf.dispose([...t.values()]);
    return out;
  };
  const untouched = (m: ReturnType<typeof tinyModel>) => expect(m.linearNames().every((n) => m.getModule(n) instanceof Linear)).toBe(true);

  it('missing files → ADAPTER_NOT_FOUND with the path', async () => {
    const m = tinyModel(GPT2);
    await expectPeftAsync(loadAdapter(m, join(dir, 'nope')), 'ADAPTER_NOT_FOUND', join(dir, 'nope', 'adapter_config.json'));
    const half = join(dir, 'half');
    await mkdir(half, { recursive: true });
    await writeFile(join(half, 'adapter_config.json'), await readFile(join(good, 'adapter_config.json')));
    await expectPeftAsync(loadAdapter(m, half), 'ADAPTER_NOT_FOUND', 'adapter_model.safetensors');
    untouched(m);
    m.dispose();
  });

  it('unknown peft_type → UNSUPPORTED_PEFT_TYPE; bad JSON → ADAPTER_INVALID', async () => {
    const m = tinyModel(GPT2);
    await expectPeftAsync(loadAdapter(m, await copyWith('vera', (c) => (c.peft_type = 'VERA'))), 'UNSUPPORTED_PEFT_TYPE', '"VERA"');
    const broken = await copyWith('broken');
    await writeFile(join(broken, 'adapter_config.json'), '{"peft_type": "LORA",');
    await expectPeftAsync(loadAdapter(m, broken), 'ADAPTER_INVALID');
    untouched(m);
    m.dispose();
  });

  it('an adapter for another architecture → TARGET_NOT_FOUND; another size → SHAPE_MISMATCH naming the module and both shapes', async () => {
    const llama = tinyModel(LLAMA);
    await expectPeftAsync(loadAdapter(llama, good), 'TARGET_NOT_FOUND', /c_attn/);
    untouched(llama);
    llama.dispose();
    const wide = tinyModel({ ...GPT2, nEmbd: 32 });
    await expectPeftAsync(loadAdapter(wide, good), 'SHAPE_MISMATCH', ['transformer.h.0.attn.c_attn', '[2,16]', '[2,32]']);
    untouched(wide);
    wide.dispose();
  });

  it('a tensor for a module the model lacks → TARGET_NOT_FOUND; a missing tensor → ADAPTER_INVALID; a PeftModel keeps its adapters', async () => {
    const extra = await copyWith('extra', undefined, (t) => t.set('base_model.model.transformer.h.7.attn.c_attn.lora_A.weight', tf.zeros([2, 16])));
    const m = tinyModel(GPT2);
    await expectPeftAsync(loadAdapter(m, extra), 'TARGET_NOT_FOUND', 'transformer.h.7.attn.c_attn');
    untouched(m);
    const lacking = await copyWith('lacking', undefined, (t) => t.delete('base_model.model.transformer.h.1.attn.c_attn.lora_B.weight'));
    await expectPeftAsync(loadAdapter(m, lacking), 'ADAPTER_INVALID', 'lora_B');
    const peft = await loadAdapter(m, good);
    await expectPeftAsync(loadAdapter(peft, lacking, { adapterName: 'x' }), 'ADAPTER_INVALID');
    expect(peft.adapterNames()).toEqual(['default']);
    await expectPeftAsync(loadAdapter(peft, good), 'ADAPTER_EXISTS');
    peft.dispose();
  });
});

describe('python-style JSON', () => {
  it("matches json.dumps(indent=2, sort_keys=True): floats, ensure_ascii, nesting", () => {
    expect(pyFloat(0)).toBe('0.0');
    expect(pyFloat(0.05)).toBe('0.05');
    expect(pyFloat(1e-5)).toBe('1e-05');
    expect(pyFloat(16)).toBe('16.0');
    expect(pyFloat(1e16)).toBe('1e+16');
    expect(pythonJson({ b: [1, { z: 'é' }], a: {}, c: [] }, new Set())).toBe('{\n  "a": {},\n  "b": [\n    1,\n    {\n      "z": "\\u00e9"\n    }\n  ],\n  "c": []\n}');
  });
});
