/**
 * Quantized checkpoints: an HF-style directory whose quantized linears are stored packed.
 *
 *   await saveQuantizedModel(model, 'out/q');          // after quantizeModel(model, …)
 *   const q = await loadQuantizedModel('out/q');       // TransformerLM with the same quantized modules
 *
 * Layout (all little-endian safetensors, our own names beside HF's):
 *   config.json        HF config + `quantization_config`:
 *     nf4:  { quant_method: "bitsandbytes", load_in_4bit: true, load_in_8bit: false,
 *             bnb_4bit_quant_type: "nf4", bnb_4bit_use_double_quant, bnb_4bit_compute_dtype: "float32",
 *             bnb_4bit_quant_storage: "uint8", llm_int8_skip_modules: [skipped linears], llm_ts: {…} }
 *           (HF's bitsandbytes block, but the tensors below use llm-ts names: HF transformers cannot
 *           load this directory as is; `llm_ts` says so to readers)
 *     int4: { quant_method: "llm-ts-int4", bits: 4, group_size, sym, llm_ts: {…} }
 *     int8: { quant_method: "llm-ts-int8", bits: 8, threshold, llm_ts: {…} }
 *     llm_ts = { format: "llm-ts-quant", version: 1, scheme, modules: [quantized linear names], skipped: [...] }
 *   model.safetensors  every float weight by its HF name (embeddings, norms, unquantized linears,
 *                      biases of quantized linears, F32), and per quantized linear L:
 *     nf4:  L.weight.nf4 U8 [⌈out·in/2⌉] (row-major [out, in] flattened, first element high nibble),
 *           L.weight.absmax F32 [blocks]                      (no double quant), or
 *           L.weight.absmax_q U8 [blocks], L.weight.absmax_scale F32 [⌈blocks/256⌉],
 *           L.weight.absmax_code F32 [256], L.weight.absmax_offset F32 [1]   (double quant)
 *           block size 64 (llm_ts.block_size), nested 256 (llm_ts.nested_block_size)
 *     int4: L.weight.int4 U8 [⌈out·in/2⌉] (packInt4: low nibble first), L.weight.scales F32 [out, groups],
 *           L.weight.zeros U8 [out, groups]; w = (q − zero) · scale
 *     int8: L.weight.int8 I8 [out, in], L.weight.absmax F32 [out], and when there are outlier columns
 *           L.weight.outlier_cols I32 [k], L.weight.outliers F32 [out, k]
 *   GPT-2 Conv1D weights are stored [out, in] once quantized (nn.Linear's layout), like bitsandbytes.
 *
 * Loading checks every name, dtype, shape, size and value range against the config before use
 * and throws QuantError CHECKPOINT_INVALID naming the problem.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, readSafetensors, writeSafetensors, writeFileAtomic, parseUntrustedJson, rawToFloat32, type RawTensor, type SafetensorsDtype } from '@llm/tensor-gpu';
import { TransformerLM, checkpointShapes, fromHfConfig, modelLayout, toHfConfig, type ModelConfig, type Linear } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { makeInt4, makeInt8, makeNf4, type QuantizedWeight } from '../quantizers/index.js';
import { QuantizedLinear, quantizedLinear } from '../modules/quantized-linear.js';
import type { QuantScheme } from '../modules/quantize-model.js';

export const QUANT_FORMAT = 'llm-ts-quant';
export const QUANT_FORMAT_VERSION = 1;
const MAX_JSON_BYTES = 16 << 20;

/** The raw tensors of one quantized weight, by suffix after `L.weight.`. */
function weightTensors(w: QuantizedWeight): Array<[string, RawTensor]> {
  const u8 = (d: Uint8Array, shape: number[]): RawTensor => ({ dtype: 'U8', shape, data: d });
  const f32 = (d: Float32Array, shape: number[]): RawTensor => ({ dtype: 'F32', shape, data: new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)) });
  const [out, inF] = w.shape;
  switch (w.scheme) {
    case 'nf4': {
      const t: Array<[string, RawTensor]> = [['nf4', u8(w.packed, [w.packed.length])]];
      if (w.absmax) t.push(['absmax', f32(w.absmax, [w.absmax.length])]);
      else {
        const n = w.nested!;
        t.push(['absmax_q', u8(n.codes, [n.codes.length])], ['absmax_scale', f32(n.absmax, [n.absmax.length])], ['absmax_code', f32(n.code, [n.code.length])], ['absmax_offset', f32(Float32Array.of(n.offset), [1])]);
      }
      return t;
    }
    case 'int4': {
      const nG = Math.ceil(inF / w.groupSize);
      return [['int4', u8(w.packed, [w.packed.length])], ['scales', f32(w.scales, [out, nG])], ['zeros', u8(w.zeros, [out, nG])]];
    }
    case 'int8': {
      const t: Array<[string, RawTensor]> = [['int8', { dtype: 'I8', shape: [out, inF], data: new Uint8Array(w.q.buffer.slice(w.q.byteOffset, w.q.byteOffset + w.q.byteLength)) }], ['absmax', f32(w.absmax, [out])]];
      const k = w.outlierCols.length;
      if (k) t.push(['outlier_cols', { dtype: 'I32', shape: [k], data: new Uint8Array(w.outlierCols.buffer.slice(0)) }], ['outliers', f32(w.outliers, [out, k])]);
      return t;
    }
  }
}

