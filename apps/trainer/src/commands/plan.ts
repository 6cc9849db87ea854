/**
 * `llm-train plan`: size a run. One of --params N (→ Chinchilla's 20·N tokens), --tokens D
 * (→ D/20 params) or --minutes M (→ the tokens this model trains on in M minutes here, and the
 * compute-optimal N and D for that compute); then training FLOPs 6·N·D, memory of the model config
 * at the batch size (weights + gradients + AdamW m, v + activations), and wall time from the
 * tokens/s a short probe of the real training loop measures on this machine.
 *
 *   llm-train plan --params 1e6                                 # the npm start model is probed for the rate
 *   llm-train plan --minutes 10 --n-layer 6 --n-embd 192 --batch-size 16
 *   llm-train plan --tokens 5e7 --checkpoint out/best --no-probe  # formulas and memory only
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { initBackend } from '@llm/tensor-gpu';
import { TransformerLM, findModelDir, fromHfConfig, formatCount, resolveConfig, TransformerError, type ModelConfig } from '@llm/transformer';
import { makePlan, measureTrainingPeak, probeThroughput, formatBytes, type Plan } from '@llm/train';
import { addOptions, explicitOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { MODEL_OPTIONS } from './pretrain.js';

const MODEL_KEYS = ['family', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'blockSize', 'bias'];

export const PLAN_SPECS: OptSpec[] = [
  { name: 'params', flag: 'params', kind: 'number', min: 1, help: 'model parameters N → compute-optimal tokens 20·N' },
  { name: 'tokens', flag: 'tokens', kind: 'number', min: 1, help: 'training tokens D → compute-optimal parameters D/20' },
  { name: 'minutes', flag: 'minutes', kind: 'number', min: 0.01, help: 'wall-clock budget → tokens trained in it at the measured rate, and the compute-optimal N, D for that compute' },
  ...MODEL_OPTIONS.filter((s) => MODEL_KEYS.includes(s.name)),
  { name: 'vocabSize', flag: 'vocab-size', kind: 'int', min: 2, def: 1024, help: 'vocabulary (npm start learns 1024; "byte" is 256)' },
  { name: 'batchSize', flag: 'batch-size', kind: 'int', min: 1, def: 12, help: 'sequences per step (memory, steps, probe)' },
  { name: 'checkpoint', flag: 'checkpoint', kind: 'string', help: 'take the model config from this checkpoint (its config.json) instead of the model flags' },
  { name: 'probe', flag: 'probe', kind: 'bool', def: true, help: 'measure tokens/s and the memory peak with a few real training steps (--no-probe: formulas only)' },
  { name: 'probeSteps', flag: 'probe-steps', kind: 'int', min: 1, def: 10, help: 'timed probe steps (after --probe-warmup untimed ones)' },
  { name: 'probeWarmup', flag: 'probe-warmup', kind: 'int', min: 1, def: 5, help: 'untimed warm-up steps of the probe' },
  { name: 'out', flag: 'out', kind: 'string', help: 'also write the plan as JSON to this file' },
];

/** 19,512 s → '5h 25m'; 75 s → '1m 15s'; 119.9999 s → '2m 00s'; 9.5 s → '9.5 s'; 400,000 s → '4.6 days'. Rounded before splitting (never '1m 60s'). */
export function formatDuration(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const secs = Math.round(s);
  if (secs < 3600) return `${Math.floor(secs / 60)}m ${String(secs % 60).padStart(2, '0')}s`;
  const mins = Math.round(s / 60);
  if (mins < 48 * 60) return `${Math.floor(mins / 60)}h ${String(mins % 60).padStart(2, '0')}m`;
  return `${(s / 86400).toFixed(1)} days`;
}

const count = (n: number) => (n >= 1e6 ? `${n.toExponential(3)} (${(n / 1e6).toFixed(2)}M)` : Math.round(n).toLocaleString('en-US'));

async function modelConfig(o: Record<string, unknown>, explicit: ReadonlySet<string>): Promise<ModelConfig> {
  if (o.checkpoint) {
    const given = MODEL_KEYS.concat('vocabSize').filter((k) => explicit.has(k));
    if (given.length) throw new CliError(`--checkpoint gives the model config: drop ${given.map((k) => `--${MODEL_OPTIONS.find((s) => s.name === k)?.flag ?? 'vocab-size'}`).join(', ')}`);
    try {
      const dir = await findModelDir(o.checkpoint as string);
      return fromHfConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), { limits: { maxParameters: Number.MAX_SAFE_INTEGER } });
    } catch (e) {
      if (e instanceof TransformerError || e instanceof SyntaxError) throw new CliError(`cannot read the model config of ${o.checkpoint as string}: ${e.message}`, 1);
      throw e;
    }
  }
  try {
    return resolveConfig({ family: o.family as 'gpt2' | 'llama', vocabSize: o.vocabSize as number, nLayer: o.nLayer as number, nHead: o.nHead as number, nEmbd: o.nEmbd as number, blockSize: o.blockSize as number, bias: o.bias as boolean, ...(o.nKvHead !== undefined ? { nKvHead: o.nKvHead as number } : {}) }, { limits: { maxParameters: Number.MAX_SAFE_INTEGER } }); // a plan may size models this machine cannot load
  } catch (e) {
    if (e instanceof TransformerError) throw new CliError(e.message);
    throw e;
  }
}

