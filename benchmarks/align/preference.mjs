// Preference-alignment benchmark (issue 15): DPO vs IPO / ORPO / KTO / SimPO on a synthetic,
// seeded preference task whose preferred completion is known, from the same briefly pretrained base,
// with the same data order, steps and learning rate.
//
// Base: GPT-2, 2 layers, 2 heads, width 64, context 64, a generated 44-token character vocabulary,
// pretrained here (seeded) on lines "www:ccc;" — www three random letters, ccc with equal probability
// three random digits or three random letters of a–j — so the base knows the format and that a
// completion is all digits or all letters, half the time each, whatever the prompt: it has no reason
// to prefer either class (its log-prob preference on the task is measured: ≈ 50%).
// Task (a target attribute that depends on the prompt, by a rule the base never saw): prompt "www:",
// chosen = three random digits if www starts with a–m, three random letters of a–j otherwise;
// rejected = a random completion of the other class (seeded; 256 train pairs on 256 prompts, 64
// held-out pairs on 64 other prompts). KTO gets unpaired rows made from the pairs (each pair → one
// desirable row, its chosen, and one undesirable row, its rejected).
//
// Held-out preference accuracy: the share of held-out pairs whose implicit reward of chosen is
// strictly greater than rejected's (ties wrong, as TRL's rewards/accuracies), measured over all 64
// held-out pairs the same way for every method — DPO / IPO / KTO: r = β·(log π(y|x) − log π_ref(y|x))
// (sums; IPO's means have the same sign here: both responses are 4 tokens); ORPO / SimPO (reference-
// free): r = β·mean log π(y|x) (TRL's ORPO rewards; SimPO's reward before the margin γ). At step 0
// the reference-based rewards are all 0 (policy = reference): ties, 0%; the base's own log-prob
// preference (log π_base(chosen) > log π_base(rejected)) is the chance level the task starts from.
//
//   node benchmarks/align/preference.mjs           300 base iterations + 200 steps per method (≈ 3.5 min on 2 shared cores, 1.3 with the base reused)
//   node benchmarks/align/preference.mjs --quick   a smoke test (100 base iterations, 20 steps)
//   --fresh-base retrains the base (else one trained by an earlier run with the same settings is reused from the OS temp dir)
//   options: --base-iters N, --steps N, --batch N, --lr X (all methods; default 2e-3),
//            --eval-interval N, --train-pairs N (256), --methods dpo,ipo,orpo,kto,simpo, --out FILE
//            (default benchmarks/results/align-preference.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median } from '@llm/kit';
import { initBackend } from '@llm/tensor-gpu';
import { summarize } from '@llm/transformer';
import { train, evaluateObjective } from '@llm/train';
import { pairSource, unpairedSource, precomputeReferenceLogps, dpoObjective, ipoObjective, orpoObjective, ktoObjective, simpoObjective } from '@llm/align';
import { MODEL, PAD, EOT, encode, lcg, randWord, randDigits, randAj, wantsDigits, tagCorpus, cachedBase, cloneModel, scoreContinuations, fmt, pct } from './common.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const baseIters = opt('--base-iters', quick ? 100 : 300);
const steps = opt('--steps', quick ? 20 : 200);
const batchSize = opt('--batch', 8);
const lr = opt('--lr', 2e-3);
const evalInterval = opt('--eval-interval', 10);
const only = sopt('--methods')?.split(',');
const outFile = sopt('--out');
const here = fileURLToPath(new URL('.', import.meta.url));
const t00 = performance.now();
const elapsed = () => `${((performance.now() - t00) / 60000).toFixed(1)} min`;