/** The quantization_config block of config.json for a model's quantized modules. */
export function quantizationConfig(model: TransformerLM): Record<string, unknown> {
  const modules: Array<[string, QuantizedLinear]> = [];
  const skipped: string[] = [];
  for (const n of model.linearNames()) {
    const m = model.getModule(n);
    if (m instanceof QuantizedLinear) modules.push([n, m]);
    else skipped.push(n);
  }
  if (model.layout.tied && modules.some(([n]) => n === 'lm_head')) throw new QuantError('UNSUPPORTED', 'saveQuantizedModel: the model ties lm_head to the embedding, which stays float; a quantized lm_head of a tied model has no place in the checkpoint — skip lm_head (the default).');
  if (!modules.length) throw new QuantError('INVALID_ARGUMENT', 'saveQuantizedModel: the model has no quantized linears; run quantizeModel first (or save it with model.save()).');
  const schemes = new Set(modules.map(([, m]) => m.scheme));
  if (schemes.size > 1) throw new QuantError('UNSUPPORTED', `saveQuantizedModel: one scheme per checkpoint, the model mixes ${[...schemes].join(', ')}.`);
  const first = modules[0]![1].weight;
  const llm_ts: Record<string, unknown> = { format: QUANT_FORMAT, version: QUANT_FORMAT_VERSION, scheme: first.scheme, modules: modules.map(([n]) => n), skipped };
  switch (first.scheme) {
    case 'nf4': {
      const dq = modules.map(([, m]) => (m.weight as typeof first).nested !== null);
      if (new Set(dq).size > 1 || new Set(modules.map(([, m]) => (m.weight as typeof first).blockSize)).size > 1) throw new QuantError('UNSUPPORTED', 'saveQuantizedModel: all NF4 modules must share block size and double quantization.');
      Object.assign(llm_ts, { block_size: first.blockSize, nested_block_size: first.nested?.blockSize ?? null, note: 'llm-ts tensor names; not loadable by HF transformers as is' });
      return { quant_method: 'bitsandbytes', load_in_4bit: true, load_in_8bit: false, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: dq[0], bnb_4bit_compute_dtype: 'float32', bnb_4bit_quant_storage: 'uint8', llm_int8_skip_modules: skipped, llm_ts };
    }
    case 'int4': {
      const gs = new Set(modules.map(([, m]) => (m.weight as typeof first).groupSize));
      const sym = new Set(modules.map(([, m]) => (m.weight as typeof first).symmetric));
      if (gs.size > 1 || sym.size > 1) throw new QuantError('UNSUPPORTED', 'saveQuantizedModel: all int4 modules must share group size and symmetry.');
      return { quant_method: 'llm-ts-int4', bits: 4, group_size: first.groupSize, sym: first.symmetric, llm_ts };
    }
    case 'int8':
      return { quant_method: 'llm-ts-int8', bits: 8, threshold: first.threshold, llm_ts };
  }
}

export interface SaveQuantizedOptions {
  /** A directory whose tokenizer.json / generation_config.json / tokenizer_config.json are copied when present. */
  copyFrom?: string;
}

