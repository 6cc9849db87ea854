/**
 * Parameter-efficient fine-tuning for the CLI (@llm/peft): the `--peft` flags of `llm-train sft`,
 * the adapter config they mean, the learning-rate defaults, and attaching a saved adapter
 * (`--adapter` of sample / eval / merge, and an adapter run's `--resume`).
 *
 *   const cfg = peftConfig(o, model.config);               // { peftType: 'LORA', r: 8, loraAlpha: 16, … } or null (--peft none)
 *   const peft = await attachAdapter(base, 'out/lora/adapter');            // inference
 *   const peft = await attachAdapter(base, 'out/lora/checkpoint', { isTrainable: true }); // resume
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf, parseUntrustedJson, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import type { ModelConfig, TransformerLM } from '@llm/transformer';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PeftError, PeftModel, fromAdapterConfigJson, getPeftModel, loadAdapter, type PeftConfig, type PeftType } from '@llm/peft';
import { CliError, type OptSpec } from './options.js';

export const PEFT_METHODS = ['none', 'lora', 'qlora', 'dora', 'prompt', 'prefix', 'ia3', 'adapter'] as const;
export type PeftMethod = (typeof PEFT_METHODS)[number];

/** The peak learning rate of an adapter run when --lr is not given (the final one is a tenth of it unless --min-lr). */
export const PEFT_LR: Record<Exclude<PeftMethod, 'none'>, number> = {
  lora: 1e-3,
  qlora: 1e-3,
  dora: 1e-3,
  ia3: 1e-3,
  adapter: 1e-3,
  prefix: 1e-2,
  prompt: 3e-2,
};

const LORA_FAMILY: readonly string[] = ['lora', 'qlora', 'dora'];

/** Which --peft values each method flag applies to (a flag given for another method is refused). */
const APPLIES: Record<string, readonly string[]> = {
  loraR: LORA_FAMILY,
  loraAlpha: LORA_FAMILY,
  loraDropout: LORA_FAMILY,
  targetModules: [...LORA_FAMILY, 'ia3', 'adapter'],
  numVirtualTokens: ['prompt', 'prefix'],
  promptInitText: ['prompt'],
  prefixProjection: ['prefix'],
  encoderHiddenSize: ['prefix'],
  bottleneckSize: ['adapter'],
};

export const PEFT_OPTIONS: OptSpec[] = [
  { name: 'peft', flag: 'peft', kind: 'enum', values: PEFT_METHODS, def: 'none', help: 'parameter-efficient fine-tuning: train an adapter on the frozen --init model and write it to <out>/adapter in HF PEFT format (none = full fine-tuning; qlora = LoRA over an NF4 base; dora = LoRA with use_dora; adapter = bottleneck adapters)' },
  { name: 'loraR', flag: 'lora-r', kind: 'int', min: 1, def: 8, help: 'LoRA rank r (lora, qlora, dora)' },
  { name: 'loraAlpha', flag: 'lora-alpha', kind: 'number', min: 0, def: 16, help: 'LoRA alpha: the update is scaled by alpha/r (lora, qlora, dora)' },
  { name: 'loraDropout', flag: 'lora-dropout', kind: 'number', min: 0, max: 0.99, def: 0.05, help: 'dropout on the LoRA input (lora, qlora, dora)' },
  { name: 'targetModules', flag: 'target-modules', kind: 'string', help: 'linears to adapt: a comma list of names (a name matches itself or a ".name" suffix), a regex over the full module name (any of *+?()[]{}|^$\\ makes it one), or all-linear (default: PEFT\'s per family — lora gpt2 c_attn, llama q_proj,v_proj; ia3 and adapter: their own)' },
  { name: 'numVirtualTokens', flag: 'num-virtual-tokens', kind: 'int', min: 1, help: 'virtual tokens, which take positions of the model context (prompt, prefix; default 20, at most a quarter of the context)' },
  { name: 'promptInitText', flag: 'prompt-init-text', kind: 'string', help: 'prompt tuning: start the virtual tokens at the embeddings of this text (through the run\'s tokenizer; PEFT\'s prompt_tuning_init TEXT); default random' },
  { name: 'prefixProjection', flag: 'prefix-projection', kind: 'bool', def: false, help: 'prefix tuning: reparameterize the prefix through a 2-layer MLP (the adapter saves the projected table, as PEFT)' },
  { name: 'encoderHiddenSize', flag: 'encoder-hidden-size', kind: 'int', min: 1, help: 'prefix tuning: hidden width of the --prefix-projection MLP (default the model width)' },
  { name: 'bottleneckSize', flag: 'bottleneck-size', kind: 'int', min: 1, help: 'adapter: bottleneck width of each Houlsby adapter (default ⌈width/16⌉)' },
];

/** Names of the method flags (everything but --peft). */
export const PEFT_FLAG_NAMES = PEFT_OPTIONS.map((s) => s.name).filter((n) => n !== 'peft');

/**
 * Method flags set now that do not apply to the chosen --peft are refused (exit 2): silently
 * ignoring `--lora-r 4 --peft prompt` would train something else than asked.
 */
