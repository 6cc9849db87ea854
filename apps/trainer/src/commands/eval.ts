/**
 * `llm-train eval`: perplexity of a checkpoint on a text file (--data), or task evaluation (--task,
 * see eval-tasks.ts). For perplexity the file is cut into consecutive windows of blockSize + 1
 * tokens; every token after the first of each window is scored once.
 *
 *   llm-train eval --data held-out.txt             # the newest model under out/
 *   // 101,245 tokens · loss 1.4821 nats/token · perplexity 4.40 · 2.138 bits/token
 *   llm-train eval --checkpoint out/best --data a.txt b.txt   // a line per file, then the total
 *   llm-train eval --task tasks/arithmetic-mc.jsonl --shots 3 --out results.json   // acc, acc_norm table
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { findModelDir, loadModel, TransformerError, type CausalLM, type TransformerLM } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, rangePerplexity, TokenShard, TrainError } from '@llm/train';
import type { PeftModel } from '@llm/peft';
import { addOptions, explicitOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { adapterBase, adapterVirtualTokens, attachAdapter } from '../peft.js';
import { evalTasks } from './eval-tasks.js';

/** --adapter of eval and sample. */
export const ADAPTER_HELP = "PEFT adapter directory (what llm-train sft --peft writes to <out>/adapter, or an HF PEFT one) to run on top of --checkpoint, which then defaults to the adapter's base_model_name_or_path when that folder exists";

export const EVAL_SPECS: OptSpec[] = [
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', def: 'out', help: 'checkpoint directory, or a run folder: its newest best/ or checkpoint/ (out/sft/best after llm-train sft)' },
  { name: 'data', flag: 'data', kind: 'paths', help: 'text or JSONL files to score (each on its own, then the total)' },
  { name: 'adapter', flag: 'adapter', kind: 'string', help: ADAPTER_HELP },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <adapter>/tokenizer.json, else <checkpoint>/tokenizer.json)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 8, help: 'windows (--data) or log-likelihood requests (--task) per forward pass' },
  { name: 'task', flag: 'task', kind: 'paths', help: 'task files (JSONL: multiple choice scored by log-likelihood, acc / acc_norm; or generation scored by exact match) instead of --data' },
  { name: 'shots', flag: 'shots', kind: 'int', min: 0, def: 0, help: '--task: solved examples from the task file in front of each item' },
  { name: 'limit', flag: 'limit', kind: 'int', min: 1, help: '--task: score only the first n items of each task' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1234, help: '--task: seed of the few-shot draw' },
  { name: 'out', flag: 'out', kind: 'string', help: '--task: write the results (and each item\'s prompt, scores and prediction) as JSON to this file' },
];

/** The model a --checkpoint means (findModelDir), loaded, with errors turned into one CLI line. */
export async function openCheckpoint(path: string): Promise<{ model: TransformerLM; dir: string }> {
  try {
    const dir = await findModelDir(path);
    return { model: await loadModel(dir), dir };
  } catch (e) {
    if (e instanceof TransformerError) throw new CliError(e.code === 'CHECKPOINT_INVALID' && /^no model in/.test(e.message) ? e.message : `cannot load checkpoint ${path}: ${e.message}`, 1);
    throw e;
  }
}

export interface OpenedModel {
  /** The model to run: the checkpoint, or the checkpoint with the adapter attached (its context shortened by a prompt's virtual tokens). */
  model: CausalLM;
  /** The checkpoint directory read. */
  dir: string;
  /** Where the tokenizer is by default: <adapter>/tokenizer.json when there is one, else <checkpoint>/tokenizer.json. */
  tokenizer: string;
  /** "out/best" or "out/best + adapter out/lora/adapter". */
  label: string;
  dispose(): void;
}

/**
 * --checkpoint, with --adapter attached when given (inference). Without an explicit --checkpoint,
 * an adapter's base_model_name_or_path (llm-train sft records the --init it trained on) is the base.
 */
