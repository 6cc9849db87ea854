/**
 * `llm-train start` (what `npm start` runs): the whole lifecycle of a small chat model on text this
 * project generates itself — BPE tokenizer → pretrain → SFT (instructions with calculator tool
 * calls) → DPO (generated preferences) → quantize (GGUF) → serve (`llm-chat serve`, the URL of its
 * chat page). Each stage shows progress and is skipped when a previous run finished it; an
 * interrupted run continues where it stopped (apps/trainer/src/lifecycle).
 *
 *   npm start                       # ~9 minutes on 2 idle cores (estimated) → out/, then serves http://127.0.0.1:8080/
 *   npm start -- --quick            # CI: tiny steps everywhere, one request to the server, exit 0
 *   npm start -- --no-serve         # stop after quantize
 *   npm start -- --force            # redo every stage
 */
import { Command } from 'commander';
import { GGUF_EXPORT_TYPES } from '@llm/quant';
import { addOptions, resolveOptions, CliError, type OptSpec } from '../options.js';
import { DEFAULT_CONFIG, QUICK_CONFIG, lifecycleConfig, type LifecycleConfig } from '../lifecycle/config.js';
import { runLifecycle } from '../lifecycle/run.js';

const both = (pick: (c: typeof DEFAULT_CONFIG) => unknown) => `(default ${String(pick(DEFAULT_CONFIG))}; with --quick ${String(pick(QUICK_CONFIG))})`;

export const START_SPECS: OptSpec[] = [
  { name: 'out', flag: 'out', kind: 'string', def: 'out', help: 'run folder: the pretrained model in it (where llm-chat, llm-train sample and eval look by default), sft/, dpo/, quant/, stages/' },
  { name: 'quick', flag: 'quick', kind: 'bool', def: false, help: 'a small model and a few steps per stage (CI: a minute or two); serve answers one request and stops' },
  { name: 'serve', flag: 'serve', kind: 'bool', def: true, help: 'end by serving the model with llm-chat serve (--no-serve: stop after quantize)' },
  { name: 'serveModel', flag: 'serve-model', kind: 'enum', values: ['gguf', 'checkpoint'], def: DEFAULT_CONFIG.serveModel, help: 'what llm-chat serve loads: the quantized GGUF (quant/), or the DPO checkpoint directory (dpo/best)' },
  { name: 'port', flag: 'port', kind: 'int', min: 1, max: 65535, def: DEFAULT_CONFIG.port, help: 'port of the server (--quick picks a free one)' },
  { name: 'data', flag: 'data', kind: 'paths', help: 'pretrain on these text files instead of the generated corpus' },
  { name: 'vocabSize', flag: 'vocab-size', kind: 'int', min: 260, help: `BPE vocabulary ${both((c) => c.vocabSize)}` },
  { name: 'pretrainIters', flag: 'pretrain-iters', kind: 'int', min: 1, help: `pretraining steps ${both((c) => c.pretrain.iters)}` },
  { name: 'sftIters', flag: 'sft-iters', kind: 'int', min: 1, help: `SFT steps ${both((c) => c.sft.iters)}` },
  { name: 'dpoIters', flag: 'dpo-iters', kind: 'int', min: 1, help: `DPO steps ${both((c) => c.dpo.iters)}` },
  { name: 'quantType', flag: 'quant-type', kind: 'enum', values: GGUF_EXPORT_TYPES, def: DEFAULT_CONFIG.quantType, help: 'tensor type of the GGUF the server loads' },
  { name: 'seed', flag: 'seed', kind: 'int', min: 0, def: DEFAULT_CONFIG.seed, help: 'seed of the models and the generated instructions and preferences' },
  { name: 'force', flag: 'force', kind: 'bool', def: false, help: 'redo every stage (the stage markers in <out>/stages are removed first); also needed to start over in an --out that holds a run npm start did not make' },
];

export function startCommand(): Command {
  return addOptions(new Command('start').description('the whole lifecycle on a generated corpus: tokenizer → pretrain → sft (tool calls) → dpo → quantize → serve; finished stages are skipped'), START_SPECS).action(async (_o, cmd: Command) => {
    const o = await resolveOptions(cmd, START_SPECS);
    const r = await runLifecycle(startConfig(o), { force: o.force === true });
    if (r.code !== 0 && r.code !== 130) throw new CliError(`serve: llm-chat serve exited with code ${r.code}`, 1);
  });
}

/** The lifecycle settings of the flags: the preset (--quick or not) with the flags given applied. */
export function startConfig(o: Record<string, unknown>): LifecycleConfig {
  const cfg = lifecycleConfig({ out: o.out as string, quick: o.quick === true });
  if (o.data) cfg.data = o.data as string[];
  if (o.vocabSize !== undefined) cfg.vocabSize = o.vocabSize as number;
  if (o.pretrainIters !== undefined) cfg.pretrain.iters = o.pretrainIters as number;
  if (o.sftIters !== undefined) cfg.sft.iters = o.sftIters as number;
  if (o.dpoIters !== undefined) cfg.dpo.iters = o.dpoIters as number;
  cfg.quantType = o.quantType as LifecycleConfig['quantType'];
  cfg.seed = o.seed as number;
  cfg.serve = o.serve !== false;
  cfg.serveModel = o.serveModel as LifecycleConfig['serveModel'];
  cfg.port = o.port as number;
  return cfg;
}
