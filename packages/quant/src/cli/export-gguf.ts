/**
 * `llm-quant export-gguf <model-dir> -o <file.gguf> --type f32|f16|q8_0|q4_0|q4_1|q4_k_m [--ids-only]`
 */
import { initBackend } from '@llm/tensor-gpu';
import { Command, Option } from 'commander';
import { QuantError } from '../errors.js';
import { exportGguf, GGUF_EXPORT_TYPES, type GgufExportType } from '../gguf/export.js';

export function exportGgufCommand(): Command {
  return new Command('export-gguf')
    .description('Write a checkpoint directory (config.json, model.safetensors, tokenizer.json) as a GGUF file llama.cpp runs.')
    .argument('<model-dir>', 'checkpoint directory')
    .requiredOption('-o, --output <file>', 'GGUF file to write')
    .addOption(new Option('--type <type>', 'tensor type of the weight matrices').choices([...GGUF_EXPORT_TYPES]).default('f32'))
    .option('--ids-only', 'export without tokenizer metadata (for a directory without tokenizer.json)', false)
    .action(async (dir: string, o: { output: string; type: GgufExportType; idsOnly: boolean }) => {
      if (!o.output.endsWith('.gguf')) throw new QuantError('INVALID_ARGUMENT', `export-gguf: the output file should end in .gguf, got "${o.output}"`);
      await initBackend();
      const t0 = performance.now();
      await exportGguf(dir, o.output, { type: o.type, idsOnly: o.idsOnly });
      process.stdout.write(`wrote ${o.output} (${o.type}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