/** Write config.json + model.safetensors (atomic per file) for a model with quantized linears. */
export async function saveQuantizedModel(model: TransformerLM, dir: string, opts: SaveQuantizedOptions = {}): Promise<void> {
  const qc = quantizationConfig(model);
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, RawTensor | tf.Tensor>();
  for (const [name, v] of model.namedParameters()) tensors.set(name, v);
  for (const n of (qc.llm_ts as { modules: string[] }).modules) {
    for (const [suffix, raw] of weightTensors((model.getModule(n) as QuantizedLinear).weight)) tensors.set(`${n}.weight.${suffix}`, raw);
  }
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', 'llm_ts.quant': String((qc.llm_ts as { scheme: string }).scheme) });
  const json = { ...toHfConfig(model.config), quantization_config: qc };
  await writeFileAtomic(join(dir, 'config.json'), new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n'));
  if (opts.copyFrom) await copyCheckpointExtras(opts.copyFrom, dir);
}

/** Copy tokenizer.json / tokenizer_config.json / generation_config.json from `from` to `dir` when present (atomic per file). */
export async function copyCheckpointExtras(from: string, dir: string): Promise<void> {
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
    const src = join(from, f);
    if ((await stat(src).catch(() => null))?.isFile()) await writeFileAtomic(join(dir, f), await readFile(src));
  }
}

const bad = (msg: string, cause?: unknown) => new QuantError('CHECKPOINT_INVALID', msg, cause === undefined ? undefined : { cause });

async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw bad(`${dir} is not a quantized checkpoint: ${path} does not exist. Write one with \`llm-quant quantize\` or saveQuantizedModel.`);
  if (st.size > MAX_JSON_BYTES) throw bad(`${path} is ${st.size} bytes, above the ${MAX_JSON_BYTES}-byte limit for a config.`);
  try {
    const v = parseUntrustedJson(new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path)), { what: path });
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('it must hold a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw bad(`${path} is not a valid config: ${(e as Error).message}`, e);
  }
}

