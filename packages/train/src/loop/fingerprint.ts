/**
 * What a run trains and on what: the fingerprint recorded in every checkpoint, and the differences
 * a resume reports when the model or the data changed since ("nLayer: 2 → 4", "tokens: 800 → 900 (train, val)").
 *
 *   const fp = runFingerprint(model, data);     // { model: { family, nLayer, … }, data: { train: …, val: … } }
 *   differences(was.model, fp.model);           // ['nLayer: 2 → 4']
 */
import type { RunFingerprint } from '../checkpoint/checkpoint.js';
import type { TrainableModel } from './model.js';
import type { TrainData } from './train.js';

/** The architecture fields of a model config: what makes "the same model" for a resume (not dropout, seed or init). */
const ARCHITECTURE = ['family', 'vocabSize', 'nLayer', 'nHead', 'nKvHead', 'nEmbd', 'headDim', 'intermediateSize', 'blockSize', 'activation', 'normEps', 'ropeTheta', 'bias', 'tieWordEmbeddings', 'nExperts', 'nExpertsPerTok'] as const;

/** What the run trains and on what: recorded in every checkpoint, compared on resume. */
export function runFingerprint(model: TrainableModel, data: TrainData<unknown>): RunFingerprint {
  const cfg = model.config as unknown as Record<string, unknown>;
  const arch = Object.fromEntries(ARCHITECTURE.filter((k) => cfg[k] !== undefined).map((k) => [k, cfg[k]]));
  const sources: Record<string, unknown> = {};
  for (const k of ['train', 'val', 'trainEval'] as const) {
    const f = data[k]?.fingerprint?.();
    if (f) sources[k] = f;
  }
  return { model: arch, data: sources };
}

/** "key: a → b" for each key whose JSON differs (keys of either side), values cut short. */
export function differences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const show = (v: unknown) => {
    const j = JSON.stringify(v) ?? 'none';
    return j.length > 80 ? `${j.slice(0, 80)}…` : j;
  };
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k])).map((k) => `${k}: ${show(was[k])} → ${show(now[k])}`);
}

/** The differences of each batch source's data fingerprint, each listed once with the sources it concerns: "tokens: 800 → 900 (train, val)". */
export function dataDifferences(was: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const bySource = new Map<string, string[]>();
  for (const source of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const [a, b] = [was[source], now[source]];
    const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    const diffs = plain(a) && plain(b) ? differences(a, b) : differences({ [source]: a }, { [source]: b });
    for (const d of diffs) bySource.set(d, [...(bySource.get(d) ?? []), source]);
  }
  return [...bySource].map(([d, sources]) => `${d} (${sources.join(', ')})`);
}