export function planCommand(): Command {
  return addOptions(new Command('plan').description('compute-optimal tokens or parameters (Chinchilla), FLOPs, memory and wall time of a training run'), PLAN_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, PLAN_SPECS);
    const which = (['params', 'tokens', 'minutes'] as const).filter((k) => o[k] !== undefined);
    if (which.length !== 1) throw new CliError(which.length ? `pass one of --params, --tokens, --minutes (got ${which.map((k) => `--${k}`).join(' and ')})` : 'one of --params, --tokens, --minutes is required');
    if (o.minutes !== undefined && o.probe === false) throw new CliError('--minutes needs the probe (drop --no-probe): the time budget is turned into tokens at the measured rate');
    const config = await modelConfig(o, await explicitOptions(cmd, PLAN_SPECS));
    const batchSize = o.batchSize as number;
    let probe: { tokensPerSec: number; msPerStep: number } | undefined;
    let peak: { peakBytes: number } | undefined;
    if (o.probe) {
      await initBackend({ log: false });
      process.stderr.write(`probing: ${o.probeWarmup as number} + ${o.probeSteps as number} training steps of batch ${batchSize}…\n`);
      const m = new TransformerLM(config);
      try {
        probe = await probeThroughput(m, { batchSize, steps: o.probeSteps as number, warmup: o.probeWarmup as number });
        peak = await measureTrainingPeak(m, batchSize);
      } finally {
        m.dispose();
      }
    }
    const plan = makePlan({ ...(o.params !== undefined ? { params: o.params as number } : o.tokens !== undefined ? { tokens: o.tokens as number } : { minutes: o.minutes as number }), model: { config, batchSize }, ...(probe ? { probe } : {}) });
    const summary = `${config.family} · ${formatCount(plan.memory!.params)} params · ${config.nLayer} layers · width ${config.nEmbd} · ${config.nHead} heads · context ${config.blockSize} · vocab ${config.vocabSize}`;
    process.stdout.write(`${describePlan(plan, { summary, batchSize, blockSize: config.blockSize, ...(probe ? { msPerStep: probe.msPerStep } : {}), ...(peak ? { peakBytes: peak.peakBytes } : {}) })}\n`);
    if (o.out) {
      await writeFile(o.out as string, `${JSON.stringify({ ...plan, config, batchSize, ...(probe ? { probe } : {}), ...(peak ? { measuredPeakBytes: peak.peakBytes } : {}) }, null, 2)}\n`);
      process.stderr.write(`wrote ${o.out as string}\n`);
    }
  });
}

/** The plan as text lines (what `llm-train plan` prints). */
export function describePlan(p: Plan, m: { summary: string; batchSize: number; blockSize: number; msPerStep?: number; peakBytes?: number }): string {
  const lines = [
    `model: ${m.summary} · batch ${m.batchSize}`,
    `parameters N      ${count(p.params)}`,
    `tokens D          ${count(p.tokens)} (${p.tokensPerParam.toFixed(1)} tokens per parameter; Chinchilla's compute-optimal ratio is 20)`,
    `training compute  6·N·D = ${p.flops.toExponential(3)} FLOPs`,
    `compute-optimal for that compute: N = ${count(p.optimal.params)}, D = ${count(p.optimal.tokens)}`,
  ];
  if (p.memory) {
    const mem = p.memory;
    lines.push(
      `memory of this model at batch ${m.batchSize} (float32, AdamW, no recomputation): ${formatBytes(mem.total)} = weights ${formatBytes(mem.weights)} + gradients ${formatBytes(mem.gradients)} + AdamW m, v ${formatBytes(mem.optimizer)} + activations ${formatBytes(mem.activations)} (Korthikanti et al. 2022, no dropout masks)`,
    );
    if (m.peakBytes !== undefined) lines.push(`  measured peak of a training step here (tfjs keeps every intermediate of a step until it ends): ${formatBytes(m.peakBytes)} (${(m.peakBytes / mem.total).toFixed(1)}× the formula)`);
  }
  if (p.steps !== undefined) lines.push(`steps             ${p.steps.toLocaleString('en-US')} of ${m.batchSize}×${m.blockSize} tokens${p.params !== p.memory?.params ? ' (at this model\'s batch and context)' : ''}`);
  if (p.throughput && p.seconds !== undefined) {
    lines.push(`throughput here   ${Math.round(p.throughput.tokensPerSec).toLocaleString('en-US')} tokens/s · ${m.msPerStep?.toFixed(0) ?? '?'} ms/step · ${(p.throughput.flopsPerSec / 1e9).toFixed(2)} GFLOP/s (6·N·tokens/s, probe after warm-up)`);
    lines.push(`wall time         ${formatDuration(p.seconds)}${p.params !== p.memory?.params ? ` (at this machine's measured ${(p.throughput.flopsPerSec / 1e9).toFixed(2)} GFLOP/s; a model of another size runs at another rate)` : ''}`);
  } else {
    lines.push('wall time         not estimated (--no-probe)');
  }
  return lines.join('\n');
}
