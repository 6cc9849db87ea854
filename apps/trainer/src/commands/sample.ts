/**
 * `llm-train sample`: quick generation from a checkpoint.
 *
 *   llm-train sample --checkpoint out/best --prompt "ROMEO:" --max-tokens 200 --temperature 0.8 --top-k 40
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { resolveTokenizer } from '@llm/train';
import { addOptions, resolveOptions, type OptSpec } from '../options.js';
import { generateText } from '../generate.js';
import { openCheckpoint } from './eval.js';

export const SAMPLE_SPECS: OptSpec[] = [
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', def: 'out/best', help: 'checkpoint directory' },
  { name: 'tokenizer', flag: 'tokenizer', kind: 'string', help: 'tokenizer file or "byte" (default <checkpoint>/tokenizer.json)' },
  { name: 'prompt', flag: 'prompt', kind: 'string', def: '\n', help: 'text to continue' },
  { name: 'maxTokens', flag: 'max-tokens', kind: 'int', min: 1, def: 200, help: 'tokens to generate' },
  { name: 'temperature', flag: 'temperature', kind: 'number', min: 0, def: 0.8, help: 'softmax temperature (0 = greedy)' },
  { name: 'topK', flag: 'top-k', kind: 'int', min: 0, def: 40, help: 'sample among the k most likely (0 = all)' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: 1, help: 'sampling seed' },
];

export function sampleCommand(): Command {
  return addOptions(new Command('sample').description('generate text from a checkpoint'), SAMPLE_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, SAMPLE_SPECS);
    await initBackend({ log: false });
    const dir = o.checkpoint as string;
    const model = await openCheckpoint(dir);
    const tok = await resolveTokenizer((o.tokenizer as string | undefined) ?? join(dir, 'tokenizer.json'));
    const prompt = o.prompt as string;
    process.stdout.write(prompt);
    for (const piece of generateText(model, tok.tokenizer, prompt, { maxTokens: o.maxTokens as number, temperature: o.temperature as number, topK: o.topK as number, seed: o.seed as number })) {
      process.stdout.write(piece);
    }
    process.stdout.write('\n');
    model.dispose();
  });
}
