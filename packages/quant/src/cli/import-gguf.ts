/**
 * `llm-quant import-gguf <file.gguf> -o <model-dir>`: a GGUF (gpt2 / llama) → an HF checkpoint
 * directory (config.json, model.safetensors, tokenizer.json, chat_template.jinja).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend, writeFileAtomic } from '@llm/tensor-gpu';
import { saveTokenizer } from '@llm/tokenizer-bpe';
import { importGguf } from '../gguf/import.js';

export function importGgufCommand(): Command {
  return new Command('import-gguf')
    .description('Turn a GGUF file (gpt2 or llama; F32/F16/Q8_0/Q4_0/Q4_1 tensors, dequantized) into a checkpoint directory.')
    .argument('<file>', 'GGUF file')
    .requiredOption('-o, --output <dir>', 'checkpoint directory to write')
    .action(async (file: string, o: { output: string }) => {
      await initBackend();
      const { model, tokenizer, chatTemplate } = await importGguf(file);
      try {
        await mkdir(o.output, { recursive: true });
        await model.save(o.output);
        if (tokenizer) await saveTokenizer(join(o.output, 'tokenizer.json'), tokenizer.definition, 'hf');
        if (chatTemplate !== null) await writeFileAtomic(join(o.output, 'chat_template.jinja'), new TextEncoder().encode(chatTemplate));
        process.stdout.write(`wrote ${o.output} (${model.config.family}, ${model.config.nLayer} layers${tokenizer ? '' : ', no tokenizer: the file had ids-only metadata'})\n`);
      } finally {
        model.dispose();
      }
    });
}