export function checkPeftFlags(o: Record<string, unknown>, explicit: ReadonlySet<string>): void {
  const method = o.peft as PeftMethod;
  for (const name of PEFT_FLAG_NAMES) {
    if (!explicit.has(name)) continue;
    const spec = PEFT_OPTIONS.find((s) => s.name === name)!;
    const ok = APPLIES[name]!;
    if (!ok.includes(method)) throw new CliError(`--${spec.flag} applies to --peft ${ok.join('|')}${method === 'none' ? ', and no --peft was given' : `, not --peft ${method}`}`);
  }
  if (explicit.has('encoderHiddenSize') && o.prefixProjection !== true) throw new CliError('--encoder-hidden-size is the width of the --prefix-projection MLP: add --prefix-projection');
}

/**
 * --target-modules as @llm/peft takes it: 'all-linear'; a regex (when it has a regex metacharacter);
 * else a comma list of module names.
 *
 *   parseTargets('c_attn,mlp.c_proj')  // ['c_attn', 'mlp.c_proj']
 *   parseTargets('.*\\.(q|v)_proj')      // the regex string
 */
export function parseTargets(spec: string): string[] | string {
  const s = spec.trim();
  if (s.toLowerCase() === 'all-linear') return 'all-linear';
  if (/[*+?()[\]{}|^$\\]/.test(s)) {
    try {
      new RegExp(s);
    } catch (e) {
      throw new CliError(`--target-modules ${JSON.stringify(spec)} is not a valid regular expression: ${(e as Error).message}`);
    }
    return s;
  }
  const list = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (list.length === 0) throw new CliError('--target-modules must name at least one module (a comma list, a regex or all-linear)');
  return list;
}

/** Virtual tokens of a prompt/prefix run: --num-virtual-tokens (≤ context − 2), else min(20, ⌊context / 4⌋) (they take positions of the context). */
export function virtualTokens(o: Record<string, unknown>, blockSize: number): number {
  const given = o.numVirtualTokens as number | undefined;
  if (given === undefined) return Math.max(1, Math.min(20, Math.floor(blockSize / 4)));
  if (given > blockSize - 2) throw new CliError(`--num-virtual-tokens ${given} leaves no room in the model's context of ${blockSize} (at most ${blockSize - 2})`);
  return given;
}

/** The @llm/peft config the flags mean, or null for --peft none. `base` is recorded as base_model_name_or_path. */
export function peftConfig(o: Record<string, unknown>, model: ModelConfig, base: string): PeftConfig | null {
  const method = o.peft as PeftMethod;
  const common = { baseModelNameOrPath: base, seed: o.seed as number };
  const targets = typeof o.targetModules === 'string' ? { targetModules: parseTargets(o.targetModules) } : {};
  switch (method) {
    case 'none':
      return null;
    case 'lora':
    case 'qlora':
    case 'dora':
      return { peftType: 'LORA', ...common, r: o.loraR as number, loraAlpha: o.loraAlpha as number, loraDropout: o.loraDropout as number, ...targets, ...(method === 'dora' ? { useDora: true } : {}) };
    case 'ia3':
      return { peftType: 'IA3', ...common, ...targets };
    case 'adapter':
      return { peftType: 'BOTTLENECK_ADAPTER', ...common, ...targets, ...(o.bottleneckSize !== undefined ? { bottleneckSize: o.bottleneckSize as number } : {}) };
    case 'prompt': {
      const text = o.promptInitText as string | undefined;
      return { peftType: 'PROMPT_TUNING', ...common, numVirtualTokens: virtualTokens(o, model.blockSize), promptTuningInit: text ? 'TEXT' : 'RANDOM', ...(text ? { promptTuningInitText: text } : {}) };
    }
    case 'prefix':
      return {
        peftType: 'PREFIX_TUNING', ...common, numVirtualTokens: virtualTokens(o, model.blockSize), prefixProjection: o.prefixProjection === true,
        ...(o.encoderHiddenSize !== undefined ? { encoderHiddenSize: o.encoderHiddenSize as number } : {}),
      };
  }
}

/** getPeftModel with its errors as one usage line naming the method. */
export function buildPeftModel(model: TransformerLM, method: PeftMethod, config: PeftConfig, tokenizer: { encode(text: string): number[] }): PeftModel {
  try {
    return getPeftModel(model, config, { tokenizer });
  } catch (e) {
    if (e instanceof PeftError) throw new CliError(`--peft ${method}: ${oneLine(e.message)}`, e.code === 'UNSUPPORTED' ? 1 : 2);
    throw e;
  }
}

/** Virtual tokens the adapter puts in front of every sequence (prompt / prefix tuning), else 0. */
export function adapterVirtualTokens(peft: PeftModel): number {
  const name = peft.activeAdapter;
  return name === null ? 0 : (peft.tuner(name).virtualTokens ?? 0);
}

/** What `dir/adapter_config.json` says its peft_type is (null when it cannot be read). */
export async function adapterPeftType(dir: string): Promise<string | null> {
  const text = await readFile(join(dir, ADAPTER_CONFIG_NAME), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const t = (JSON.parse(text) as { peft_type?: unknown }).peft_type;
    return typeof t === 'string' ? t : null;
  } catch {
    return null;
  }
}

