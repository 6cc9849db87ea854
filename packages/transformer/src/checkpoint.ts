/**
 * Reading HF-compatible checkpoint directories: `config.json` (HF schema) + `model.safetensors` (HF
 * names and layouts; sharded `model.safetensors.index.json` is read too) + an optional
 * `generation_config.json` (the model's generation defaults). Writing is save.ts.
 *
 *   const model = await loadModel('out/ckpt');   // GPT-2, Llama or Mixtral
 *   model.generationConfig;                       // { eosTokenId: [2, 7], temperature: 0.6, … } from generation_config.json
 *   await model.save('out/ckpt2');                // what HF's from_pretrained loads
 *
 * Loading checks every tensor against the config and names what is wrong.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, readSafetensors, rawToFloat32, type RawTensor } from '@llm/tensor-gpu';
import type { ModelConfig } from './config.js';
import { TransformerError } from './errors.js';
import { fromHfConfig } from './hf-config.js';
import { checkpointShapes, hfZeroBiases } from './layout.js';
import { fromHfGenerationConfig, type ModelGenerationConfig } from './generation-config.js';
import { TransformerLM } from './model.js';

export interface Checkpoint {
  config: ModelConfig;
  /** The parsed config.json (extra HF fields such as num_labels live here). */
  hfConfig: Record<string, unknown>;
  /** Every tensor in the files, by name (HF prefixes normalised). */
  tensors: Map<string, RawTensor>;
  /** generation_config.json, parsed; {} when the directory has none. */
  generationConfig: ModelGenerationConfig;
}

const MAX_LISTED = 6;
const list = (names: string[]) => names.slice(0, MAX_LISTED).map((n) => `"${n}"`).join(', ') + (names.length > MAX_LISTED ? ` and ${names.length - MAX_LISTED} more` : '');

/** Read config.json, generation_config.json and the safetensors file(s) of a checkpoint directory (no validation of names yet). */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const hfConfig = await readJson(join(dir, 'config.json'), dir);
  const config = fromHfConfig(hfConfig);
  const genPath = join(dir, 'generation_config.json');
  const generationConfig = (await exists(genPath)) ? fromHfGenerationConfig(await readJson(genPath, dir), config.vocabSize) : {};
  const tensors = new Map<string, RawTensor>();
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (await exists(single)) {
    files = [single];
  } else if (await exists(index)) {
    const idx = await readJson(index, dir);
    const map = idx.weight_map;
    if (typeof map !== 'object' || map === null) throw bad(`${index}: "weight_map" must be an object of tensor name → shard file`);
    files = [...new Set(Object.values(map as Record<string, unknown>).map(String))].map((f) => join(dir, f));
  } else {
    throw bad(`${dir} has no model.safetensors (nor model.safetensors.index.json). llm-ts reads safetensors checkpoints only; convert pytorch_model.bin with HF's save_pretrained(safe_serialization=True).`);
  }
  for (const f of files) {
    let parsed;
    try {
      parsed = await readSafetensors(f);
    } catch (e) {
      throw bad(`${f}: ${(e as Error).message}`, e);
    }
    for (const [name, t] of parsed.tensors) tensors.set(name, t);
  }
  return { config, hfConfig, tensors: normalisePrefixes(tensors, config), generationConfig };
}

/**
 * Load a causal LM from an HF-style directory. Throws TransformerError naming the tensor or field
 * for unknown model types, missing/unexpected/mis-shaped tensors and inconsistent configs.
 */
export async function loadModel(dir: string): Promise<TransformerLM> {
  const ckpt = await readCheckpoint(dir);
  return buildModel(ckpt, []);
}

