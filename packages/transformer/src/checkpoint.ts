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
import { tf, readSafetensors, readSafetensorsHeader, rawToFloat32, parseUntrustedJson, TensorGpuError, type RawTensor, type SafetensorsDtype } from '@llm/tensor-gpu';
import type { ModelConfig } from './config.js';
import { TransformerError, showValue } from './errors.js';
import { fromHfConfig } from './hf-config.js';
import { checkpointShapes, hfZeroBiases } from './layout.js';
import { overLimit, resolveLimits, type LimitOptions, type ModelLimits } from './limits.js';
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

/** Options of loadModel / readCheckpoint / loadSequenceClassifier. */
export type LoadOptions = LimitOptions;

const MAX_LISTED = 6;
const list = (names: string[]) => names.slice(0, MAX_LISTED).map(showValue).join(', ') + (names.length > MAX_LISTED ? ` and ${names.length - MAX_LISTED} more` : '');
const INDEX_FILE = 'model.safetensors.index.json';

/**
 * Read config.json, generation_config.json and the safetensors file(s) of a checkpoint directory.
 * Everything the files claim is checked before it is used: the config's sizes against the limits
 * (`opts.limits`, MODEL_LIMITS by default), shard names against the directory (checkpointFile),
 * and every tensor the config implies (present, float dtype, shape) against the safetensors
 * headers before any tensor data is read. Tensors the config does not use are returned as read
 * (loadModel refuses them).
 */
export async function readCheckpoint(dir: string, opts: LoadOptions = {}): Promise<Checkpoint> {
  const limits = resolveLimits(opts.limits);
  const hfConfig = await readJson(dir, 'config.json', limits);
  const config = fromHfConfig(hfConfig, opts);
  const generationConfig = (await isFile(join(dir, 'generation_config.json'))) ? fromHfGenerationConfig(await readJson(dir, 'generation_config.json', limits), config.vocabSize) : {};
  const files = await shardFiles(dir, limits);
  const read = { maxHeaderBytes: limits.maxJsonBytes };
  // Headers first: names, dtypes and shapes checked before any tensor data is read.
  const headers = new Map<string, { dtype: SafetensorsDtype; shape: number[]; file: string }>();
  for (const f of files) {
    const { tensors } = await readShard(f, () => readSafetensorsHeader(f, read));
    for (const [name, e] of tensors) {
      const prev = headers.get(name);
      if (prev) throw bad(`tensor ${showValue(name)} is in two files of ${dir}: ${prev.file} and ${f}`);
      headers.set(name, { dtype: e.dtype, shape: e.shape, file: f });
    }
    if (headers.size > limits.maxTensors) throw overLimit(`${dir}: the number of tensors in the checkpoint`, headers.size, 'maxTensors', limits);
  }
  const rename = prefixRenamer([...headers.keys()], config);
  checkImpliedTensors(config, new Map([...headers].map(([n, e]) => [rename(n), e])));
  const tensors = new Map<string, RawTensor>();
  for (const f of files) {
    const parsed = await readShard(f, () => readSafetensors(f, read));
    for (const [name, t] of parsed.tensors) tensors.set(rename(name), t);
  }
  checkImpliedTensors(config, tensors); // the files may have changed since their headers were read
  return { config, hfConfig, tensors, generationConfig };
}

/**
 * Load a causal LM from an HF-style directory. Throws TransformerError naming the tensor or field
 * for unknown model types, missing/unexpected/mis-shaped/non-finite tensors, inconsistent configs,
 * sizes above the limits (`opts.limits`) and shard names outside the directory.
 */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<TransformerLM> {
  const ckpt = await readCheckpoint(dir, opts);
  return buildModel(ckpt, [], opts);
}