/** base_model_name_or_path of an adapter directory when it names an existing folder, else null. */
export async function adapterBase(dir: string): Promise<string | null> {
  const text = await readFile(join(dir, ADAPTER_CONFIG_NAME), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const b = (JSON.parse(text) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
    return typeof b === 'string' && b !== '' && (await stat(b).catch(() => null))?.isDirectory() ? b : null;
  } catch {
    return null;
  }
}

/**
 * loadAdapter, with its errors as one CLI line (exit 1) naming the flag. A directory that is not
 * an adapter gets a hint (e.g. --adapter pointing at a full checkpoint).
 *
 * Work-around: @llm/peft's loadAdapter rebuilds a PROMPT_TUNING adapter through its init, and a
 * TEXT init needs a tokenizer that loadAdapter cannot take. Such an adapter is attached here with
 * getPeftModel (any valid token for the init) and its saved prompt_embeddings loaded over it.
 */
export async function attachAdapter(model: TransformerLM, dir: string, opts: { isTrainable?: boolean; what?: string } = {}): Promise<PeftModel> {
  const what = opts.what ?? '--adapter';
  const isDir = (await stat(dir).catch(() => null))?.isDirectory() === true;
  if (!isDir) throw new CliError(`${what} ${dir}: no such adapter directory (an adapter directory holds adapter_config.json and adapter_model.safetensors, e.g. <out>/adapter written by llm-train sft --peft)`, 1);
  try {
    if ((await adapterPeftType(dir)) === 'PROMPT_TUNING' && (await promptInit(dir)) === 'TEXT') return await attachTextPrompt(model, dir, opts.isTrainable ?? false);
    return await loadAdapter(model, dir, { isTrainable: opts.isTrainable ?? false });
  } catch (e) {
    if (e instanceof PeftError) {
      const full = (await stat(join(dir, 'config.json')).catch(() => null))?.isFile() && e.code === 'ADAPTER_NOT_FOUND' ? ' (this is a full model checkpoint, not an adapter: pass it as --checkpoint)' : '';
      throw new CliError(`${what} ${dir}: ${oneLine(e.message)}${full}`, 1);
    }
    throw e;
  }
}

async function promptInit(dir: string): Promise<unknown> {
  try {
    return (JSON.parse(await readFile(join(dir, ADAPTER_CONFIG_NAME), 'utf8')) as { prompt_tuning_init?: unknown }).prompt_tuning_init;
  } catch {
    return null;
  }
}

async function attachTextPrompt(model: TransformerLM, dir: string, trainable: boolean): Promise<PeftModel> {
  const cfgPath = join(dir, ADAPTER_CONFIG_NAME);
  const wPath = join(dir, ADAPTER_WEIGHTS_NAME);
  if (!(await stat(wPath).catch(() => null))?.isFile()) throw new PeftError('ADAPTER_NOT_FOUND', `adapter weights not found: ${wPath}.`);
  let json: unknown;
  try {
    json = parseUntrustedJson(await readFile(cfgPath, 'utf8'), { what: cfgPath });
  } catch (e) {
    throw new PeftError('ADAPTER_INVALID', `${cfgPath} is not valid JSON: ${(e as Error).message}`);
  }
  const config = { ...fromAdapterConfigJson(json, cfgPath), inferenceMode: !trainable } as PeftConfig;
  let file: Awaited<ReturnType<typeof readSafetensors>>;
  try {
    file = await readSafetensors(wPath);
  } catch (e) {
    throw new PeftError('ADAPTER_INVALID', `${wPath} is not a readable safetensors file: ${(e as Error).message}`);
  }
  // the init is overwritten by the saved embeddings: any in-vocabulary token does
  const peft = getPeftModel(model, config, { tokenizer: { encode: () => [0] } });
  const weights = new Map<string, tf.Tensor>();
  try {
    for (const [n, raw] of file.tensors) weights.set(n, rawToTensor(raw));
    peft.tuner(peft.activeAdapter!).loadStateDict(weights);
  } catch (e) {
    peft.deleteAdapter(peft.activeAdapter!);
    throw e;
  } finally {
    tf.dispose([...weights.values()]);
  }
  return peft;
}

/** Whether a peft type can be folded into the base weights (llm-train merge). */
export function mergeable(type: string): { ok: true } | { ok: false; why: string } {
  const why: Partial<Record<PeftType, string>> = {
    BOTTLENECK_ADAPTER: 'a bottleneck adapter adds a small network (down-projection, nonlinearity, up-projection) after its layer; the nonlinearity means no single weight matrix equals it',
    PROMPT_TUNING: 'prompt tuning learns virtual-token embeddings placed in front of every input, not a change to any weight',
    PREFIX_TUNING: 'prefix tuning learns per-layer key/value prefixes fed to attention, not a change to any weight',
  };
  const w = why[type as PeftType];
  return w ? { ok: false, why: w } : { ok: true };
}

const oneLine = (m: string) => m.replace(/\s*\n\s*/g, ' ');