const info = await initBackend({ backend: 'wasm', log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/align preference benchmark — ${machine}\n`);

// ---- base -------------------------------------------------------------------------------------
const { model: base, facts: baseFacts } = await cachedBase('tag', () => tagCorpus(4000, 8, 7), { iters: baseIters, lr: 3e-3, seed: 11, log: console.log });
console.log(`base: ${summarize(base)} · ${baseIters} iterations on the tag corpus (batch 16 rows × 8 lines, lr 3e-3) · ${baseFacts.reused ? 'reused from an earlier run (same seed and settings)' : `${baseFacts.seconds.toFixed(0)} s`}, mean loss of the last 20 steps ${baseFacts.tailLoss.toFixed(4)} · ${elapsed()}`);

// ---- task -------------------------------------------------------------------------------------
const rndTask = lcg(2024);
const seenWords = new Set();
const toPairs = (n, tag) => Array.from({ length: n }, (_, i) => {
  let w;
  do w = randWord(rndTask); while (seenWords.has(w));
  seenWords.add(w);
  const digits = randDigits(rndTask), letters = randAj(rndTask);
  const [c, r] = wantsDigits(w) ? [digits, letters] : [letters, digits];
  return { promptIds: [EOT, ...encode(`${w}:`)], chosenIds: encode(`${c};`), rejectedIds: encode(`${r};`), source: `${tag}:${i}:${w}` };
});
const TRAIN = toPairs(opt('--train-pairs', 256), 'train');
const HELD = toPairs(64, 'held');
const valBatches = Math.ceil(HELD.length / batchSize);
const unpair = (pairs) => pairs.flatMap((p) => [{ promptIds: p.promptIds, completionIds: p.chosenIds, label: true, source: `${p.source}+` }, { promptIds: p.promptIds, completionIds: p.rejectedIds, label: false, source: `${p.source}-` }]);

/** Held-out log-probs of chosen and rejected (sums over the 2 response tokens). */
const heldLogps = (m) => {
  const s = scoreContinuations(m, HELD.flatMap((p) => [{ prefix: p.promptIds, cont: p.chosenIds }, { prefix: p.promptIds, cont: p.rejectedIds }]));
  return { c: HELD.map((_, i) => s[2 * i]), r: HELD.map((_, i) => s[2 * i + 1]) };
};
const refLp = heldLogps(base);
const baseLogpAcc = refLp.c.filter((c, i) => c > refLp.r[i]).length / HELD.length;
const trainRefLp = (() => {
  const s = scoreContinuations(base, TRAIN.flatMap((p) => [{ prefix: p.promptIds, cont: p.chosenIds }, { prefix: p.promptIds, cont: p.rejectedIds }]));
  return TRAIN.filter((_, i) => s[2 * i] > s[2 * i + 1]).length / TRAIN.length;
})();
console.log(`task: ${TRAIN.length} train / ${HELD.length} held-out pairs · the base prefers chosen by log-prob on ${pct(baseLogpAcc)} of held-out pairs (${pct(trainRefLp)} of train pairs)`);

/** The uniform held-out metric: accuracy (strict) and mean margin of the method's implicit reward. */
function heldMetric(m, kind, beta) {
  const lp = heldLogps(m);
  const reward = (i, side) => (kind === 'ref' ? beta * (lp[side][i] - refLp[side][i]) : (beta * lp[side][i]) / 4);
  let acc = 0, margin = 0, rc = 0, rr = 0;
  for (let i = 0; i < HELD.length; i++) {
    const c = reward(i, 'c'), r = reward(i, 'r');
    if (c > r) acc++;
    margin += c - r;
    rc += c;
    rr += r;
  }
  const n = HELD.length;
  return { accuracy: acc / n, margin: margin / n, rewardChosen: rc / n, rewardRejected: rr / n, logpChosen: lp.c.reduce((a, x) => a + x, 0) / n, logpRejected: lp.r.reduce((a, x) => a + x, 0) / n };
}

// ---- methods ----------------------------------------------------------------------------------
const METHODS = [
  { key: 'dpo', name: 'DPO (sigmoid)', beta: 0.1, kind: 'ref', params: 'β 0.1, reference log-probs precomputed', make: () => dpoObjective({ beta: 0.1, reference: 'precomputed' }), pre: true },
  { key: 'ipo', name: 'IPO', beta: 0.1, kind: 'ref', params: 'β 0.1 (target margin 1/(2β) = 5 on mean log-ratios), precomputed', make: () => ipoObjective({ beta: 0.1, reference: 'precomputed' }), pre: true },
  { key: 'orpo', name: 'ORPO', beta: 0.1, kind: 'free', params: 'β (λ) 0.1, reference-free, NLL on chosen', make: () => orpoObjective({ beta: 0.1 }) },
  { key: 'kto', name: 'KTO (unpaired)', beta: 0.1, kind: 'ref', params: 'β 0.1, weights 1/1, frozen reference model', make: (ref) => ktoObjective({ beta: 0.1, reference: ref }), unpaired: true },
  { key: 'simpo', name: 'SimPO', beta: 2, kind: 'free', params: 'β 2, γ 0.5, reference-free', make: () => simpoObjective({ beta: 2, gamma: 0.5 }) },
].filter((m) => !only || only.includes(m.key));

const trainPre = precomputeReferenceLogps(base, TRAIN, { padId: PAD });
const heldPre = precomputeReferenceLogps(base, HELD, { padId: PAD });
console.log(`\n${steps} steps of batch ${batchSize} per method, lr ${lr} (warmup 10, cosine to lr/10), AdamW, weight decay 0, clip 1\n`);
const rows = [];
for (const m of METHODS) {
  const policy = cloneModel(base);
  const ref = m.key === 'kto' ? cloneModel(base) : null;
  const objective = m.make(ref);
  const data = m.unpaired
    ? { train: unpairedSource(unpair(TRAIN), { batchSize, seed: 3, padId: PAD }), val: unpairedSource(unpair(HELD), { batchSize, seed: 0, padId: PAD, shuffle: false }) }
    : { train: pairSource(m.pre ? trainPre : TRAIN, { batchSize, seed: 3, padId: PAD }), val: pairSource(m.pre ? heldPre : HELD, { batchSize, seed: 0, padId: PAD, shuffle: false }) };
  const before = heldMetric(policy, m.kind, m.beta);
  const trlBefore = evaluateObjective(policy, data.val, m.unpaired ? 2 * valBatches : valBatches, objective).metrics;
  const curve = [{ step: 0, accuracy: before.accuracy, margin: before.margin }];
  const stepMs = [];
  let last = null, afterEval = true, trlAfter = null;
  const t0 = performance.now();
  await train(
    policy,
    data,
    { maxIters: steps, lr, minLr: lr / 10, warmupIters: Math.min(10, steps), weightDecay: 0, gradClip: 1, evalInterval, evalIters: m.unpaired ? 2 * valBatches : valBatches, evalTrain: false, logInterval: 1_000_000 },
    {
      objective,
      onStep: (s) => {
        const now = performance.now();
        if (last !== null && !afterEval) stepMs.push(now - last);
        last = now;
        afterEval = false;
      },
      onEval: (e) => {
        trlAfter = e.metrics;
        const h = heldMetric(policy, m.kind, m.beta);
        curve.push({ step: e.step, accuracy: h.accuracy, margin: h.margin });
        afterEval = true;
      },
    },
  );
  const after = heldMetric(policy, m.kind, m.beta);
  const row = { key: m.key, method: m.name, params: m.params, beta: m.beta, reward: m.kind === 'ref' ? 'β·(log π − log π_ref), sums' : 'β·mean log π', lr, steps, before, after, trlBefore, trlAfter, firstStep90: curve.find((c) => c.accuracy >= 0.9)?.step ?? null, curve, medianStepMs: stepMs.length ? median(stepMs) : null, seconds: (performance.now() - t0) / 1000 };
  rows.push(row);
  console.log(`  ${m.key.padEnd(6)} held-out accuracy ${pct(before.accuracy)} → ${pct(after.accuracy)} · margin ${fmt(before.margin)} → ${fmt(after.margin)} · logp chosen ${fmt(after.logpChosen)} rejected ${fmt(after.logpRejected)} · ${row.medianStepMs?.toFixed(0)} ms/step · ${elapsed()}`);
  policy.dispose();
  ref?.dispose();
}

// ---- report -----------------------------------------------------------------------------------
const command = `node benchmarks/align/preference.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const table = [
  '| method | settings | implicit reward | held-out accuracy before → after | margin after | log π chosen / rejected after | first eval ≥ 90% (every ' + evalInterval + ' steps) | TRL eval rewards/accuracies after | step (ms, median) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.method} | ${r.params} | ${r.reward} | ${pct(r.before.accuracy)} → **${pct(r.after.accuracy)}** | ${fmt(r.after.margin)} | ${fmt(r.after.logpChosen, 2)} / ${fmt(r.after.logpRejected, 2)} | ${r.firstStep90 === null ? 'never' : `step ${r.firstStep90}`} | ${r.trlAfter?.['eval_rewards/accuracies'] === undefined ? '—' : pct(r.trlAfter['eval_rewards/accuracies'])} | ${r.medianStepMs === null ? '—' : r.medianStepMs.toFixed(0)} |`),
].join('\n');
const dpo = rows.find((r) => r.key === 'dpo');
const verdict = dpo
  ? `DPO: held-out preference accuracy ${pct(dpo.before.accuracy)} at step 0 by implicit reward (policy = reference: all ties, counted wrong), the base's own log-prob preference ${pct(baseLogpAcc)} (chance ≈ 50%) → ${pct(dpo.after.accuracy)} after ${steps} steps: ${dpo.after.accuracy >= 0.9 ? 'PASS (≥ 90%)' : 'NOT reached (< 90%)'}.`
  : 'DPO not run.';
const date = new Date().toISOString();
console.log(`\n## Preference (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
console.log(`${machine} · ${date.slice(0, 10)} · base GPT-2 2 layers × 64, ${MODEL.vocabSize}-token character vocabulary, ${baseIters} iterations on the tag corpus · ${TRAIN.length} train / ${HELD.length} held-out pairs ("www:" → digits if www starts a–m, else letters a–j; rejected: the other class) · ${steps} steps of batch ${batchSize}, lr ${lr} · base log-prob preference on held-out pairs ${pct(baseLogpAcc)}\n`);
console.log(table);
console.log(`\n${verdict} Total ${elapsed()}.`);
mkdirSync(outFile ? dirname(outFile) : join(here, '../results'), { recursive: true });
writeFileSync(
  outFile ?? join(here, '../results/align-preference.json'),
  JSON.stringify({ machine, command, date, mode: quick ? 'quick' : 'full', base: { ...MODEL, ...baseFacts, corpus: 'lines "www:ccc;", www 3 random letters, ccc 3 random digits or 3 random letters of a–j (1/2 each), 8 lines a row, seed 7' }, task: { trainPairs: TRAIN.length, heldOutPairs: HELD.length, prompts: '"www:" distinct random 3-letter words (seed 2024), train and held-out prompts disjoint', chosen: '3 random digits + ";" if www starts with a–m, else 3 random letters of a–j + ";"', rejected: 'a random completion of the other class', baseLogpPreferenceHeldOut: baseLogpAcc, baseLogpPreferenceTrain: trainRefLp }, training: { steps, batchSize, lr, schedule: 'warmup 10, cosine to lr/10', weightDecay: 0, gradClip: 1, evalInterval }, rows, verdict, table }, null, 2) + '\n',
);
