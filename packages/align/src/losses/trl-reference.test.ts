// Preference losses against an independent PyTorch evaluation of HF TRL's formulas
// (fixtures/make_trl_fixtures.py, TRL v0.25.1 @ 1cf8d56c: DPOTrainer.dpo_loss sigmoid / label smoothing / robust /
// ipo / hinge, ORPOTrainer.odds_ratio_loss, CPOTrainer.cpo_loss "simpo", KTOTrainer.kto_loss, RewardTrainer.compute_loss).
// fixtures/trl-losses.json lists the cases (function, options, input order, metric names); fixtures/trl-losses.safetensors
// holds each case's float32 inputs and, computed in float64 from them, the loss, TRL's logged metrics and
// d(loss)/d(input) (torch.autograd, itself checked by central differences in the script). See fixtures/README.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initBackend, readSafetensors, rawToTensor } from '@llm/tensor-gpu';
import { dpoLoss, ktoLoss, orpoLoss, rewardLoss, simpoLoss } from '../index.js';

/** |ours − TRL| ≤ TOL · max(1, |TRL|): relative for values of size ≥ 1, absolute below (a float32 metric such as a
 *  batch-mean reward margin of 1e-4, computed from log-probs of size 20, cannot be relative-1e-5 exact). */
const TOL = 1e-5;

interface FixtureCase {
  name: string;
  fn: 'dpoLoss' | 'orpoLoss' | 'simpoLoss' | 'ktoLoss' | 'rewardLoss';
  options: Record<string, unknown>;
  trl: { trainer: string; source: string; args: Record<string, unknown> };
  inputs: Record<string, number[]>; // name -> shape, in the order the script wrote them
  metrics: string[];
  detached: string[];
}
interface LossOut {
  loss: tf.Scalar;
  metrics: Record<string, tf.Scalar>;
}
type LossFn = (inputs: Record<string, tf.Tensor>, options: Record<string, unknown>) => LossOut;

const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
const spec = JSON.parse(readFileSync(fixture('trl-losses.json'), 'utf8')) as {
  trl: { tag: string; commit: string };
  cases: FixtureCase[];
};

// The functions under test, by the name the fixture uses. Our signatures differ per loss; each takes an object of
// tensors named as in the fixture and an options object with our (camelCase) option names.
const FNS: Record<FixtureCase['fn'], () => LossFn> = {
  dpoLoss: () => dpoLoss as unknown as LossFn,
  orpoLoss: () => orpoLoss as unknown as LossFn,
  simpoLoss: () => simpoLoss as unknown as LossFn,
  ktoLoss: () => ktoLoss as unknown as LossFn,
  rewardLoss: () => rewardLoss as unknown as LossFn,
};

const close = (ours: number, ref: number): boolean => Math.abs(ours - ref) <= TOL * Math.max(1, Math.abs(ref));

let tensors: Map<string, tf.Tensor>;
const t = (key: string): tf.Tensor => {
  const v = tensors.get(key);
  if (!v) throw new Error(`fixture tensor ${key} missing from trl-losses.safetensors`);
  return v;
};
const scalar = (key: string): number => t(key).dataSync()[0]!;

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
  const { tensors: raw } = await readSafetensors(fixture('trl-losses.safetensors'));
  tensors = new Map([...raw].map(([k, r]) => [k, rawToTensor(r)]));
});
afterAll(() => {
  tf.dispose([...tensors.values()]);
});

describe(`preference losses vs TRL ${spec.trl.tag} formulas (PyTorch, float64)`, () => {
  it('the fixture covers every loss and every DPO loss type', () => {
    expect(new Set(spec.cases.map((c) => c.fn))).toEqual(new Set(Object.keys(FNS)));
    const dpoTypes = spec.cases.filter((c) => c.fn === 'dpoLoss').map((c) => c.options.lossType);
    expect(new Set(dpoTypes)).toEqual(new Set(['sigmoid', 'robust', 'ipo', 'hinge']));
    for (const fn of Object.keys(FNS) as FixtureCase['fn'][]) expect(typeof FNS[fn](), fn).toBe('function');
  });

  for (const c of spec.cases) {
    const names = Object.keys(c.inputs);
    // fresh copies per call: an implementation may return an input as a metric (ORPO's nll_loss), which the test
    // disposes afterwards; the fixture's own tensors must survive for the next test
    const copies = (): tf.Tensor[] => names.map((n) => t(`${c.name}.input.${n}`).clone());
    const label = `${c.name}: ${c.fn}(${JSON.stringify(c.options)}) ~ ${c.trl.trainer}(${JSON.stringify(c.trl.args)})`;

    describe(label, () => {
      it(`loss and TRL's metrics match to ${TOL} (relative, floor 1)`, () => {
        const xs = copies();
        const out = FNS[c.fn]()(Object.fromEntries(names.map((n, i) => [n, xs[i]!])), c.options);
        const bad: string[] = [];
        try {
          expect(out.loss.shape, 'loss must be a scalar').toEqual([]);
          const check = (what: string, ours: number, ref: number): void => {
            if (!close(ours, ref)) bad.push(`${c.name} ${what}: ours ${ours} vs TRL ${ref} (diff ${ours - ref})`);
          };
          check('loss', out.loss.dataSync()[0]!, scalar(`${c.name}.loss`));
          for (const m of c.metrics) {
            const ours = out.metrics[m];
            if (!ours) {
              bad.push(`${c.name} metric ${m}: missing (ours: ${Object.keys(out.metrics).join(', ')})`);
              continue;
            }
            check(`metric ${m}`, ours.dataSync()[0]!, scalar(`${c.name}.metric.${m}`));
          }
        } finally {
          tf.dispose([out.loss, ...Object.values(out.metrics), ...xs]);
        }
        expect(bad).toEqual([]);
      });

      it(`d(loss)/d(input) matches torch.autograd to ${TOL}${c.detached.length ? ` (${c.detached.join(', ')} detached: zero)` : ''}`, () => {
        const xs = copies();
        const bad: string[] = [];
        const grads = tf.tidy(() =>
          tf.grads((...args: tf.Tensor[]) => {
            const out = FNS[c.fn]()(Object.fromEntries(names.map((n, i) => [n, args[i]!])), c.options);
            // + 0·Σx for every input keeps a gradient path from each, so that an input TRL detaches (KTO's KL
            // batch) gets an exact zero gradient here instead of tfjs's "no path" error
            return args.reduce<tf.Tensor>((acc, a) => acc.add(a.sum().mul(0)), out.loss);
          })(xs),
        );
        try {
          names.forEach((n, i) => {
            const ours = grads[i]!;
            const ref = t(`${c.name}.grad.${n}`);
            expect(ours.shape, `grad ${n} shape`).toEqual(ref.shape);
            const o = ours.dataSync();
            const r = ref.dataSync();
            for (let j = 0; j < r.length; j++) {
              if (!close(o[j]!, r[j]!)) {
                bad.push(`${c.name} d loss/d ${n}[${j}]: ours ${o[j]} vs TRL ${r[j]} (diff ${o[j]! - r[j]!})`);
              }
            }
          });
        } finally {
          tf.dispose([...grads, ...xs]);
        }
        expect(bad).toEqual([]);
      });
    });
  }
});
