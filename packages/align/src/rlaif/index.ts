// RLAIF / Constitutional AI data pipeline: principles, critique → revision SFT data, AI-judge preference labels.
export { DEFAULT_CONSTITUTION, CONSTITUTION_LIMITS, loadConstitution, parseConstitution, validatePrinciple, validatePrinciples, type Principle, type ConstitutionLimits } from './constitution.js';
export { critiqueAndRevise, type CritiqueReviseOptions, type CritiqueReviseResult, type CritiqueReviseRecord, type CritiqueRound, type SftRow } from './critique-revise.js';
export {
  judgePairs,
  labelPreferences,
  defaultJudgePrompt,
  type JudgeRow,
  type JudgeOptions,
  type JudgePromptInput,
  type Judgement,
  type JudgeResult,
  type PreferenceLabel,
  type LabelPreferencesOptions,
  type LabelPreferencesResult,
} from './judge.js';
export { writeJsonlAtomic, type RlaifTemplate } from './common.js';
