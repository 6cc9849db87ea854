// The public surface of @llm/train.
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@llm/train public surface', () => {
  it('exports the documented API', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AdamW', 'MetricsLog', 'SftSampler', 'TRAIN_DEFAULTS', 'TRAIN_LIMITS', 'TokenShard', 'TrainError', 'WindowSampler',
      'byteTokenizerDefinition', 'charTokenizerDefinition', 'collate', 'cosineLr', 'decaySelector', 'distillationLoss', 'evaluate', 'evaluateObjective', 'groupByLength',
      'iterateSftJsonl', 'loadTrainingCheckpoint', 'openTokenShard', 'rangePerplexity', 'readMetricsJsonl', 'readSftJsonl',
      'removeStaleSiblings', 'renderLossCurve', 'renderSegments', 'replaceDirAtomic', 'resolveCheckpointDir', 'resolveTokenizer', 'resolveTrainConfig', 'saveTrainingCheckpoint',
      'shiftedTargets', 'splitTokens', 'toMessages', 'toTensors', 'tokenizeExample', 'tokenizeRecords', 'tokenizerHash', 'train', 'validateSftRecord', 'validateTrainerState',
      'writeTokenShard',
      // data-parallel training
      'trainParallel',
      // evaluation harness and planner
      'CHINCHILLA_TOKENS_PER_PARAM', 'chinchillaParams', 'chinchillaTokens', 'chooseMc', 'computeOptimal', 'configParams', 'cutAtStop', 'encodePair', 'evaluateTask', 'exactMatch', 'extractAnswer',
      'fewShotPrompt', 'formatBytes', 'formatResultsTable', 'greedyGenerate', 'loglikelihoods', 'makePlan', 'meanStderr', 'measureTrainingPeak', 'parseTask', 'probeThroughput', 'readTask',
      'shotIndices', 'trainingFlops', 'trainingMemory',
    ].sort());
  });
});
