// The public surface: what index.ts exports, and nothing of the internals.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@llm/align public surface', () => {
  it('exports the data, losses, objectives, heads and reference helpers', () => {
    const want = [
      'AlignError', 'sequenceLogps', 'tokenLogps', 'modelLogps',
      'dpoLoss', 'orpoLoss', 'simpoLoss', 'ktoLoss', 'rewardLoss', 'classificationLoss', 'regressionLoss',
      'readJsonl', 'parseJsonl', 'validatePreferenceRow', 'validateUnpairedRow', 'validatePromptRow', 'validateClassificationRow', 'validateRegressionRow',
      'tokenizePreference', 'tokenizeUnpaired', 'tokenizePrompt', 'tokenizeText', 'labelIndex', 'truncateRow',
      'pairSource', 'unpairedSource', 'textSource', 'collatePairs', 'collateUnpaired', 'collateText', 'EpochSampler',
      'dpoObjective', 'ipoObjective', 'orpoObjective', 'simpoObjective', 'ktoObjective', 'rewardObjective', 'classifierObjective', 'regressorObjective',
      'HeadModel', 'embedTexts', 'fitRidge', 'precomputeReferenceLogps', 'referenceLogps', 'checkSameVocab',
      'ppoTrain', 'grpoTrain', 'klEstimate', 'gae', 'groupAdvantages', 'ppoPolicyLoss', 'ppoValueLoss', 'grpoLoss', 'AdaptiveKLController', 'FixedKLController', 'maskedWhiten',
      'critiqueAndRevise', 'judgePairs', 'labelPreferences', 'loadConstitution', 'parseConstitution', 'defaultJudgePrompt', 'writeJsonlAtomic',
    ];
    for (const name of want) expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    expect(Object.keys(api)).not.toContain('default');
    expect(Object.keys(api)).not.toContain('pairReference'); // internals stay internal
  });
  it('the README no longer calls the package a placeholder and says what is not done', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).not.toMatch(/not implemented yet/i);
    expect(readme).toMatch(/## Not done yet/);
    expect(readme).toMatch(/PPO/);
  });
});
