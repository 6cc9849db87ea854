/**
 * `llm-train merge`: fold a LoRA / DoRA / IA3 adapter into its base model and write a plain, full
 * checkpoint (HF layout: config.json, model.safetensors, generation_config.json, tokenizer.json)
 * that runs with no adapter and no overhead.
 *
 *   llm-train merge --init out/best --adapter out/lora/adapter --out out/lora/merged
 *   llm-train eval --checkpoint out/lora/merged --data held-out.txt   # = eval --adapter on the base
 *
 * Bottleneck adapters, prompt tuning and prefix tuning add computation rather than change weights:
 * they cannot be merged (exit 1, saying why).
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { summarize } from '@llm/transformer';
import { PeftError } from '@llm/peft';
import { addOptions, explicitOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { adapterBase, adapterPeftType, attachAdapter, mergeable } from '../peft.js';
import { openCheckpoint } from './eval.js';

export const MERGE_SPECS: OptSpec[] = [
  { name: 'init', flag: 'init', kind: 'string', def: 'out', help: "the base checkpoint the adapter was trained on, or a run folder: its newest best/ or checkpoint/ (default: the adapter's base_model_name_or_path when that folder exists, else out)" },
  { name: 'adapter', flag: 'adapter', kind: 'string', help: 'adapter directory (llm-train sft --peft writes <out>/adapter; an HF PEFT LoRA / DoRA / IA3 adapter works too)' },
  { name: 'out', flag: 'out', kind: 'string', def: 'out/merged', help: 'where the merged checkpoint goes (must be empty or new unless --force)' },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'write into an --out that already holds files (same-named files are replaced)' },
];

export function mergeCommand(): Command {
  return addOptions(new Command('merge').description('merge a LoRA / DoRA / IA3 adapter into its base model: a full checkpoint that runs without the adapter'), MERGE_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, MERGE_SPECS);
    await merge(o, await explicitOptions(cmd, MERGE_SPECS));
  });
}

const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() === true;
const isFile = async (p: string) => (await stat(p).catch(() => null))?.isFile() === true;

export async function merge(o: Record<string, unknown>, explicit: ReadonlySet<string>): Promise<void> {
  const log = (s: string) => void process.stderr.write(`${s}\n`);
  const adapter = o.adapter as string | undefined;
  if (!adapter) throw new CliError('--adapter is required (the adapter directory to merge, e.g. out/sft/adapter)');
  const out = o.out as string;
  // everything that can be checked without loading a model, first
  if (!(await isDir(adapter))) throw new CliError(`--adapter ${adapter}: no such adapter directory (an adapter directory holds adapter_config.json and adapter_model.safetensors, e.g. <out>/adapter written by llm-train sft --peft)`, 1);
  const type = await adapterPeftType(adapter);
  if (type !== null) {
    const m = mergeable(type);
    if (!m.ok) throw new CliError(`--adapter ${adapter} is a ${type} adapter, which cannot be merged into the base weights: ${m.why}. Run it attached instead (llm-train sample|eval --adapter ${adapter})`, 1);
  }
  const outStat = await stat(out).catch(() => null);
  if (outStat && !outStat.isDirectory()) throw new CliError(`--out ${out} is a file, not a folder; choose another --out`);
  if (outStat && (await readdir(out)).length > 0 && o.force !== true) throw new CliError(`--out ${out} already holds files: choose another --out, or add --force to write into it`);
  const init = explicit.has('init') ? (o.init as string) : ((await adapterBase(adapter)) ?? (o.init as string));
  await initBackend({ log: false });
  const { model, dir } = await openCheckpoint(init);
  if ([resolve(dir), resolve(adapter)].includes(resolve(out))) {
    model.dispose();
    throw new CliError(`--out ${out} is the ${resolve(out) === resolve(dir) ? 'base checkpoint' : 'adapter'} itself; write the merged model to another folder`);
  }
  const peft = await attachAdapter(model, adapter);
  let merged;
  try {
    merged = peft.mergeAndUnload();
  } catch (e) {
    peft.dispose();
    if (e instanceof PeftError) throw new CliError(`cannot merge ${adapter}: ${e.message.replace(/\s*\n\s*/g, ' ')}`, 1);
    throw e;
  }
  try {
    await mkdir(out, { recursive: true });
    await merged.save(out);
    // the base's generation defaults as the base has them (byte for byte), and the run's tokenizer
    if (await isFile(join(dir, 'generation_config.json'))) await copyFile(join(dir, 'generation_config.json'), join(out, 'generation_config.json'));
    const tokSrc = (await isFile(join(adapter, 'tokenizer.json'))) ? join(adapter, 'tokenizer.json') : (await isFile(join(dir, 'tokenizer.json'))) ? join(dir, 'tokenizer.json') : null;
    if (tokSrc) await copyFile(tokSrc, join(out, 'tokenizer.json'));
    log(`model: ${summarize(merged)} · base ${dir} + ${type ?? 'adapter'} ${adapter}`);
    const files = (await readdir(out)).sort().join(', ');
    log(`wrote ${out}: the merged model (${files}${tokSrc ? `; tokenizer from ${tokSrc}` : ''}) — llm-train sample --checkpoint ${out}`);
  } finally {
    merged.dispose();
  }
}
