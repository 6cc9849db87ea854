/**
 * What `llm-train start` runs: one settings object for every stage of the lifecycle, with the
 * default (~10 minutes on a 2-core machine) and `--quick` (CI: a minute or two) presets. A stage's
 * part of it is recorded in the stage's marker, so changing it redoes that stage and the ones after.
 *
 *   const cfg = lifecycleConfig({ quick: true, out: 'out' });
 *   cfg.pretrain.iters   // 40
 *   stageSettings(cfg, 'sft')   // the settings that decide whether out/sft is still current
 */
import type { GgufExportType } from '@llm/quant';

export const STAGES = ['tokenizer', 'pretrain', 'sft', 'dpo', 'quantize', 'serve'] as const;
export type Stage = (typeof STAGES)[number];

export interface ModelShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Context length: the SFT and DPO conversations (tools header, call, result, answer) must fit. */
  blockSize: number;
}

export interface TrainStageConfig {
  iters: number;
  batchSize: number;
  lr: number;
  warmupIters: number;
  evalInterval: number;
  evalIters: number;
}

export interface LifecycleConfig {
  out: string;
  seed: number;
  /** Size of the generated pretraining corpus (ignored with `data`). */
  corpusBytes: number;
  /** Pretrain on these files instead of the generated corpus. */
  data?: string[];
  vocabSize: number;
  model: ModelShape;
  pretrain: TrainStageConfig;
  sft: TrainStageConfig & { examples: number };
  dpo: TrainStageConfig & { rows: number; beta: number };
  quantType: GgufExportType;
  serve: boolean;
  /** What the server loads: the quantized GGUF, or the DPO checkpoint directory (float32). */
  serveModel: 'gguf' | 'checkpoint';
  port: number;
  /** CI mode: serve answers one request, then stops. */
  quick: boolean;
}

export const DEFAULT_CONFIG: Omit<LifecycleConfig, 'out'> = {
  seed: 1337,
  corpusBytes: 2_000_000,
  vocabSize: 1024,
  model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 128 },
  pretrain: { iters: 500, batchSize: 8, lr: 3e-3, warmupIters: 30, evalInterval: 100, evalIters: 8 },
  sft: { examples: 3000, iters: 250, batchSize: 8, lr: 1e-3, warmupIters: 20, evalInterval: 50, evalIters: 8 },
  dpo: { rows: 400, iters: 60, batchSize: 4, lr: 1e-4, warmupIters: 6, evalInterval: 30, evalIters: 6, beta: 0.1 },
  quantType: 'q8_0',
  serve: true,
  serveModel: 'gguf',
  port: 8080,
  quick: false,
};

/** --quick: every stage runs, each for a few steps, on a small model (the CI check). */
export const QUICK_CONFIG: Omit<LifecycleConfig, 'out'> = {
  ...DEFAULT_CONFIG,
  corpusBytes: 200_000,
  vocabSize: 512,
  model: { nLayer: 2, nHead: 2, nEmbd: 64, blockSize: 128 },
  pretrain: { iters: 40, batchSize: 4, lr: 3e-3, warmupIters: 5, evalInterval: 20, evalIters: 2 },
  sft: { examples: 300, iters: 20, batchSize: 4, lr: 1e-3, warmupIters: 2, evalInterval: 10, evalIters: 2 },
  dpo: { rows: 100, iters: 6, batchSize: 2, lr: 5e-5, warmupIters: 1, evalInterval: 3, evalIters: 2, beta: 0.1 },
  quick: true,
};

export function lifecycleConfig(o: { out: string; quick?: boolean }): LifecycleConfig {
  return { ...structuredClone(o.quick ? QUICK_CONFIG : DEFAULT_CONFIG), out: o.out };
}

/** The part of the config a stage's result depends on (the stages before it are covered by their markers). */
export function stageSettings(cfg: LifecycleConfig, stage: Stage): unknown {
  switch (stage) {
    case 'tokenizer':
      return { seed: cfg.seed, corpusBytes: cfg.data ? null : cfg.corpusBytes, data: cfg.data ?? null, vocabSize: cfg.vocabSize, format: 2 }; // format: the chat format version (chat-format.ts)
    case 'pretrain':
      return { seed: cfg.seed, model: cfg.model, train: cfg.pretrain };
    case 'sft':
      return { seed: cfg.seed, train: cfg.sft };
    case 'dpo':
      return { seed: cfg.seed, train: cfg.dpo };
    case 'quantize':
      return { type: cfg.quantType };
    case 'serve':
      return null;
  }
}
