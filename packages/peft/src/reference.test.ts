// Adapted logits against fixtures from an independent PyTorch implementation of HF PEFT's formulas
// (fixtures/make_peft_fixtures.py; LoRA α/r and rsLoRA α/√r scaling, GPT-2 Conv1D fan_in_fan_out, DoRA's
// column norms and magnitude, IA3 input/output scaling, bias="all" biases saved in the adapter file).
// Each fixture directory holds config.json + model.safetensors (the base model, HF layout) and
// adapter_config.json + adapter_model.safetensors (HF PEFT's on-disk format), plus expected.safetensors.
// Prompt tuning and prefix tuning (PROMPT_CASES) are computed the way PeftModelForCausalLM.forward runs them
// (virtual tokens through inputs_embeds / per-layer past keys and values, the mask prefixed with ones); they
// cannot be merged, so mergeAndUnload must refuse them.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, maxAbsDiff } from '@llm/kit';
import { tf, initBackend, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { loadModel } from '@llm/transformer';
import { PeftError, loadAdapter } from './index.js';

const MERGEABLE = ['gpt2-lora', 'gpt2-lora-rslora-bias', 'llama-lora', 'llama-dora', 'gpt2-ia3', 'llama-ia3'];
const PROMPT_CASES = ['gpt2-prompt', 'llama-prompt', 'gpt2-prefix', 'llama-prefix'];
const CASES = [...MERGEABLE, ...PROMPT_CASES];
const TOL = 1e-4;

const fixtureDir = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** fixtures/<name>/expected.safetensors as tensors (int32 ids and mask, float32 logits). */
async function readExpected(name: string): Promise<Map<string, tf.Tensor>> {
  const { tensors } = await readSafetensors(`${fixtureDir(name)}/expected.safetensors`);
  return new Map([...tensors].map(([k, raw]) => [k, rawToTensor(raw)]));
}

/** Values of x [B, T, F] at positions where mask [B, T] is 1, flattened (pad query rows are meaningless). */
function realRows(x: tf.Tensor, mask: tf.Tensor): Float32Array {
  const [B, T, F] = x.shape as [number, number, number];
  const v = x.dataSync();
  const m = mask.dataSync();
  const out: number[] = [];
  for (let i = 0; i < B * T; i++) if (m[i]) for (let f = 0; f < F; f++) out.push(v[i * F + f]!);
  return Float32Array.from(out);
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

for (const name of CASES) {
  describe(`${name} vs PyTorch (PEFT formulas)`, () => {
    let exp: Map<string, tf.Tensor>;
    beforeAll(async () => {
      exp = await readExpected(name);
    });
    afterAll(() => {
      tf.dispose([...exp.values()]);
    });

    it('the base model alone gives the fixture base logits, and the adapter changes them', async () => {
      const model = await loadModel(fixtureDir(name));
      const mask = exp.get('attention_mask')!;
      const logits = model.forward(exp.get('input_ids')!, { attentionMask: mask });
      const base = realRows(exp.get('base_logits')!, mask);
      expect(maxAbsDiff(realRows(logits, mask), base)).toBeLessThan(TOL);
      // the fixture is not trivial: the adapted logits are far from the base ones
      expect(maxAbsDiff(realRows(exp.get('logits')!, mask), base)).toBeGreaterThan(0.1);
      logits.dispose();
      model.dispose();
    });

    it(`adapted logits of a left-padded batch and of the unpadded sequence match to ${TOL}`, async () => {
      const model = await loadModel(fixtureDir(name));
      const peft = await loadAdapter(model, fixtureDir(name));
      const mask = exp.get('attention_mask')!;
      const logits = peft.forward(exp.get('input_ids')!, { attentionMask: mask });
      expect(logits.shape).toEqual(exp.get('logits')!.shape);
      expect(maxAbsDiff(realRows(logits, mask), realRows(exp.get('logits')!, mask))).toBeLessThan(TOL);
      const single = peft.forward(exp.get('single_ids')!);
      expect(maxAbsDiff(single.dataSync(), exp.get('single_logits')!.dataSync())).toBeLessThan(TOL);
      tf.dispose([logits, single]);
      model.dispose();
    });

    if (PROMPT_CASES.includes(name)) {
      it('mergeAndUnload refuses a prompt-learning adapter (UNSUPPORTED)', async () => {
        const model = await loadModel(fixtureDir(name));
        const peft = await loadAdapter(model, fixtureDir(name));
        expectError(() => peft.mergeAndUnload(), 'UNSUPPORTED', undefined, PeftError);
        peft.dispose();
      });
      return;
    }

    it(`mergeAndUnload gives the same logits to ${TOL}`, async () => {
      const model = await loadModel(fixtureDir(name));
      const merged = (await loadAdapter(model, fixtureDir(name))).mergeAndUnload();
      const mask = exp.get('attention_mask')!;
      const logits = merged.forward(exp.get('input_ids')!, { attentionMask: mask });
      expect(maxAbsDiff(realRows(logits, mask), realRows(exp.get('logits')!, mask))).toBeLessThan(TOL);
      logits.dispose();
      merged.dispose();
    });
  });
}
