// The public surface of @llm/train.
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@llm/train public surface', () => {
  it('exports the documented API', () => {
    expect(Object.keys(api).sort()).toEqual([
      'AdamW', 'CHATML_SPECIAL_TOKENS', 'MetricsLog', 'SftSampler', 'TRAIN_DEFAULTS', 'TokenShard', 'TrainError', 'WindowSampler',
      'byteTokenizerDefinition', 'charTokenizerDefinition', 'chatmlTemplate', 'collate', 'cosineLr', 'decaySelector', 'distillationLoss', 'evaluate', 'groupByLength',
      'iterateSftJsonl', 'jinjaTemplate', 'loadHfChatTemplate', 'loadTrainingCheckpoint', 'openTokenShard', 'rangePerplexity', 'readMetricsJsonl', 'readSftJsonl',
      'renderLossCurve', 'renderSegments', 'replaceDirAtomic', 'resolveCheckpointDir', 'resolveTokenizer', 'resolveTrainConfig', 'saveTrainingCheckpoint',
      'shiftedTargets', 'splitTokens', 'toMessages', 'toTensors', 'tokenizeExample', 'tokenizeRecords', 'tokenizerHash', 'train', 'validateSftRecord',
      'writeTokenShard',
    ]);
  });
});
