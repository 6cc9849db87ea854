// @llm/train — token datasets, AdamW and schedules, the training loop (pretraining, SFT, distillation),
// evaluation, checkpoints and exact resume, metrics. Public surface (named exports only).
export { TrainError, type TrainErrorCode } from './errors.js';
export { TRAIN_LIMITS, type TrainLimits } from './limits.js';
export { resolveTokenizer, byteTokenizerDefinition, charTokenizerDefinition, tokenizerHash, type ResolvedTokenizer } from './data/tokenizer.js';
export { writeTokenShard, openTokenShard, TokenShard, type ShardMeta, type TokenDtype, type WriteShardOptions } from './data/shard.js';
export { splitTokens, WindowSampler, type BatchSource, type HostBatch, type TokenRange, type WindowOptions } from './data/batches.js';
export { AdamW, decaySelector, type AdamWConfig, type DecayRule } from './optim/adamw.js';
export { cosineLr, type LrSchedule } from './optim/schedule.js';
export { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig, type TrainConfigInput } from './loop/config.js';
export { rangePerplexity, type PerplexityResult } from './loop/perplexity.js';
export type { TrainableModel } from './loop/model.js';
export type { Objective, ObjectiveResult } from './loop/objective.js';
export { train, type TrainData, type TrainHooks, type TrainResult, type StepInfo, type EvalInfo } from './loop/train.js';
export { evaluate, evaluateObjective } from './loop/evaluate.js';
export { saveTrainingCheckpoint, loadTrainingCheckpoint, validateTrainerState, type TrainerState, type RunFingerprint, type LoadedCheckpoint, type LoadCheckpointOptions, type SaveCheckpointInput } from './checkpoint/checkpoint.js';
export { replaceDirAtomic, resolveCheckpointDir, removeStaleSiblings } from './checkpoint/atomic-dir.js';
export { MetricsLog, type MetricsLine } from './metrics/log.js';
export { renderSegments, type Segment } from './sft/segments.js'; // chat templates themselves: @llm/tokenizer-bpe
export { readSftJsonl, iterateSftJsonl, validateSftRecord, toMessages, tokenizeExample, tokenizeRecords, type SftRecord, type SftReadOptions, type TokenizedExample, type TokenizeOptions } from './sft/examples.js';
export { collate, shiftedTargets, toTensors, groupByLength, type CollateOptions, type Batch, type GroupByLengthOptions } from './sft/collate.js';
export { SftSampler, type SftSamplerOptions } from './sft/sampler.js';
export { distillationLoss, type DistillOptions } from './distill.js';
export { renderLossCurve, readMetricsJsonl } from './metrics/svg.js';
export { trainParallel, type TrainParallelOptions, type TrainParallelResult } from './parallel/train-parallel.js';
export type { ReplicaSetup, SetupContext, SetupFn, StepPhases } from './parallel/replica.js';
export { parseTask, readTask, type Task, type TaskSettings, type McItem, type GenItem } from './eval-tasks/task.js';
export { fewShotPrompt, shotIndices, type ShotOptions } from './eval-tasks/prompt.js';
export { loglikelihoods, type LoglikRequest, type LoglikResult, type LoglikOptions } from './eval-tasks/loglik.js';
export { greedyGenerate, type GreedyOptions } from './eval-tasks/generate.js';
export { chooseMc, extractAnswer, exactMatch, meanStderr } from './eval-tasks/metrics.js';
export { evaluateTask, formatResultsTable, encodePair, cutAtStop, type EvalTokenizer, type EvalTaskOptions, type TaskResult, type TaskSample, type MetricValue } from './eval-tasks/run.js';
export { CHINCHILLA_TOKENS_PER_PARAM, chinchillaTokens, chinchillaParams, trainingFlops, computeOptimal } from './plan/scaling.js';
export { trainingMemory, configParams, type TrainingMemory } from './plan/memory.js';
export { makePlan, formatBytes, type Plan, type PlanInput } from './plan/plan.js';
export { probeThroughput, measureTrainingPeak, type ProbeOptions, type ProbeResult } from './plan/probe.js';