/** Load a directory written by saveQuantizedModel: a TransformerLM whose quantized linears are restored bit for bit. */
export async function loadQuantizedModel(dir: string): Promise<TransformerLM> {
  const hf = await readConfig(dir);
  const qc = hf.quantization_config as Record<string, unknown> | undefined;
  const meta = (qc && typeof qc === 'object' ? qc.llm_ts : undefined) as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object' || meta.format !== QUANT_FORMAT) throw bad(`${dir}/config.json has no llm-ts quantization_config (quantization_config.llm_ts.format "${QUANT_FORMAT}"): not a checkpoint saveQuantizedModel wrote. A float checkpoint loads with loadModel.`);
  if (meta.version !== QUANT_FORMAT_VERSION) throw bad(`${dir}: quantized checkpoint format version ${String(meta.version)} is not supported (this build reads ${QUANT_FORMAT_VERSION}).`);
  const scheme = meta.scheme as QuantScheme;
  if (!['nf4', 'int4', 'int8'].includes(scheme)) throw bad(`${dir}: unknown quantization scheme ${JSON.stringify(meta.scheme)}.`);
  let cfg: ModelConfig;
  try {
    const { quantization_config: _, ...plain } = hf;
    cfg = fromHfConfig(plain);
  } catch (e) {
    throw bad(`${dir}/config.json: ${(e as Error).message}`, e);
  }
  const shapes = checkpointShapes(cfg);
  const modules = meta.modules;
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string' || !shapes.has(`${m}.weight`)) || new Set(modules).size !== modules.length) {
    throw bad(`${dir}/config.json: quantization_config.llm_ts.modules must list distinct linear names of this model.`);
  }
  let tensors: Map<string, RawTensor>;
  try {
    tensors = (await readSafetensors(join(dir, 'model.safetensors'))).tensors;
  } catch (e) {
    throw bad(`${join(dir, 'model.safetensors')}: ${(e as Error).message}`, e);
  }
  const used = new Set<string>();
  const take = (name: string, dtype: SafetensorsDtype, shape: number[] | null): RawTensor => {
    const t = tensors.get(name);
    if (!t) throw bad(`${dir}: tensor "${name}" is missing.`);
    if (t.dtype !== dtype) throw bad(`${dir}: tensor "${name}" has dtype ${t.dtype}, expected ${dtype}.`);
    if (shape && t.shape.join(',') !== shape.join(',')) throw bad(`${dir}: tensor "${name}" has shape [${t.shape}], expected [${shape}].`);
    used.add(name);
    return t;
  };
  const floats = (t: RawTensor, name: string): Float32Array => {
    const v = rawToFloat32(t);
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw bad(`${dir}: tensor "${name}" holds a non-finite value at ${i}.`);
    return v;
  };
  const copy = (t: RawTensor) => Uint8Array.from(t.data);
  const quantized = new Set(modules as string[]);
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const [name, shape] of shapes) {
      const lin = name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : '';
      if (quantized.has(lin)) continue;
      const t = tensors.get(name);
      if (!t) throw bad(`${dir}: tensor "${name}" is missing.`);
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw bad(`${dir}: tensor "${name}" has dtype ${t.dtype}; float weights must be F32, F16 or BF16.`);
      if (t.shape.join(',') !== shape.join(',')) throw bad(`${dir}: tensor "${name}" has shape [${t.shape}], expected [${shape}].`);
      used.add(name);
      weights.set(name, tf.tensor(floats(t, name), shape));
    }
    const built = new Map<string, QuantizedWeight>();
    const specs = new Map(modelLayout(cfg).linears.map((l) => [l.name, l]));
    for (const lin of quantized) {
      const spec = specs.get(lin)!;
      const [out, inF] = [spec.outFeatures, spec.inFeatures];
      const n = out * inF;
      const p = `${lin}.weight.`;
      try {
        if (scheme === 'nf4') {
          const bs = Number(meta.block_size);
          if (![32, 64, 128, 256, 512, 1024, 2048, 4096].includes(bs)) throw bad(`${dir}: llm_ts.block_size ${String(meta.block_size)} is not a valid NF4 block size.`);
          const nb = Math.ceil(n / bs);
          const packed = copy(take(`${p}nf4`, 'U8', [Math.ceil(n / 2)]));
          if (tensors.has(`${p}absmax`)) {
            built.set(lin, makeNf4([out, inF], bs, packed, floats(take(`${p}absmax`, 'F32', [nb]), `${p}absmax`), null));
          } else {
            const nbs = Number(meta.nested_block_size);
            if (![64, 128, 256, 512, 1024, 2048, 4096].includes(nbs)) throw bad(`${dir}: llm_ts.nested_block_size ${String(meta.nested_block_size)} is not valid.`);
            const codes = copy(take(`${p}absmax_q`, 'U8', [nb]));
            const absmax = floats(take(`${p}absmax_scale`, 'F32', [Math.ceil(nb / nbs)]), `${p}absmax_scale`);
            const code = floats(take(`${p}absmax_code`, 'F32', [256]), `${p}absmax_code`);
            const offset = floats(take(`${p}absmax_offset`, 'F32', [1]), `${p}absmax_offset`)[0]!;
            built.set(lin, makeNf4([out, inF], bs, packed, null, { codes, absmax, code, offset, blockSize: nbs }));
          }
        } else if (scheme === 'int4') {
          const g = Number(qc!.group_size);
          if (!Number.isInteger(g) || g < 2 || g % 2) throw bad(`${dir}: quantization_config.group_size ${String(qc!.group_size)} is not an even integer ≥ 2.`);
          const nG = Math.ceil(inF / g);
          built.set(lin, makeInt4([out, inF], g, qc!.sym !== false, copy(take(`${p}int4`, 'U8', [Math.ceil(n / 2)])), floats(take(`${p}scales`, 'F32', [out, nG]), `${p}scales`), copy(take(`${p}zeros`, 'U8', [out, nG]))));
        } else {
          const q = new Int8Array(copy(take(`${p}int8`, 'I8', [out, inF])).buffer);
          const absmax = floats(take(`${p}absmax`, 'F32', [out]), `${p}absmax`);
          let cols: Int32Array = new Int32Array(0);
          let outl: Float32Array = new Float32Array(0);
          if (tensors.has(`${p}outlier_cols`)) {
            const c = take(`${p}outlier_cols`, 'I32', null);
            if (c.shape.length !== 1 || c.shape[0]! > inF) throw bad(`${dir}: tensor "${p}outlier_cols" must be 1-D with at most ${inF} columns.`);
            cols = new Int32Array(copy(c).buffer);
            outl = floats(take(`${p}outliers`, 'F32', [out, cols.length]), `${p}outliers`);
          }
          built.set(lin, makeInt8([out, inF], q, absmax, cols, outl, Number(qc!.threshold ?? 6)));
        }
      } catch (e) {
        if (e instanceof QuantError && e.code !== 'CHECKPOINT_INVALID') throw bad(`${dir}: linear "${lin}": ${e.message}`, e);
        throw e;
      }
    }
    const extra = [...tensors.keys()].filter((k) => !used.has(k));
    if (extra.length) throw bad(`${dir}: model.safetensors holds ${extra.length} tensor(s) this config does not use: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ' …' : ''}.`);
    const model = new TransformerLM(cfg, weights);
    for (const [lin, w] of built) {
      const old = model.getModule(lin) as Linear;
      model.replaceModule(lin, quantizedLinear(w, old.bias));
      old.weight.dispose();
      old.bias?.dispose();
    }
    return model;
  } finally {
    tf.dispose([...weights.values()]);
  }
}
