/**
 * Reading HF PEFT adapter directories (adapter_config.json + adapter_model.safetensors) onto a
 * model. Files are untrusted: the config goes through parseUntrustedJson, the safetensors header
 * is read and checked against the adapter's expected names and shapes before any tensor data.
 *
 *   const peft = await loadAdapter(model, 'out/adapter');                 // a new PeftModel
 *   await loadAdapter(peft, 'out/adapter2', { adapterName: 'second' });   // another adapter on it
 *
 * Errors (PeftError): ADAPTER_NOT_FOUND (a missing file, with its path), UNSUPPORTED_PEFT_TYPE,
 * TARGET_NOT_FOUND (targets or tensors for modules the model lacks), SHAPE_MISMATCH (naming the
 * module and both shapes), ADAPTER_INVALID (unreadable files, missing tensors).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, parseUntrustedJson, readSafetensors, readSafetensorsHeader, rawToTensor } from '@llm/tensor-gpu';
import type { TransformerLM } from '@llm/transformer';
import { PeftError } from '../errors.js';
import { fromAdapterConfigJson } from '../config.js';
import { PeftModel } from '../peft-model.js';
import { moduleOf, STATE_PREFIX } from '../tuners/layer-tuner.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME } from './save.js';

export interface LoadAdapterOptions {
  /** Name the adapter gets. Default 'default'. */
  adapterName?: string;
  /** Its weights trainable (PEFT's is_trainable). Default false (inference). */
  isTrainable?: boolean;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export async function loadAdapter(target: TransformerLM | PeftModel, dir: string, opts: LoadAdapterOptions = {}): Promise<PeftModel> {
  const name = opts.adapterName ?? 'default';
  const trainable = opts.isTrainable ?? false;
  const cfgPath = join(dir, ADAPTER_CONFIG_NAME);
  const wPath = join(dir, ADAPTER_WEIGHTS_NAME);
  await mustExist(cfgPath, 'adapter config');
  await mustExist(wPath, 'adapter weights');
  let json: unknown;
  try {
    json = parseUntrustedJson(await readFile(cfgPath, 'utf8'), { what: cfgPath });
  } catch (e) {
    throw new PeftError('ADAPTER_INVALID', `${cfgPath} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const config = fromAdapterConfigJson(json, cfgPath);
  config.inferenceMode = !trainable;
  let header: Awaited<ReturnType<typeof readSafetensorsHeader>>;
  try {
    header = await readSafetensorsHeader(wPath);
  } catch (e) {
    throw new PeftError('ADAPTER_INVALID', `${wPath} is not a readable safetensors file: ${(e as Error).message}`, { cause: e });
  }
  const fresh = !(target instanceof PeftModel);
  const peft = target instanceof PeftModel ? target : new PeftModel(target);
  if (fresh) peft.base.setTrainable(/./, false);
  const tuner = peft.addAdapter(name, config, { trainable, fromFile: true });
  try {
    checkTensors(new Map(tuner.stateDict().map(([n, v]) => [n, v.shape])), new Map([...header.tensors].map(([n, e]) => [n, { shape: e.shape, dtype: e.dtype }])), peft.base, wPath);
    const file = await readSafetensors(wPath);
    const weights = new Map<string, tf.Tensor>();
    try {
      for (const [n, raw] of file.tensors) weights.set(n, rawToTensor(raw));
      tuner.loadStateDict(weights);
    } finally {
      tf.dispose([...weights.values()]);
    }
  } catch (e) {
    peft.deleteAdapter(name);
    throw e;
  }
  return peft;
}

/**
 * Names and shapes of a file's tensors against what the adapter expects: an unknown module is
 * TARGET_NOT_FOUND, a wrong shape SHAPE_MISMATCH (module and both shapes), a missing tensor or a
 * non-float dtype ADAPTER_INVALID.
 */
export function checkTensors(expected: ReadonlyMap<string, readonly number[]>, got: ReadonlyMap<string, { shape: readonly number[]; dtype: string }>, model: TransformerLM, what: string): void {
  const linears = new Set(model.linearNames());
  for (const [key, e] of got) {
    const want = expected.get(key);
    const mod = moduleOf(key);
    if (!want) {
      const param = key.startsWith(STATE_PREFIX) ? key.slice(STATE_PREFIX.length) : key;
      if (!linears.has(mod) && !model.namedParameters().some(([n]) => n === param)) {
        throw new PeftError('TARGET_NOT_FOUND', `${what}: tensor "${key}" is for module "${mod}", which this model does not have (an adapter for another architecture?). The model's linears include ${[...linears].slice(0, 6).join(', ')}.`);
      }
      throw new PeftError('ADAPTER_INVALID', `${what}: tensor "${key}" is not part of this adapter (module "${mod}" is not among its targets per adapter_config.json).`);
    }
    if (want.length !== e.shape.length || want.some((d, i) => d !== e.shape[i])) {
      throw new PeftError('SHAPE_MISMATCH', `${what}: tensor "${key}" has shape [${e.shape}], but module "${mod}" of this model needs [${want}] — the adapter was made for another model (architecture or size).`);
    }
    if (!FLOAT_DTYPES.has(e.dtype)) throw new PeftError('ADAPTER_INVALID', `${what}: tensor "${key}" is ${e.dtype}; adapter weights must be floating point.`);
  }
  const missing = [...expected.keys()].filter((k) => !got.has(k));
  if (missing.length) throw new PeftError('ADAPTER_INVALID', `${what} lacks ${missing.length} tensor(s) that adapter_config.json implies, e.g. "${missing[0]}".`);
}

async function mustExist(path: string, what: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a file');
  } catch {
    const bin = what === 'adapter weights' ? ' (adapter_model.bin, the pickle format, is not read: convert it to safetensors in PEFT)' : '';
    throw new PeftError('ADAPTER_NOT_FOUND', `${what} not found: ${path}${bin}. Point loadAdapter at a directory PEFT's save_pretrained wrote.`);
  }
}