export async function openModel(o: Record<string, unknown>, explicit: ReadonlySet<string>): Promise<OpenedModel> {
  const adapter = o.adapter as string | undefined;
  const base = adapter && !explicit.has('checkpoint') ? ((await adapterBase(adapter)) ?? (o.checkpoint as string)) : (o.checkpoint as string);
  if (adapter && !(await stat(adapter).catch(() => null))?.isDirectory()) throw new CliError(`--adapter ${adapter}: no such adapter directory (an adapter directory holds adapter_config.json and adapter_model.safetensors, e.g. <out>/adapter written by llm-train sft --peft)`, 1);
  const { model, dir } = await openCheckpoint(base);
  if (!adapter) return { model, dir, tokenizer: join(dir, 'tokenizer.json'), label: dir, dispose: () => model.dispose() };
  let peft: PeftModel;
  try {
    peft = await attachAdapter(model, adapter);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const own = join(adapter, 'tokenizer.json');
  return { model: withContext(peft), dir, tokenizer: (await stat(own).catch(() => null))?.isFile() ? own : join(dir, 'tokenizer.json'), label: `${dir} + adapter ${adapter}`, dispose: () => peft.dispose() };
}

/**
 * A prompt-learning adapter puts virtual tokens in front of every sequence, in the same context:
 * the model as callers see it has that much less room (blockSize − P), so windows and generation fit.
 */
function withContext(peft: PeftModel): CausalLM {
  const P = adapterVirtualTokens(peft);
  if (P === 0) return peft;
  const config = { ...peft.config, blockSize: peft.config.blockSize - P };
  return {
    config,
    generationConfig: peft.generationConfig,
    forward: (ids, opts) => peft.forward(ids, opts),
    createCache: (batch, maxLen) => peft.createCache(batch, maxLen ?? config.blockSize),
  };
}

/** "101,245 tokens · loss 1.4821 nats/token · perplexity 4.40 · 2.138 bits/token" */
const describe = (r: { tokens: number; loss: number }) =>
  `${r.tokens.toLocaleString('en-US')} tokens · loss ${r.loss.toFixed(4)} nats/token · perplexity ${Math.exp(r.loss).toFixed(2)} · ${(r.loss / Math.LN2).toFixed(3)} bits/token`;

export function evalCommand(): Command {
  return addOptions(new Command('eval').description('perplexity of a checkpoint on text files (--data), or accuracy on task files (--task)'), EVAL_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, EVAL_SPECS);
    if (!o.data && !o.task) throw new CliError('--data (perplexity) or --task (task evaluation) is required');
    if (o.data && o.task) throw new CliError('pass --data (perplexity) or --task (task evaluation), not both');
    if (!o.task) for (const k of ['limit', 'out'] as const) if (o[k] !== undefined) throw new CliError(`--${k} applies to --task only`);
    await initBackend({ log: false });
    const opened = await openModel(o, await explicitOptions(cmd, EVAL_SPECS));
    const { model } = opened;
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? opened.tokenizer).catch((e: unknown) => {
      opened.dispose();
      throw new CliError(e instanceof TrainError ? e.message : String(e), 1);
    });
    if (tok.tokenizer.vocabSize !== model.config.vocabSize) {
      opened.dispose();
      throw new CliError(`tokenizer vocabulary ${tok.tokenizer.vocabSize} ≠ model vocabulary ${model.config.vocabSize}: pass the tokenizer the model was trained with`);
    }
    process.stderr.write(`model: ${opened.label}\n`);
    if (o.task) {
      try {
        await evalTasks(model, tok.tokenizer, o, opened.label);
      } finally {
        opened.dispose();
      }
      return;
    }
    const files = o.data as string[];
    const tmp = await mkdtemp(join(tmpdir(), 'llm-eval-'));
    try {
      let tokens = 0;
      let nats = 0;
      for (const [i, file] of files.entries()) {
        await writeTokenShard(join(tmp, `eval-${i}`), [file], tok);
        const shard = await TokenShard.open(join(tmp, `eval-${i}`));
        const r = rangePerplexity(model, { shard, start: 0, end: shard.count }, { batchSize: o.batchSize as number });
        tokens += r.tokens;
        nats += r.loss * r.tokens;
        process.stdout.write(files.length > 1 ? `${file}: ${describe(r)}\n` : `${describe(r)}\n`);
      }
      if (files.length > 1) process.stdout.write(`total: ${describe({ tokens, loss: nats / tokens })}\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
      opened.dispose();
    }
  });
}
