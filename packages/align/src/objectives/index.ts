export { dpoObjective, ipoObjective, orpoObjective, simpoObjective, type DpoObjectiveOptions, type SimpoObjectiveOptions } from './preference.js';
export { ktoObjective } from './kto.js';
export { rewardObjective, classifierObjective, regressorObjective } from './heads.js';
export type { ReferenceOptions } from './common.js';