/** @internal Build a TransformerLM from a read checkpoint; `extra` names are allowed and skipped. */
export function buildModel(ckpt: Checkpoint, extra: readonly string[]): TransformerLM {
  const { config: cfg, tensors } = ckpt;
  const expected = checkpointShapes(cfg);
  const zeroBiases = hfZeroBiases(cfg);
  const ignorable = (n: string) =>
    /\.attn\.(bias|masked_bias)$/.test(n) || /rotary_emb\.inv_freq$/.test(n) || (cfg.tieWordEmbeddings && n === 'lm_head.weight') || extra.includes(n);
  const weights = new Map<string, tf.Tensor>();
  try {
    const unexpected: string[] = [];
    for (const [name, raw] of tensors) {
      const shape = expected.get(name);
      if (!shape) {
        if (zeroBiases.has(name) && isZero(raw, name)) continue; // the zeros save() writes for HF's GPT-2
        if (!ignorable(name)) unexpected.push(name);
        continue;
      }
      if (raw.shape.join(',') !== shape.join(',')) {
        throw new TransformerError('CHECKPOINT_SHAPE_MISMATCH', `checkpoint tensor "${name}" has shape [${raw.shape}], but config.json implies [${shape}] (${shapeHint(name, cfg)}).`);
      }
      weights.set(name, tf.tensor(toFloat32(raw, name), shape));
    }
    const missing = [...expected.keys()].filter((n) => !weights.has(n));
    if (missing.length) throw new TransformerError('CHECKPOINT_MISSING_TENSOR', `checkpoint lacks ${missing.length} tensor(s) the config needs: ${list(missing)}.`);
    if (unexpected.length) {
      const hint = unexpected.includes('score.weight') ? ' It looks like a sequence-classification checkpoint: use loadSequenceClassifier.' : '';
      throw new TransformerError('CHECKPOINT_UNEXPECTED_TENSOR', `checkpoint holds ${unexpected.length} tensor(s) this ${cfg.family} config does not use: ${list(unexpected)}.${hint}`);
    }
    const model = new TransformerLM(cfg, weights);
    model.generationConfig = ckpt.generationConfig;
    return model;
  } finally {
    tf.dispose([...weights.values()]);
  }
}

/** HF base-model files (GPT2Model / LlamaModel) omit the "transformer." / "model." prefix. */
function normalisePrefixes(tensors: Map<string, RawTensor>, cfg: ModelConfig): Map<string, RawTensor> {
  const prefix = cfg.family === 'gpt2' ? 'transformer.' : 'model.';
  const names = [...tensors.keys()];
  if (names.some((n) => n.startsWith(prefix))) return tensors;
  const base = cfg.family === 'gpt2' ? /^(wte|wpe|h|ln_f)\./ : /^(embed_tokens|layers|norm)\./;
  if (!names.some((n) => base.test(n))) return tensors;
  return new Map(names.map((n) => [base.test(n) ? prefix + n : n, tensors.get(n)!]));
}

function toFloat32(raw: RawTensor, name: string): Float32Array {
  if (!['F32', 'F16', 'BF16', 'F64'].includes(raw.dtype)) {
    throw new TransformerError('CHECKPOINT_INVALID', `checkpoint tensor "${name}" has dtype ${raw.dtype}; model weights must be F32, F16, BF16 or F64.`);
  }
  return rawToFloat32(raw);
}

function isZero(raw: RawTensor, name: string): boolean {
  return toFloat32(raw, name).every((v) => v === 0);
}

function shapeHint(name: string, cfg: ModelConfig): string {
  return `vocab_size ${cfg.vocabSize}, width ${cfg.nEmbd}, heads ${cfg.nHead}/${cfg.nKvHead} of dim ${cfg.headDim}, intermediate ${cfg.intermediateSize}, positions ${cfg.blockSize}${name.includes('experts') || name.includes('.gate.') ? `, experts ${cfg.nExperts}` : ''}`;
}

async function readJson(path: string, dir: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(code === 'ENOENT' ? `${dir} is not a checkpoint directory: ${path} does not exist` : `cannot read ${path}: ${(e as Error).message}`, e);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw bad(`${path} is not valid JSON: ${(e as Error).message}`, e);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function bad(msg: string, cause?: unknown): TransformerError {
  return new TransformerError('CHECKPOINT_INVALID', msg.endsWith('.') ? msg : `${msg}.`, cause === undefined ? undefined : { cause });
}
