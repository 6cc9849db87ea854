/**
 * The setup module of `llm-train`'s data-parallel runs (built as dist/parallel-setup.js; @llm/train's
 * trainParallel imports it in every worker thread, after the worker's backend is up). It rebuilds
 * the run the main thread checked — through the same functions the in-process run uses
 * (buildPretrainRun, buildSftRun) — with this worker's share of each micro-batch.
 *
 *   await trainParallel({ setup: 'dist/parallel-setup.js', args: { command: 'pretrain', options, trainBatchSize: 6 }, workers: 2, config });
 */
import { join } from 'node:path';
import { TokenShard, loadTrainingCheckpoint, resolveTokenizer, type ReplicaSetup, type SetupContext } from '@llm/train';
import type { ParallelArgs } from './run.js';
import { buildPretrainRun } from './commands/pretrain.js';
import { buildSftRun, loadTemplate, readSftRecords } from './commands/sft.js';

const quiet = () => {};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function setup(args: ParallelArgs, _ctx: SetupContext): Promise<ReplicaSetup<any>> {
  const o = args.options;
  const out = o.out as string;
  if (args.command === 'pretrain') {
    // the main thread resolved the tokenizer (o.tokenizer) and wrote the token shard
    const tok = await resolveTokenizer(o.tokenizer as string, o.data as string[]);
    const shard = await TokenShard.open(join(out, 'data', 'tokens'));
    const resumed = o.resume ? await loadTrainingCheckpoint(join(out, 'checkpoint')) : null;
    const { model, data, teacher } = await buildPretrainRun(o, { tok, shard, resumed, trainBatchSize: args.trainBatchSize });
    return { model, data, ...(teacher ? { teacher } : {}), ...(resumed ? { resume: resumed } : {}), tokenizer: tok.definition, tokenizerHash: tok.hash };
  }
  if (args.command === 'sft') {
    const template = await loadTemplate(o.template as string);
    const records = await readSftRecords(o.data as string[]);
    const { model, data, tok, resumed } = await buildSftRun(o, { template, records, log: quiet, trainBatchSize: args.trainBatchSize });
    return { model, data, ...(resumed ? { resume: resumed } : {}), tokenizer: tok.definition, tokenizerHash: tok.hash };
  }
  throw new Error(`parallel-setup: unknown command ${JSON.stringify(args.command)}`);
}
