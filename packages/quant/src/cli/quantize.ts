/**
 * `llm-quant quantize <model-dir> -o <out-dir> --scheme int8|int4|nf4 [--group-size N] [--asymmetric]`
 *
 * Loads a float checkpoint, replaces its linears (all but lm_head) with quantized ones, writes a
 * quantized checkpoint (see checkpoint/quantized-checkpoint.ts) and prints bytes per parameter.
 *
 * Schemes dispatch through QUANTIZE_SCHEMES: adding one (gptq, awq) is one entry there — a
 * function (model, options, context) → report that quantizes the model in place.
 */
import { Command, Option } from 'commander';
import { findModelDir, loadModel, type TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { quantizeModel, type QuantizeReport } from '../modules/quantize-model.js';
import { saveQuantizedModel } from '../checkpoint/quantized-checkpoint.js';

/** What the quantize command parsed. */
export interface QuantizeCommandOptions {
  output: string;
  scheme: string;
  groupSize?: number;
  asymmetric: boolean;
  calibration?: string;
}

/** What a scheme gets besides the options: the model directory (tokenizer, calibration text…). */
export interface QuantizeContext {
  modelDir: string;
}

export type SchemeRunner = (model: TransformerLM, o: QuantizeCommandOptions, ctx: QuantizeContext) => QuantizeReport | Promise<QuantizeReport>;

/** Scheme name → runner. One line per scheme. */
export const QUANTIZE_SCHEMES: Record<string, SchemeRunner> = {
  int8: (m) => quantizeModel(m, { scheme: 'int8' }),
  int4: (m, o) => quantizeModel(m, { scheme: 'int4', groupSize: o.groupSize ?? 128, symmetric: !o.asymmetric }),
  nf4: (m, o) => quantizeModel(m, { scheme: 'nf4', ...(o.groupSize ? { groupSize: o.groupSize } : {}) }),
};

const parseGroup = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2 || n % 2) throw new QuantError('INVALID_ARGUMENT', `--group-size must be an even integer (32, 64 or 128), got "${v}"`);
  return n;
};

/** One line per layer and a total. */
export function formatReport(r: QuantizeReport): string {
  const lines = r.layers.map((l) => `  ${l.name}  ${l.parameters} params  ${l.bytes} bytes  ${l.bytesPerParam.toFixed(4)} B/param`);
  lines.push(`total: ${r.layers.length} linears, ${r.total.parameters} params, ${r.total.bytes} bytes, ${r.total.bytesPerParam.toFixed(4)} bytes/param (${(r.total.bytesPerParam * 8).toFixed(2)} bits); kept in float: ${r.skipped.join(', ') || 'none'}`);
  return lines.join('\n') + '\n';
}

export function quantizeCommand(): Command {
  return new Command('quantize')
    .description('Quantize a checkpoint\'s linear layers (weight-only) and write a quantized checkpoint.')
    .argument('<model-dir>', 'checkpoint directory (or a run folder)')
    .requiredOption('-o, --output <dir>', 'directory to write')
    .addOption(new Option('--scheme <scheme>', 'quantization scheme').choices(Object.keys(QUANTIZE_SCHEMES)).makeOptionMandatory())
    .option('--group-size <n>', 'int4: input columns per group (default 128); nf4: block size (default 64)', parseGroup)
    .option('--asymmetric', 'int4: asymmetric groups with zero points', false)
    .action(async (dirArg: string, o: QuantizeCommandOptions) => {
      const run = QUANTIZE_SCHEMES[o.scheme];
      if (!run) throw new QuantError('INVALID_ARGUMENT', `unknown scheme "${o.scheme}"; use one of ${Object.keys(QUANTIZE_SCHEMES).join(', ')}`);
      const dir = await findModelDir(dirArg);
      const t0 = performance.now();
      const model = await loadModel(dir);
      try {
        const report = await run(model, o, { modelDir: dir });
        await saveQuantizedModel(model, o.output, { copyFrom: dir });
        process.stdout.write(formatReport(report));
        process.stdout.write(`wrote ${o.output} (${o.scheme}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      } finally {
        for (const n of model.linearNames()) {
          const m = model.getModule(n) as { dispose?: () => void };
          if (typeof m.dispose === 'function') m.dispose();
        }
        model.dispose();
      }
    });
}
