/**
 * `llm-train sample`: quick generation from a checkpoint, through @llm/sample's `stream` (seeded,
 * KV cache, text streamed without splitting a character; stops at the model's EOS ids, which are
 * not printed) on @llm/infer's WebAssembly engine (`--engine tfjs`: the training model). `writeSample` is also what `llm-train start` prints its sample with.
 *
 *   llm-train sample --prompt "Once upon a time"      # the newest model under out/
 *   llm-train sample --checkpoint out/best --prompt "ROMEO:" --max-tokens 200 --temperature 0.8 --top-k 40
 */
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { promptRoom, stream, type CausalLMLike } from '@llm/sample';
import type { Tokenizer } from '@llm/tokenizer-bpe';
import { TransformerLM } from '@llm/transformer';
import { compileOrFallback } from '@llm/infer';
import { resolveTokenizer } from '@llm/train';
import { addOptions, explicitOptions, resolveOptions, type OptSpec } from '../options.js';
import { ADAPTER_HELP, openModel } from './eval.js';

export const SAMPLE_SPECS: OptSpec[] = [
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', def: 'out', help: 'checkpoint directory, or a run folder: its newest best/ or checkpoint/' },
  { name: 'adapter', flag: 'adapter', kind: 'string', help: ADAPTER_HELP },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <adapter>/tokenizer.json, else <checkpoint>/tokenizer.json)' },
  { name: 'prompt', flag: 'prompt', kind: 'string', def: '\n', help: 'text to continue' },
  { name: 'maxTokens', flag: 'max-tokens', kind: 'int', min: 1, def: 200, help: 'tokens to generate' },
  { name: 'temperature', flag: 'temperature', kind: 'number', min: 0, def: 0.8, help: 'softmax temperature (0 = greedy)' },
  { name: 'topK', flag: 'top-k', kind: 'int', min: 0, def: 40, help: 'sample among the k most likely (0 = all)' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1, help: 'sampling seed' },
  { name: 'engine', flag: 'engine', kind: 'enum', values: ['infer', 'tfjs'], def: 'infer', help: 'infer: @llm/infer\'s WebAssembly engine (models with an unmerged adapter run on tfjs); tfjs: the training model' },
];

export function sampleCommand(): Command {
  return addOptions(new Command('sample').description('generate text from a checkpoint'), SAMPLE_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, SAMPLE_SPECS);
    await initBackend({ log: false });
    const opened = await openModel(o, await explicitOptions(cmd, SAMPLE_SPECS));
    let disposeEngine = () => {};
    try {
      const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? opened.tokenizer);
      const run = o.engine === 'infer' && opened.model instanceof TransformerLM ? compileOrFallback(opened.model) : { lm: opened.model, engine: null };
      disposeEngine = () => run.engine?.dispose();
      await writeSample(run.lm, tok.tokenizer, o.prompt as string, { maxTokens: o.maxTokens as number, temperature: o.temperature as number, topK: o.topK as number, seed: o.seed as number });
    } finally {
      disposeEngine();
      opened.dispose();
    }
  });
}

export interface SampleSettings {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k cut. */
  topK: number;
  seed: number;
}

/**
 * Print `prompt`, then its continuation as it is generated, then a newline. The prompt keeps its
 * last tokens when it would leave no room in the context; an empty one starts from a newline.
 */
export async function writeSample(model: CausalLMLike, tokenizer: Tokenizer, prompt: string, o: SampleSettings): Promise<void> {
  const ctx = model.config.blockSize;
  let ids = tokenizer.encodeOrdinary(prompt); // a prompt is text: '<|endoftext|>' typed in it is not a control token
  if (ids.length === 0) ids = [tokenizer.encode('\n')[0] ?? 0];
  ids = ids.slice(-promptRoom(ctx, o.maxTokens)); // its tail, leaving the reply room (never one token of prompt)
  process.stdout.write(prompt);
  for await (const { text, finish } of stream(model, ids, { tokenizer, maxNewTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, seed: o.seed })) {
    if (finish !== 'eos') process.stdout.write(text);
  }
  process.stdout.write('\n');
}
