// Quantized checkpoints: save → load is bit-exact; bad files get CHECKPOINT_INVALID.
import { mkdtemp, readFile, rm, writeFile, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, readSafetensors, writeSafetensors } from '@llm/tensor-gpu';
import { TransformerLM, type ModelConfigInput } from '@llm/transformer';
import { expectErrorAsync } from '@llm/kit';
import { QuantError } from '../errors.js';
import { QuantizedLinear } from '../modules/quantized-linear.js';
import { quantizeModel, type QuantizeOptions } from '../modules/quantize-model.js';
import { loadQuantizedModel, saveQuantizedModel } from './quantized-checkpoint.js';

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  root = await mkdtemp(join(tmpdir(), 'llm-quant-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const gpt2: ModelConfigInput = { family: 'gpt2', vocabSize: 40, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16, seed: 3 } as ModelConfigInput;
const llama: ModelConfigInput = { family: 'llama', vocabSize: 40, nLayer: 1, nHead: 4, nKvHead: 2, nEmbd: 32, intermediateSize: 48, blockSize: 16, seed: 4, tieWordEmbeddings: false } as ModelConfigInput;
const ids = () => tf.tensor2d(Int32Array.from([1, 5, 9, 3, 0, 39, 2, 7]), [2, 4], 'int32');

function disposeAll(m: TransformerLM): void {
  for (const n of m.linearNames()) {
    const q = m.getModule(n);
    if (q instanceof QuantizedLinear) q.dispose();
  }
  m.dispose();
}

const cases: Array<[string, ModelConfigInput, QuantizeOptions]> = [
  ['gpt2 nf4+dq', gpt2, { scheme: 'nf4' }],
  ['llama nf4 no dq', llama, { scheme: 'nf4', doubleQuant: false }],
  ['gpt2 int4 g32 asym', gpt2, { scheme: 'int4', groupSize: 32, symmetric: false }],
  ['llama int4 g64 sym', llama, { scheme: 'int4', groupSize: 64 }],
  ['gpt2 int8 (outliers)', gpt2, { scheme: 'int8', threshold: 0.05 }],
];

describe('save → load', () => {
  for (const [label, cfg, opts] of cases) {
    it(`${label}: packed state and logits bit-exact`, async () => {
      const m = new TransformerLM(cfg);
      quantizeModel(m, opts);
      const dir = join(root, label.replace(/\W+/g, '_'));
      await saveQuantizedModel(m, dir);
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      if (opts.scheme === 'nf4') {
        expect(config.quantization_config).toMatchObject({ quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: opts.doubleQuant ?? true, llm_int8_skip_modules: ['lm_head'] });
      } else {
        expect(config.quantization_config.quant_method).toBe(`llm-ts-${opts.scheme}`);
      }
      const l = await loadQuantizedModel(dir);
      for (const n of m.linearNames()) {
        const a = m.getModule(n);
        const b = l.getModule(n);
        expect(b.constructor).toBe(a.constructor);
        if (a instanceof QuantizedLinear) {
          const wa = a.weight as unknown as Record<string, unknown>;
          const wb = (b as QuantizedLinear).weight as unknown as Record<string, unknown>;
          for (const k of ['packed', 'absmax', 'scales', 'zeros', 'q', 'outlierCols', 'outliers', 'shape', 'groupSize', 'blockSize']) expect(wb[k]).toEqual(wa[k]);
          expect(JSON.stringify(wb.nested)).toEqual(JSON.stringify(wa.nested));
        }
      }
      if (opts.scheme === 'int8') expect((m.getModule(m.linearNames()[0]!) as QuantizedLinear & { weight: { outlierCols: Int32Array } }).weight.outlierCols.length).toBeGreaterThan(0);
      const x = ids();
      const [ya, yb] = [m.forward(x), l.forward(x)];
      expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
      tf.dispose([x, ya, yb]);
      disposeAll(m);
      disposeAll(l);
    });
  }
});

describe('save refuses', () => {
  it('a quantized lm_head tied to the float embedding', async () => {
    const m = new TransformerLM(gpt2);
    quantizeModel(m, { scheme: 'int8', skip: [] });
    await expectErrorAsync(() => saveQuantizedModel(m, join(root, 'tied')), 'UNSUPPORTED', /ties lm_head/, QuantError);
    const plain = new TransformerLM(llama);
    await expectErrorAsync(() => saveQuantizedModel(plain, join(root, 'plain')), 'INVALID_ARGUMENT', /no quantized linears/, QuantError);
    plain.dispose();
    disposeAll(m);
  });
});

describe('bad checkpoints', () => {
  let good: string;
  beforeAll(async () => {
    const m = new TransformerLM(gpt2);
    quantizeModel(m, { scheme: 'int4', groupSize: 32 });
    good = join(root, 'good');
    await saveQuantizedModel(m, good);
    disposeAll(m);
  });
  const copyTo = async (name: string, edit: (t: Map<string, { dtype: string; shape: number[]; data: Uint8Array }>, cfg: Record<string, any>) => void) => {
    const dir = join(root, name);
    const { tensors } = await readSafetensors(join(good, 'model.safetensors'));
    const t = new Map([...tensors].map(([k, v]) => [k, { ...v, data: Uint8Array.from(v.data) }]));
    const cfg = JSON.parse(await readFile(join(good, 'config.json'), 'utf8'));
    edit(t, cfg);
    await saveDir(dir, t, cfg);
    return dir;
  };
  const saveDir = async (dir: string, t: Map<string, any>, cfg: unknown) => {
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeSafetensors(join(dir, 'model.safetensors'), t);
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  };
  const P = 'transformer.h.0.attn.c_attn.weight.';
  it('refuses each with CHECKPOINT_INVALID naming the problem', async () => {
    const e = (dir: string, re: RegExp) => expectErrorAsync(() => loadQuantizedModel(dir), 'CHECKPOINT_INVALID', re, QuantError);
    await e(join(root, 'nope'), /config\.json does not exist/);
    await e(await copyTo('noq', (_, c) => delete c.quantization_config), /no llm-ts quantization_config/);
    await e(await copyTo('missing', (t) => t.delete(`${P}scales`)), /"transformer\.h\.0\.attn\.c_attn\.weight\.scales" is missing/);
    await e(await copyTo('dtype', (t) => (t.get(`${P}zeros`)!.dtype = 'I8')), /has dtype I8, expected U8/);
    await e(await copyTo('shape', (t) => { const z = t.get(`${P}int4`)!; z.shape = [z.shape[0]! - 2]; z.data = z.data.slice(2); }), /has shape \[\d+\], expected/);
    await e(await copyTo('zero16', (t) => (t.get(`${P}zeros`)!.data[0] = 16)), /zero point 16/);
    await e(await copyTo('nan', (t) => new DataView(t.get(`${P}scales`)!.data.buffer).setFloat32(0, NaN, true)), /non-finite/);
    await e(await copyTo('extra', (t) => t.set('junk', { dtype: 'F32', shape: [1], data: new Uint8Array(4) })), /does not use: junk/);
    await e(await copyTo('mods', (_, c) => c.quantization_config.llm_ts.modules.push('transformer.h.9.attn.c_attn')), /distinct linear names/);
    await e(await copyTo('gs', (_, c) => (c.quantization_config.group_size = 3)), /group_size 3/);
    const trunc = await copyTo('trunc', () => undefined);
    await truncate(join(trunc, 'model.safetensors'), 100);
    await e(trunc, /model\.safetensors/);
  });
});
