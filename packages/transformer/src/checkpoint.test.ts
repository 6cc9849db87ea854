// HF-compatible checkpoint directories: bit-exact round trips, HF names and layouts, and clear
// errors for every kind of bad checkpoint.
import { mkdtemp, readFile, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, readSafetensors, writeSafetensors, float32ToFloat16Bits, rawToFloat32, type RawTensor } from '@llm/tensor-gpu';
import { TransformerLM } from './model.js';
import { loadModel } from './checkpoint.js';
import { checkpointShapes } from './layout.js';
import type { ModelConfigInput } from './config.js';
import { expectError, fixtureDir, maxAbsDiff, randomIds, useWasm } from './testing/helpers.js';

let root: string;
beforeAll(async () => {
  await useWasm();
  root = await mkdtemp(join(tmpdir(), 'llm-ckpt-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);

const CONFIGS: Record<string, ModelConfigInput> = {
  'gpt2': { family: 'gpt2', vocabSize: 40, nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 12, bosTokenId: 1, eosTokenId: 2 },
  'gpt2-nobias-untied-erf': { family: 'gpt2', vocabSize: 40, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 12, bias: false, tieWordEmbeddings: false, activation: 'gelu', intermediateSize: 24, dropout: 0.1, seed: 7, scaleResidualInit: false },
  'gpt2-moe': { family: 'gpt2', vocabSize: 40, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 12, nExperts: 3, nExpertsPerTok: 2 },
  'llama': { family: 'llama', vocabSize: 40, nLayer: 2, nHead: 4, nKvHead: 2, nEmbd: 16, intermediateSize: 20, blockSize: 12, ropeTheta: 500000 },
  'llama-tied-bias': { family: 'llama', vocabSize: 40, nLayer: 1, nHead: 2, nEmbd: 16, intermediateSize: 20, blockSize: 12, tieWordEmbeddings: true, bias: true },
  'mixtral': { family: 'llama', vocabSize: 40, nLayer: 1, nHead: 4, nKvHead: 1, nEmbd: 16, intermediateSize: 12, blockSize: 12, nExperts: 4, routerAuxLossCoef: 0.02 },
};

describe('save → load', () => {
  for (const [name, cfg] of Object.entries(CONFIGS)) {
    it(`${name}: bit-exact weights, same config, same logits`, async () => {
      const a = new TransformerLM(cfg);
      // make every weight distinct from its init (norms and biases start as constants)
      for (const [, v] of a.namedParameters()) v.assign(v.add(tf.randomNormal(v.shape, 0, 0.05, 'float32', 3)));
      const dir = freshDir();
      await a.save(dir);
      const b = await loadModel(dir);
      expect(b.config).toEqual(a.config);
      const pa = a.namedParameters();
      const pb = new Map(b.namedParameters());
      expect([...pb.keys()]).toEqual(pa.map(([k]) => k));
      for (const [k, v] of pa) expect(Buffer.from(pb.get(k)!.dataSync().buffer).equals(Buffer.from(v.dataSync().buffer)), k).toBe(true);
      const ids = randomIds(2, 6, 40, 5);
      const la = a.forward(ids);
      const lb = b.forward(ids);
      expect(maxAbsDiff(la.dataSync(), lb.dataSync())).toBe(0);
      tf.dispose([ids, la, lb]);
      a.dispose();
      b.dispose();
    });
  }

  it('writes HF names and layouts (Conv1D [in, out] for GPT-2, [out, in] for Llama) and the HF config schema', async () => {
    const g = new TransformerLM(CONFIGS.gpt2!);
    const dg = freshDir();
    await g.save(dg);
    const { tensors } = await readSafetensors(join(dg, 'model.safetensors'));
    expect(tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).toEqual([16, 48]);
    expect(tensors.get('transformer.h.1.mlp.c_proj.weight')!.shape).toEqual([64, 16]);
    expect(tensors.has('lm_head.weight')).toBe(false); // tied
    const cfg = JSON.parse(await readFile(join(dg, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 16, n_layer: 2, n_head: 2, n_positions: 12, vocab_size: 40, activation_function: 'gelu_new', tie_word_embeddings: true });
    expect(JSON.parse(await readFile(join(dg, 'generation_config.json'), 'utf8'))).toMatchObject({ bos_token_id: 1, eos_token_id: 2 });

    const l = new TransformerLM(CONFIGS.llama!);
    const dl = freshDir();
    await l.save(dl);
    const lt = (await readSafetensors(join(dl, 'model.safetensors'))).tensors;
    expect(lt.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([8, 16]); // [K·D, C]
    expect(lt.get('model.layers.1.mlp.down_proj.weight')!.shape).toEqual([16, 20]);
    expect(lt.get('lm_head.weight')!.shape).toEqual([40, 16]);
    expect(JSON.parse(await readFile(join(dl, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', hidden_size: 16, intermediate_size: 20, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 500000, rms_norm_eps: 1e-6, tie_word_embeddings: false });

    const m = new TransformerLM(CONFIGS.mixtral!);
    const dm = freshDir();
    await m.save(dm);
    const mt = (await readSafetensors(join(dm, 'model.safetensors'))).tensors;
    expect(mt.get('model.layers.0.block_sparse_moe.gate.weight')!.shape).toEqual([4, 16]);
    expect(mt.get('model.layers.0.block_sparse_moe.experts.3.w2.weight')!.shape).toEqual([16, 12]);
    expect(JSON.parse(await readFile(join(dm, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'mixtral', num_local_experts: 4, num_experts_per_tok: 2, router_aux_loss_coef: 0.02 });
    [g, l, m].forEach((x) => x.dispose());
  });

  it('GPT-2 without biases saves zero biases (so HF GPT2LMHeadModel loads it) and loads back without them', async () => {
    const a = new TransformerLM(CONFIGS['gpt2-nobias-untied-erf']!);
    const dir = freshDir();
    await a.save(dir);
    const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
    const hfNames = checkpointShapes({ ...a.config, bias: true });
    expect(new Set(tensors.keys())).toEqual(new Set(hfNames.keys()));
    expect(rawToFloat32(tensors.get('transformer.h.0.attn.c_attn.bias')!).every((v) => v === 0)).toBe(true);
    const b = await loadModel(dir);
    expect(b.config.bias).toBe(false);
    expect(b.namedParameters().some(([k]) => k.endsWith('.bias'))).toBe(false);
    a.dispose();
    b.dispose();
  });

  it('reads F16 weights, base-model names without the "transformer." prefix, and ignores HF buffers', async () => {
    const src = (await readSafetensors(join(fixtureDir('gpt2-tied'), 'model.safetensors'))).tensors;
    const half = new Map<string, RawTensor>();
    for (const [k, t] of src) {
      const bits = float32ToFloat16Bits(rawToFloat32(t));
      half.set(k.replace(/^transformer\./, ''), { dtype: 'F16', shape: t.shape, data: new Uint8Array(bits.buffer) });
    }
    expect([...half.keys()].some((k) => k.endsWith('.attn.bias'))).toBe(true);
    const dir = freshDir();
    await cp(fixtureDir('gpt2-tied'), dir, { recursive: true });
    await writeSafetensors(join(dir, 'model.safetensors'), half);
    const a = await loadModel(fixtureDir('gpt2-tied'));
    const b = await loadModel(dir);
    const ids = randomIds(1, 8, 96, 9);
    const [la, lb] = [a.forward(ids), b.forward(ids)];
    expect(maxAbsDiff(la.dataSync(), lb.dataSync())).toBeLessThan(0.05); // f16 rounding of the weights
    expect(maxAbsDiff(la.dataSync(), lb.dataSync())).toBeGreaterThan(0);
    tf.dispose([ids, la, lb]);
    a.dispose();
    b.dispose();
  });
});

describe('generation_config.json', () => {
  /** A hand-written HF file: an eos list, sampling settings, HF bookkeeping, a field llm-ts does not read, a null setting. */
  const HF_FILE = {
    _from_model_config: false,
    bos_token_id: 1,
    do_sample: true,
    early_stopping: 'never',
    eos_token_id: [2, 7, 9],
    max_length: 30,
    max_new_tokens: 20,
    min_p: 0.05,
    no_repeat_ngram_size: 3,
    num_beams: 2,
    pad_token_id: 0,
    repetition_penalty: 1.1,
    stop_strings: ['\n\n'],
    suppress_tokens: null,
    temperature: 0.6,
    top_k: 50,
    top_p: 0.9,
    transformers_version: '4.45.2',
    typical_p: 1.0,
  };

  it('loads into a typed camelCase model.generationConfig and saves back the same file (unknown fields kept)', async () => {
    const dir = freshDir();
    await cp(fixtureDir('llama-gqa'), dir, { recursive: true });
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify(HF_FILE, null, 2));
    const m = await loadModel(dir);
    expect(m.generationConfig).toEqual({
      bosTokenId: 1, eosTokenId: [2, 7, 9], padTokenId: 0, maxNewTokens: 20, maxLength: 30, doSample: true, temperature: 0.6, topK: 50, topP: 0.9,
      minP: 0.05, typicalP: 1, repetitionPenalty: 1.1, noRepeatNgramSize: 3, numBeams: 2, earlyStopping: 'never',
      extra: { _from_model_config: false, stop_strings: ['\n\n'], suppress_tokens: null, transformers_version: '4.45.2' },
    });
    expect(m.config.eosTokenId).toBe(2); // config.json's stays as it is: the fallback when generation_config has no eos
    const out = freshDir();
    await m.save(out);
    const text = await readFile(join(out, 'generation_config.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(HF_FILE);
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(HF_FILE).sort()); // sorted keys, as HF writes them
    expect((await loadModel(out)).generationConfig).toEqual(m.generationConfig);
    m.dispose();
  });

  it('without the file: {} on load; save writes HF\'s from_model_config file from config.json\'s ids (eos lists whole)', async () => {
    const a = new TransformerLM({ ...CONFIGS.gpt2!, eosTokenId: [2, 5] });
    expect(a.generationConfig).toEqual({});
    const dir = freshDir();
    await a.save(dir);
    expect(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).eos_token_id).toEqual([2, 5]);
    expect(JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'))).toEqual({ _from_model_config: true, bos_token_id: 1, eos_token_id: [2, 5] });
    const b = await loadModel(dir);
    expect(b.config.eosTokenId).toEqual([2, 5]);
    expect(b.generationConfig).toEqual({ bosTokenId: 1, eosTokenId: [2, 5], extra: { _from_model_config: true } });
    const plain = await loadModel(fixtureDir('llama-gqa'));
    expect(plain.generationConfig).toEqual({});
    [a, b, plain].forEach((x) => x.dispose());
  });

  it('fields of the wrong type are refused, naming the field', async () => {
    const bad = async (extra: Record<string, unknown>) => {
      const dir = freshDir();
      await cp(fixtureDir('llama-gqa'), dir, { recursive: true });
      await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 2, ...extra }));
      return loadModel(dir);
    };
    await expectError(() => bad({ top_k: 'many' }), 'CONFIG_INVALID', /generation_config\.json: "top_k" must be an integer ≥ 0, got "many"/);
    await expectError(() => bad({ eos_token_id: [2, 500] }), 'CONFIG_INVALID', /"eos_token_id" must be a token id \(an integer in \[0, 96\)\), a non-empty list of them, or null, got \[2,500\]/);
    await expectError(() => bad({ do_sample: 'yes' }), 'CONFIG_INVALID', /"do_sample" must be true or false/);
    await expectError(() => bad({ early_stopping: 'sometimes' }), 'CONFIG_INVALID', /"early_stopping" must be true, false or "never"/);
  });

  it('config.json eos_token_id lists are kept whole (HF: any of them ends a sequence)', async () => {
    const dir = freshDir();
    await cp(fixtureDir('llama-gqa'), dir, { recursive: true });
    const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...c, eos_token_id: [2, 3] }));
    const m = await loadModel(dir);
    expect(m.config.eosTokenId).toEqual([2, 3]);
    m.dispose();
    await expectError(async () => loadModel(await (async () => {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ ...c, eos_token_id: [2, 96] }));
      return dir;
    })()), 'CONFIG_INVALID', /eosTokenId \(96\) must be < vocabSize \(96\)/);
  });
});

describe('bad checkpoints get errors that name the problem', () => {
  /** A copy of the llama-gqa fixture with config.json and/or tensors edited. */
  async function edited(editConfig?: (c: Record<string, unknown>) => void, editTensors?: (t: Map<string, RawTensor>) => void): Promise<string> {
    const dir = freshDir();
    await cp(fixtureDir('llama-gqa'), dir, { recursive: true });
    if (editConfig) {
      const c = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      editConfig(c);
      await writeFile(join(dir, 'config.json'), JSON.stringify(c));
    }
    if (editTensors) {
      const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
      editTensors(tensors);
      await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    }
    return dir;
  }

  it('unknown model_type', async () => {
    await expectError(async () => loadModel(await edited((c) => (c.model_type = 'bert'))), 'UNSUPPORTED_MODEL_TYPE', /model_type "bert" is not supported/);
  });
  it('features we do not implement are refused, not ignored', async () => {
    await expectError(async () => loadModel(await edited((c) => (c.rope_scaling = { type: 'linear', factor: 2 }))), 'UNSUPPORTED_MODEL_TYPE', /"rope_scaling"/);
    await expectError(async () => loadModel(await edited((c) => (c.hidden_act = 'gelu'))), 'UNSUPPORTED_MODEL_TYPE', /"hidden_act"/);
  });
  it('inconsistent or mistyped config fields', async () => {
    await expectError(async () => loadModel(await edited((c) => { c.num_key_value_heads = 3; })), 'CONFIG_INVALID', /nHead \(4\) must be a multiple of nKvHead \(3\)/);
    await expectError(async () => loadModel(await edited((c) => { c.hidden_size = '32'; })), 'CONFIG_INVALID', /"hidden_size" must be a positive integer/);
    await expectError(async () => loadModel(await edited((c) => { delete c.vocab_size; })), 'CONFIG_INVALID', /"vocab_size"/);
  });
  it('a missing tensor is named', async () => {
    await expectError(async () => loadModel(await edited(undefined, (t) => t.delete('model.layers.1.mlp.up_proj.weight'))), 'CHECKPOINT_MISSING_TENSOR', /"model\.layers\.1\.mlp\.up_proj\.weight"/);
  });
  it('a mis-shaped tensor is named with both shapes', async () => {
    await expectError(async () => loadModel(await edited((c) => (c.intermediate_size = 64))), 'CHECKPOINT_SHAPE_MISMATCH', /"model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[56,32\], but config\.json implies \[64,32\]/);
  });
  it('an unexpected tensor is named', async () => {
    await expectError(async () => loadModel(await edited(undefined, (t) => t.set('score.weight', { dtype: 'F32', shape: [2, 32], data: new Uint8Array(256) }))), 'CHECKPOINT_UNEXPECTED_TENSOR', /"score\.weight".*loadSequenceClassifier/);
  });
  it('integer weights are refused', async () => {
    await expectError(async () => loadModel(await edited(undefined, (t) => t.set('model.norm.weight', { dtype: 'I32', shape: [32], data: new Uint8Array(128) }))), 'CHECKPOINT_INVALID', /"model\.norm\.weight" has dtype I32/);
  });
  it('missing directory, missing files, bad JSON, corrupt safetensors', async () => {
    await expectError(() => loadModel(join(root, 'nope')), 'CHECKPOINT_INVALID', /not a checkpoint directory/);
    const d1 = await edited();
    await writeFile(join(d1, 'config.json'), '{"model_type": "llama",');
    await expectError(() => loadModel(d1), 'CHECKPOINT_INVALID', /config\.json is not valid JSON/);
    const d2 = await edited();
    await rm(join(d2, 'model.safetensors'));
    await expectError(() => loadModel(d2), 'CHECKPOINT_INVALID', /has no model\.safetensors/);
    const d3 = await edited();
    const bytes = await readFile(join(d3, 'model.safetensors'));
    await writeFile(join(d3, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expectError(() => loadModel(d3), 'CHECKPOINT_INVALID', /model\.safetensors/);
  });
  it('a failed save (module replaced by a wrapper) leaves the previous files intact', async () => {
    const m = new TransformerLM(CONFIGS.llama!);
    const dir = freshDir();
    await m.save(dir);
    const before = await readFile(join(dir, 'model.safetensors'));
    const base = m.getModule('model.layers.0.self_attn.q_proj');
    m.replaceModule('model.layers.0.self_attn.q_proj', { inFeatures: base.inFeatures, outFeatures: base.outFeatures, apply: (x) => base.apply(x), namedParameters: () => base.namedParameters().map(([k, v]) => [`base_layer.${k}`, v]) });
    await expectError(() => m.save(dir), 'INVALID_ARGUMENT', /no plain weight "model\.layers\.0\.self_attn\.q_proj\.weight"/);
    expect((await readFile(join(dir, 'model.safetensors'))).equals(before)).toBe(true);
    m.dispose();
  });
});