/** @internal Build a TransformerLM from a read checkpoint; `extra` names are allowed and skipped. */
export function buildModel(ckpt: Checkpoint, extra: readonly string[], opts: LoadOptions = {}): TransformerLM {
  const { config: cfg, tensors } = ckpt;
  const expected = checkpointShapes(cfg);
  const zeroBiases = hfZeroBiases(cfg);
  const ignorable = (n: string) =>
    /\.attn\.(bias|masked_bias)$/.test(n) || /rotary_emb\.inv_freq$/.test(n) || (cfg.tieWordEmbeddings && n === 'lm_head.weight') || extra.includes(n);
  const weights = new Map<string, tf.Tensor>();
  try {
    const unexpected: string[] = [];
    for (const [name, raw] of tensors) {
      if (!expected.has(name)) {
        if (zeroBiases.has(name) && isZero(raw, name)) continue; // the zeros save() writes for HF's GPT-2
        if (!ignorable(name)) unexpected.push(name);
        continue;
      }
      weights.set(name, tf.tensor(checkedFloat32(raw, name), raw.shape));
    }
    if (unexpected.length) {
      const hint = unexpected.includes('score.weight') ? ' It looks like a sequence-classification checkpoint: use loadSequenceClassifier.' : '';
      throw new TransformerError('CHECKPOINT_UNEXPECTED_TENSOR', `checkpoint holds ${unexpected.length} tensor(s) this ${cfg.family} config does not use: ${list(unexpected)}.${hint}`);
    }
    const model = new TransformerLM(cfg, weights, opts);
    model.generationConfig = ckpt.generationConfig;
    return model;
  } finally {
    tf.dispose([...weights.values()]);
  }
}

/**
 * `dir/name` for a file name that a checkpoint's own files give (a shard of the index's
 * weight_map, a tokenizer file a config names), refusing any name that could leave the directory:
 * absolute paths, ".." (and "." or empty) segments, backslashes, control characters, and names not
 * ending in `suffix`. `where` names the entry for the message (which quotes no other file). The check
 * is on the name only, so a directory whose entries are symlinks (the HF hub cache's
 * snapshots/<rev>/model.safetensors → ../../blobs/<sha>) still loads.
 *
 *   checkpointFile('ckpt', 'model-00001-of-00002.safetensors', 'index: "w"')  // 'ckpt/model-00001-of-00002.safetensors'
 *   checkpointFile('ckpt', '../../etc/passwd', 'index: "w"')                  // TransformerError CHECKPOINT_UNSAFE_PATH
 */
export function checkpointFile(dir: string, name: unknown, where: string, suffix = ''): string {
  const segments = typeof name === 'string' ? name.split('/') : [];
  const problem =
    typeof name !== 'string' ? 'is not a string'
    : name.length === 0 ? 'is empty'
    : name.length > 1024 ? 'is longer than 1024 characters'
    : /[\\\u0000-\u001f\u007f]/.test(name) ? 'contains a backslash or a control character'
    : name.startsWith('/') || /^[A-Za-z]:/.test(name) ? 'is an absolute path'
    : segments.includes('..') ? 'has a ".." segment'
    : segments.some((s) => s === '' || s === '.') ? 'has an empty or "." segment'
    : !name.endsWith(suffix) ? `does not end in "${suffix}"`
    : undefined;
  if (problem !== undefined) {
    throw new TransformerError(
      'CHECKPOINT_UNSAFE_PATH',
      `${where} names the file ${showValue(name)}, which ${problem}. A checkpoint may only name files inside its own directory, by plain relative names${suffix ? ` ending in "${suffix}"` : ''}; nothing was read.`,
    );
  }
  return join(dir, name as string);
}

/** The safetensors file(s) of a checkpoint: model.safetensors, else the shards its index names. */
async function shardFiles(dir: string, limits: ModelLimits): Promise<string[]> {
  const single = join(dir, 'model.safetensors');
  if (await isFile(single)) return [single];
  if (!(await isFile(join(dir, INDEX_FILE)))) {
    throw bad(`${dir} has no model.safetensors (nor ${INDEX_FILE}). llm-ts reads safetensors checkpoints only; convert pytorch_model.bin with HF's save_pretrained(safe_serialization=True).`);
  }
  const idx = await readJson(dir, INDEX_FILE, limits);
  const map = idx.weight_map;
  const where = join(dir, INDEX_FILE);
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw bad(`${where}: "weight_map" must be an object of tensor name → shard file`);
  const entries = Object.entries(map as Record<string, unknown>);
  if (entries.length > limits.maxTensors) throw overLimit(`${where}: the number of weight_map entries`, entries.length, 'maxTensors', limits);
  return [...new Set(entries.map(([tensor, file]) => checkpointFile(dir, file, `${where}: weight_map entry ${showValue(tensor)}`, '.safetensors')))];
}

/** A safetensors read whose TensorGpuError (or I/O error) becomes CHECKPOINT_INVALID naming the file. */
async function readShard<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw bad(`${file}: ${(e as Error).message}`, e);
  }
}

