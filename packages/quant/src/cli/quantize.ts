/**
 * `llm-quant quantize <model-dir> -o <out-dir> --scheme int8|int4|nf4|gptq|awq [--group-size N] [--asymmetric]
 *     [--calibration FILE] [--act-order] [--no-clip]`
 *
 * Loads a float checkpoint, replaces its linears (all but lm_head) with quantized ones, writes a
 * quantized checkpoint and prints bytes per parameter. int8/int4/nf4 write the llm-ts layout
 * (checkpoint/quantized-checkpoint.ts); gptq and awq need --calibration (text encoded with
 * <model-dir>/tokenizer.json) and write the HF/AutoGPTQ GPTQ layout (gptq/checkpoint.ts). AWQ
 * groups whose scales cannot be folded into a norm are quantized without AWQ scales (s = 1, and
 * listed), since that layout holds no per-input scale; AWQ's weight-clipping search runs on every
 * linear but c_attn / q_proj / k_proj unless --no-clip.
 *
 * Schemes dispatch through QUANTIZE_SCHEMES: adding one is one entry there — a function
 * (model, options, context) → { report, save, notes } that quantizes the model in place and
 * brings its own save.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { Tokenizer, loadTokenizer } from '@llm/tokenizer-bpe';
import { findModelDir, loadModel, type TransformerLM } from '@llm/transformer';
import { QuantError } from '../errors.js';
import { quantizeModel, type LayerReport, type QuantizeReport } from '../modules/quantize-model.js';
import { saveQuantizedModel } from '../checkpoint/quantized-checkpoint.js';
import { gptqQuantizeModel, type GptqQuantizationConfig } from '../gptq/model.js';
import { saveGptqCheckpoint } from '../gptq/checkpoint.js';
import { GptqLinear } from '../gptq/module.js';
import { awqQuantizeModel } from '../awq/awq.js';
import type { CalibrationOptions } from '../gptq/calibrate.js';

/** What the quantize command parsed. */
export interface QuantizeCommandOptions {
  output: string;
  scheme: string;
  groupSize?: number;
  asymmetric: boolean;
  calibration?: string;
  actOrder: boolean;
  /** awq: AWQ's weight-clipping search (commander's --no-clip sets false). Default true. */
  clip?: boolean;
}

/** What a scheme gets besides the options: the model directory (tokenizer, calibration text…). */
export interface QuantizeContext {
  modelDir: string;
}

/** Per-linear bytes and a total, as printed (QuantizeReport without its scheme). */
export type PrintedReport = Pick<QuantizeReport, 'layers' | 'skipped' | 'total'>;

/** What a scheme hands back: its report, how it saves the quantized model, and optional notes to print. */
export interface SchemeResult {
  report: PrintedReport;
  save: (outDir: string) => Promise<void>;
  notes?: string[];
}

export type SchemeRunner = (model: TransformerLM, o: QuantizeCommandOptions, ctx: QuantizeContext) => SchemeResult | Promise<SchemeResult>;

/** Round-to-nearest schemes: quantizeModel's report, saved by saveQuantizedModel. */
const rtn = (f: (m: TransformerLM, o: QuantizeCommandOptions) => QuantizeReport): SchemeRunner => (m, o, ctx) => ({
  report: f(m, o),
  save: (out) => saveQuantizedModel(m, out, { copyFrom: ctx.modelDir }),
});

/** The calibration of GPTQ/AWQ: --calibration's text through <model-dir>/tokenizer.json. */
async function calibration(o: QuantizeCommandOptions, ctx: QuantizeContext): Promise<CalibrationOptions> {
  if (!o.calibration) throw new QuantError('INVALID_ARGUMENT', `--scheme ${o.scheme} needs --calibration FILE (a text file of representative text).`);
  const text = await readFile(o.calibration, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new QuantError('INVALID_ARGUMENT', `--calibration ${o.calibration}: cannot read it (${e.code ?? e.message}).`);
  });
  const tokPath = join(ctx.modelDir, 'tokenizer.json');
  if (!(await stat(tokPath).catch(() => null))?.isFile()) throw new QuantError('INVALID_ARGUMENT', `--scheme ${o.scheme} encodes the calibration text with the model's tokenizer, and ${tokPath} does not exist.`);
  return { tokenizer: new Tokenizer(await loadTokenizer(tokPath)), texts: [text] };
}

