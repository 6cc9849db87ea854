/**
 * GPTQ checkpoints in the layout HF transformers (GPTQConfig, checkpoint_format "gptq") and vLLM
 * load: config.json (the model's HF config + `quantization_config`) and model.safetensors with,
 * per quantized linear, `qweight` I32 [in/8, out], `qzeros` I32 [G, out/8], `scales` F16 [G, out],
 * `g_idx` I32 [in] and `bias` F32 when it has one; every other tensor as saveModel writes it (F32).
 *
 *   gptqQuantizeModel(model, opts);
 *   await saveGptqCheckpoint(model, 'out/gptq', report.config);
 *   const back = await loadGptqCheckpoint('out/gptq');   // GptqLinear modules, same outputs
 */
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, readSafetensors, writeSafetensors, writeFileAtomic, parseUntrustedJson, rawToFloat32, type RawTensor, type TensorInput } from '@llm/tensor-gpu';
import { TransformerLM, checkpointShapes, fromHfConfig, toHfConfig } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { copyCheckpointExtras, type SaveQuantizedOptions } from '../checkpoint/quantized-checkpoint.js';
import { GptqLinear } from './module.js';
import type { GptqQuantizationConfig } from './model.js';
import type { PackedGptq } from './pack.js';

const raw = (dtype: RawTensor['dtype'], shape: number[], a: ArrayBufferView): RawTensor => ({ dtype, shape, data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength) });

/** Write config.json and model.safetensors of a model whose linears are (partly) GptqLinear. */
export async function saveGptqCheckpoint(model: TransformerLM, dir: string, quantizationConfig: GptqQuantizationConfig, opts: SaveQuantizedOptions = {}): Promise<void> {
  const tensors = new Map<string, TensorInput>();
  const quantized = new Set<string>();
  for (const name of model.linearNames()) {
    const m = model.getModule(name);
    if (!(m instanceof GptqLinear)) continue;
    if (m.inputScale) throw new QuantError('UNSUPPORTED', `saveGptqCheckpoint: "${name}" has an AWQ input scale that the GPTQ layout cannot hold.`);
    const p = m.packed;
    const G = p.scales.length / p.outFeatures;
    tensors.set(`${name}.qweight`, raw('I32', [p.inFeatures / 8, p.outFeatures], p.qweight));
    tensors.set(`${name}.qzeros`, raw('I32', [G, p.outFeatures / 8], p.qzeros));
    tensors.set(`${name}.scales`, raw('F16', [G, p.outFeatures], p.scales));
    tensors.set(`${name}.g_idx`, raw('I32', [p.inFeatures], p.gIdx));
    if (m.bias) tensors.set(`${name}.bias`, raw('F32', [p.outFeatures], m.bias));
    quantized.add(name);
  }
  await mkdir(dir, { recursive: true });
  for (const [name, v] of model.namedParameters()) tensors.set(name, v);
  const hf = { ...(toHfConfig(model.config) as Record<string, unknown>), quantization_config: quantizationConfig };
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  await writeFileAtomic(join(dir, "config.json"), new TextEncoder().encode(`${JSON.stringify(hf, null, 2)}\n`));
  if (opts.copyFrom) await copyCheckpointExtras(opts.copyFrom, dir);
}

/** Load a GPTQ checkpoint (ours, or AutoGPTQ v1 with desc_act either way) into a TransformerLM with GptqLinear modules. */
export async function loadGptqCheckpoint(dir: string): Promise<TransformerLM> {
  const hf = parseUntrustedJson(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const qc = hf.quantization_config as Partial<GptqQuantizationConfig> | undefined;
  if (!qc || qc.quant_method !== 'gptq') throw new QuantError('CHECKPOINT_INVALID', `${dir}/config.json has no quantization_config with quant_method "gptq".`);
  if (qc.bits !== 4) throw new QuantError('UNSUPPORTED', `GPTQ checkpoint: only 4-bit is supported, got bits ${String(qc.bits)}.`);
  if (qc.checkpoint_format !== undefined && qc.checkpoint_format !== 'gptq') throw new QuantError('UNSUPPORTED', `GPTQ checkpoint: checkpoint_format "${String(qc.checkpoint_format)}" is not supported (only "gptq", v1).`);
  const cfg = fromHfConfig(hf);
  const file = await readSafetensors(join(dir, 'model.safetensors'));
  const t = file.tensors;
  const expected = checkpointShapes(cfg);
  const weights = new Map<string, tf.Tensor>();
  const packs = new Map<string, { p: PackedGptq; bias: Float32Array | null }>();
  const get = (n: string, dtype: RawTensor['dtype']): RawTensor => {
    const r = t.get(n);
    if (!r) throw new QuantError('CHECKPOINT_INVALID', `GPTQ checkpoint: tensor "${n}" is missing.`);
    if (r.dtype !== dtype) throw new QuantError('CHECKPOINT_INVALID', `GPTQ checkpoint: "${n}" is ${r.dtype}, expected ${dtype}.`);
    return r;
  };
  const copy = <T extends Int32Array | Uint16Array>(r: RawTensor, C: new (b: ArrayBuffer) => T): T => new C(r.data.slice().buffer);
  try {
    for (const [name, shape] of expected) {
      if (!name.endsWith('.weight')) continue;
      const mod = name.slice(0, -'.weight'.length);
      if (!t.has(`${mod}.qweight`)) continue;
      const qweight = get(`${mod}.qweight`, 'I32');
      const [inF, out] = [qweight.shape[0]! * 8, qweight.shape[1]!];
      const isInOut = cfg.family === 'gpt2' && mod !== 'lm_head';
      const want = isInOut ? [shape[0], shape[1]] : [shape[1], shape[0]];
      if (inF !== want[0] || out !== want[1]) throw new QuantError('CHECKPOINT_INVALID', `GPTQ checkpoint: "${mod}.qweight" is [${qweight.shape.join(', ')}], the config implies [${want[0]! / 8}, ${want[1]}].`);
      const scales = get(`${mod}.scales`, 'F16');
      const p: PackedGptq = {
        bits: 4, groupSize: qc.group_size ?? -1, inFeatures: inF, outFeatures: out,
        qweight: copy(qweight, Int32Array), qzeros: copy(get(`${mod}.qzeros`, 'I32'), Int32Array),
        scales: copy(scales, Uint16Array), gIdx: copy(get(`${mod}.g_idx`, 'I32'), Int32Array),
      };
      const b = t.get(`${mod}.bias`);
      packs.set(mod, { p, bias: b ? rawToFloat32(b) : null });
    }
    for (const [name, shape] of expected) {
      const mod = name.replace(/\.(weight|bias)$/, '');
      if (packs.has(mod)) continue;
      const r = t.get(name);
      if (!r) {
        if (cfg.tieWordEmbeddings && name === 'lm_head.weight') continue;
        throw new QuantError('CHECKPOINT_INVALID', `GPTQ checkpoint: tensor "${name}" is missing.`);
      }
      if (r.shape.join(',') !== shape.join(',')) throw new QuantError('CHECKPOINT_INVALID', `GPTQ checkpoint: "${name}" is [${r.shape.join(', ')}], expected [${shape.join(', ')}].`);
      weights.set(name, tf.tensor(rawToFloat32(r), r.shape));
    }
    const model = new TransformerLM(cfg, weights);
    for (const [mod, { p, bias }] of packs) {
      model.replaceModule(mod, new GptqLinear(p, bias)).namedParameters().forEach(([, v]) => v.dispose());
    }
    return model;
  } finally {
    tf.dispose([...weights.values()]);
  }
}
