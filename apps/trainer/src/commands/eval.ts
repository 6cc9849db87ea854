/**
 * `llm-train eval`: perplexity of a checkpoint on a text file. The file is cut into consecutive
 * windows of blockSize + 1 tokens; every token after the first of each window is scored once.
 *
 *   llm-train eval --checkpoint out/best --data held-out.txt
 *   // 101,245 tokens · loss 1.4821 nats/token · perplexity 4.40 · 2.138 bits/token
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { loadModel, TransformerError, type TransformerLM } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, rangePerplexity, TokenShard, TrainError } from '@llm/train';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';

export const EVAL_SPECS: OptSpec[] = [
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', def: 'out/best', help: 'checkpoint directory' },
  { name: 'data', flag: 'data', kind: 'paths', help: 'text or JSONL files to score' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <checkpoint>/tokenizer.json)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 8, help: 'windows per forward pass' },
];

/** loadModel with errors turned into one CLI line. */
export async function openCheckpoint(dir: string): Promise<TransformerLM> {
  try {
    return await loadModel(dir);
  } catch (e) {
    if (e instanceof TransformerError) throw new CliError(`cannot load checkpoint ${dir}: ${e.message}`, 1);
    throw e;
  }
}

export function evalCommand(): Command {
  return addOptions(new Command('eval').description('perplexity of a checkpoint on text files'), EVAL_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, EVAL_SPECS);
    if (!o.data) throw new CliError('--data is required');
    await initBackend({ log: false });
    const dir = o.checkpoint as string;
    const model = await openCheckpoint(dir);
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(dir, 'tokenizer.json')).catch((e: unknown) => {
      throw new CliError(e instanceof TrainError ? e.message : String(e), 1);
    });
    if (tok.tokenizer.vocabSize !== model.config.vocabSize) throw new CliError(`tokenizer vocabulary ${tok.tokenizer.vocabSize} ≠ model vocabulary ${model.config.vocabSize}: pass the tokenizer the model was trained with`);
    const tmp = await mkdtemp(join(tmpdir(), 'llm-eval-'));
    try {
      await writeTokenShard(join(tmp, 'eval'), o.data as string[], tok);
      const shard = await TokenShard.open(join(tmp, 'eval'));
      const r = rangePerplexity(model, { shard, start: 0, end: shard.count }, { batchSize: o.batchSize as number });
      process.stdout.write(`${r.tokens.toLocaleString('en-US')} tokens · loss ${r.loss.toFixed(4)} nats/token · perplexity ${r.perplexity.toFixed(2)} · ${(r.loss / Math.LN2).toFixed(3)} bits/token\n`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
      model.dispose();
    }
  });
}