/** Bytes per parameter of the packed GPTQ layout (qweight + qzeros + scales + g_idx + bias) per GptqLinear. */
export function gptqReport(model: TransformerLM): PrintedReport {
  const layers: LayerReport[] = [];
  const skipped: string[] = [];
  for (const name of model.linearNames()) {
    const m = model.getModule(name);
    if (!(m instanceof GptqLinear)) {
      skipped.push(name);
      continue;
    }
    const parameters = m.inFeatures * m.outFeatures;
    const bytes = m.byteSize();
    layers.push({ name, scheme: 'int4', parameters, bytes, bytesPerParam: bytes / parameters });
  }
  const parameters = layers.reduce((a, l) => a + l.parameters, 0);
  const bytes = layers.reduce((a, l) => a + l.bytes, 0);
  return { layers, skipped, total: { parameters, bytes, bytesPerParam: parameters ? bytes / parameters : 0 } };
}

/** Scheme name → runner. One entry per scheme; each brings its own save. */
export const QUANTIZE_SCHEMES: Record<string, SchemeRunner> = {
  int8: rtn((m) => quantizeModel(m, { scheme: 'int8' })),
  int4: rtn((m, o) => quantizeModel(m, { scheme: 'int4', groupSize: o.groupSize ?? 128, symmetric: !o.asymmetric })),
  nf4: rtn((m, o) => quantizeModel(m, { scheme: 'nf4', ...(o.groupSize ? { groupSize: o.groupSize } : {}) })),
  gptq: async (m, o, ctx) => {
    const r = gptqQuantizeModel(m, { groupSize: o.groupSize ?? 128, actOrder: o.actOrder, calibration: await calibration(o, ctx) });
    return {
      report: gptqReport(m),
      save: (out) => saveGptqCheckpoint(m, out, r.config, { copyFrom: ctx.modelDir }),
      notes: [`gptq: ${r.samples} calibration sequences, group size ${r.config.group_size}, act-order ${r.config.desc_act}`],
    };
  },
  awq: async (m, o, ctx) => {
    const groupSize = o.groupSize ?? 128;
    // Groups whose 1/s cannot be folded into a norm go round-to-nearest, so the model saves in the GPTQ layout.
    const clip = o.clip !== false;
    const r = awqQuantizeModel(m, { groupSize, calibration: await calibration(o, ctx), unfoldable: 'rtn', clip });
    const kept = r.groups.filter((g) => g.rtn).flatMap((g) => g.names);
    const clipped = r.groups.flatMap((g) => g.clipped ?? []);
    const config: GptqQuantizationConfig = {
      quant_method: 'gptq', bits: 4, group_size: groupSize, desc_act: false, sym: false, damp_percent: 0.01,
      true_sequential: true, static_groups: false, checkpoint_format: 'gptq',
    };
    return {
      report: gptqReport(m),
      save: (out) => saveGptqCheckpoint(m, out, config, { copyFrom: ctx.modelDir }),
      notes: [
        `awq: ${r.samples} calibration sequences; AWQ scales folded into ${r.groups.filter((g) => g.folded).map((g) => g.folded).join(', ') || 'no norm'}`,
        `awq: without AWQ scales, round-to-nearest int4${clip ? ' after clipping' : ''} (their scales cannot be folded into a norm, and the GPTQ layout holds no input scale): ${kept.join(', ') || 'none'}`,
        clip ? `awq: weights clipped (AWQ's clipping search; q/k and c_attn never are): ${clipped.join(', ') || 'none'}` : 'awq: no clipping search (--no-clip)',
      ],
    };
  },
};

const parseGroup = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 2 || n % 2) throw new QuantError('INVALID_ARGUMENT', `--group-size must be an even integer (32, 64 or 128), got "${v}"`);
  return n;
};

/** One line per layer and a total. */
export function formatReport(r: PrintedReport): string {
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
    .option('--group-size <n>', 'int4, gptq, awq: input columns per group (default 128); nf4: block size (default 64)', parseGroup)
    .option('--asymmetric', 'int4: asymmetric groups with zero points', false)
    .option('--calibration <file>', 'gptq, awq (required): a text file, encoded with <model-dir>/tokenizer.json')
    .option('--act-order', 'gptq: quantize columns in order of decreasing Hessian diagonal (desc_act)', false)
    .option('--no-clip', 'awq: skip AWQ\'s weight-clipping search (on by default)')
    .action(async (dirArg: string, o: QuantizeCommandOptions) => {
      const run = QUANTIZE_SCHEMES[o.scheme];
      if (!run) throw new QuantError('INVALID_ARGUMENT', `unknown scheme "${o.scheme}"; use one of ${Object.keys(QUANTIZE_SCHEMES).join(', ')}`);
      const dir = await findModelDir(dirArg);
      const t0 = performance.now();
      const model = await loadModel(dir);
      try {
        const { report, save, notes } = await run(model, o, { modelDir: dir });
        await save(o.output);
        process.stdout.write(formatReport(report));
        for (const n of notes ?? []) process.stdout.write(`${n}\n`);
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
