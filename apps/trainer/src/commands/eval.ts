/**
 * `llm-train eval`: perplexity of a checkpoint on a text file. The file is cut into consecutive
 * windows of blockSize + 1 tokens; every token after the first of each window is scored once.
 *
 *   llm-train eval --data held-out.txt             # the newest model under out/
 *   // 101,245 tokens · loss 1.4821 nats/token · perplexity 4.40 · 2.138 bits/token
 *   llm-train eval --checkpoint out/best --data a.txt b.txt   // a line per file, then the total
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { findModelDir, loadModel, TransformerError, type TransformerLM } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, rangePerplexity, TokenShard, TrainError } from '@llm/train';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';

export const EVAL_SPECS: OptSpec[] = [
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', def: 'out', help: 'checkpoint directory, or a run folder: its newest best/ or checkpoint/ (out/sft/best after llm-train sft)' },
  { name: 'data', flag: 'data', kind: 'paths', help: 'text or JSONL files to score (each on its own, then the total)' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <checkpoint>/tokenizer.json)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 8, help: 'windows per forward pass' },
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

/** "101,245 tokens · loss 1.4821 nats/token · perplexity 4.40 · 2.138 bits/token" */
const describe = (r: { tokens: number; loss: number }) =>
  `${r.tokens.toLocaleString('en-US')} tokens · loss ${r.loss.toFixed(4)} nats/token · perplexity ${Math.exp(r.loss).toFixed(2)} · ${(r.loss / Math.LN2).toFixed(3)} bits/token`;

export function evalCommand(): Command {
  return addOptions(new Command('eval').description('perplexity of a checkpoint on text files'), EVAL_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, EVAL_SPECS);
    if (!o.data) throw new CliError('--data is required');
    await initBackend({ log: false });
    const { model, dir } = await openCheckpoint(o.checkpoint as string);
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(dir, 'tokenizer.json')).catch((e: unknown) => {
      throw new CliError(e instanceof TrainError ? e.message : String(e), 1);
    });
    if (tok.tokenizer.vocabSize !== model.config.vocabSize) throw new CliError(`tokenizer vocabulary ${tok.tokenizer.vocabSize} ≠ model vocabulary ${model.config.vocabSize}: pass the tokenizer the model was trained with`);
    process.stderr.write(`model: ${dir}\n`);
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
      model.dispose();
    }
  });
}