/** Every tensor the config implies is present with a float dtype and its shape. */
function checkImpliedTensors(cfg: ModelConfig, tensors: ReadonlyMap<string, { dtype: SafetensorsDtype; shape: number[] }>): void {
  const expected = checkpointShapes(cfg);
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      missing.push(name);
      continue;
    }
    checkFloatDtype(name, t.dtype);
    if (t.shape.join(',') !== shape.join(',')) {
      throw new TransformerError('CHECKPOINT_SHAPE_MISMATCH', `checkpoint tensor "${name}" has shape [${t.shape}], but config.json implies [${shape}] (${shapeHint(name, cfg)}).`);
    }
  }
  if (missing.length) throw new TransformerError('CHECKPOINT_MISSING_TENSOR', `checkpoint lacks ${missing.length} tensor(s) the config needs: ${list(missing)}.`);
}

/**
 * HF base-model files (GPT2Model / LlamaModel) omit the "transformer." / "model." prefix: the
 * renaming that adds it, or the identity.
 */
function prefixRenamer(names: string[], cfg: ModelConfig): (name: string) => string {
  const prefix = cfg.family === 'gpt2' ? 'transformer.' : 'model.';
  const base = cfg.family === 'gpt2' ? /^(wte|wpe|h|ln_f)\./ : /^(embed_tokens|layers|norm)\./;
  if (names.some((n) => n.startsWith(prefix)) || !names.some((n) => base.test(n))) return (n) => n;
  return (n) => (base.test(n) ? prefix + n : n);
}

function checkFloatDtype(name: string, dtype: SafetensorsDtype): void {
  if (!['F32', 'F16', 'BF16', 'F64'].includes(dtype)) {
    throw new TransformerError('CHECKPOINT_INVALID', `checkpoint tensor ${showValue(name)} has dtype ${dtype}; model weights must be F32, F16, BF16 or F64.`);
  }
}

/**
 * @internal A checkpoint weight's values as float32, refusing NaN and ±Infinity — one pass over
 * the values as they are converted (F64 values beyond float32's range count as infinite).
 */
export function checkedFloat32(raw: RawTensor, name: string): Float32Array {
  checkFloatDtype(name, raw.dtype);
  const values = rawToFloat32(raw);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      const what = Number.isNaN(v) ? 'NaN' : `${v > 0 ? '' : '-'}Infinity${raw.dtype === 'F64' ? ' (as float32)' : ''}`;
      throw new TransformerError('CHECKPOINT_INVALID', `checkpoint tensor ${showValue(name)} holds ${what} at flat index ${i} of shape [${raw.shape}]: weights must be finite (a corrupt file, or a training run that diverged before it saved).`);
    }
  }
  return values;
}

function isZero(raw: RawTensor, name: string): boolean {
  return checkedFloat32(raw, name).every((v) => v === 0);
}

function shapeHint(name: string, cfg: ModelConfig): string {
  return `vocab_size ${cfg.vocabSize}, width ${cfg.nEmbd}, heads ${cfg.nHead}/${cfg.nKvHead} of dim ${cfg.headDim}, intermediate ${cfg.intermediateSize}, positions ${cfg.blockSize}${name.includes('experts') || name.includes('.gate.') ? `, experts ${cfg.nExperts}` : ''}`;
}

/**
 * dir/name as a JSON object: a regular file of at most limits.maxJsonBytes, UTF-8, nested at most
 * limits.maxJsonDepth deep, without duplicate keys. Errors say what and where, never quoting the text.
 */
async function readJson(dir: string, name: string, limits: ModelLimits): Promise<Record<string, unknown>> {
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw bad(`${path} is not a regular file`);
    if (st.size > limits.maxJsonBytes) throw overLimit(`the size of ${path} in bytes`, st.size, 'maxJsonBytes', limits);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof TransformerError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw bad(code === 'ENOENT' ? `${dir} is not a checkpoint directory: ${path} does not exist` : `cannot read ${path}: ${(e as Error).message}`, e);
  }
  if (bytes.length > limits.maxJsonBytes) throw overLimit(`the size of ${path} in bytes`, bytes.length, 'maxJsonBytes', limits);
  let v: unknown;
  try {
    v = parseUntrustedJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes), { maxDepth: limits.maxJsonDepth, what: path });
  } catch (e) {
    throw bad(e instanceof TensorGpuError ? e.message : `${path} is not valid UTF-8`, e);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${path} must hold a JSON object, not ${showValue(v)}`);
  return v as Record<string, unknown>;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function bad(msg: string, cause?: unknown): TransformerError {
  return new TransformerError('CHECKPOINT_INVALID', msg.endsWith('.') ? msg : `${msg}.`, cause === undefined ? undefined : { cause });
}
