// Online RL benchmark (issue 15): PPO and GRPO (@llm/align's ppoTrain / grpoTrain) raise the mean
// reward of a verifiable task while the KL to the reference stays under a stated bound.
//
// Base: the same briefly pretrained GPT-2 as benchmarks/align/preference.mjs (2 layers × 64, the
// generated 44-token character vocabulary, seeded pretraining on the "tag" corpus: lines "www:ccc;",
// ccc three random digits or three random letters of a–j, half the time each, whatever www is).
// Task (checked by a function): prompt "www:" (a random 3-letter word); reward = the share of the
// first three generated characters of the wanted class — digits when www starts with a–m, letters
// otherwise. The base picks a class by a coin flip: its reward starts near 0.5; the maximum is 1, and
// a policy that always picks the right class needs only ≈ ln 2 ≈ 0.69 nats of KL on the first token
// (≈ 0.17 nats per completion token).
// Stated bound: the exact per-token KL(π‖π_ref) (Σ_v π(v)(log π(v) − log π_ref(v)) over the completion
// positions of fresh samples on held-out prompts, averaged) stays ≤ 0.5 nats at every evaluation.
//
// Per step: the logged rollout reward and KL (PPO `objective/scores`, `objective/kl` = Σ_t k1 per
// sequence; GRPO `reward`, `kl` = mean k3 per token); every --eval-every steps: the mean reward and
// exact per-token KL of fresh samples (temperature 1, seeded) on 64 held-out prompts.
//
//   node benchmarks/align/rl.mjs            300 base iterations + 200 steps per method (≈ 2.2 min with the base reused, + 2.2 to train it)
//   node benchmarks/align/rl.mjs --quick    a smoke test (100 base iterations, 10 steps)
//   --fresh-base retrains the base (else one trained by an earlier run with the same settings is reused from the OS temp dir)
//   options: --base-iters N, --steps N, --eval-every N, --ppo-lr X (3e-4), --kl-bound X (nats per token, default 0.5),
//            --methods ppo,ppo-lr1e-3,grpo (ppo-lr1e-3: the same PPO at lr 1e-3, the rate first tried), --out FILE (default benchmarks/results/align-rl.json; the curves go to
//            benchmarks/results/align-rl-<method>.svg)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median } from '@llm/kit';
import { initBackend, tf } from '@llm/tensor-gpu';
import { summarize } from '@llm/transformer';
import { renderLossCurve } from '@llm/train';
import { generate } from '@llm/sample';
import { ppoTrain, grpoTrain } from '@llm/align';
import { MODEL, EOT, encode, decode, lcg, randWord, wantsDigits, tagCorpus, cachedBase, cloneModel, fmt } from './common.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const baseIters = opt('--base-iters', quick ? 100 : 300);
const steps = opt('--steps', quick ? 10 : 200);
const evalEvery = opt('--eval-every', quick ? 5 : 10);
const klBound = opt('--kl-bound', 0.5);
const only = sopt('--methods')?.split(',');
const outFile = sopt('--out');
const here = fileURLToPath(new URL('.', import.meta.url));
const resultsDir = outFile ? dirname(outFile) : join(here, '../results');
const t00 = performance.now();
const elapsed = () => `${((performance.now() - t00) / 60000).toFixed(1)} min`;

const info = await initBackend({ backend: 'wasm', log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/align RL benchmark — ${machine}\n`);

const { model: base, facts: baseFacts } = await cachedBase('tag', () => tagCorpus(4000, 8, 7), { iters: baseIters, lr: 3e-3, seed: 11, log: console.log });
console.log(`base: ${summarize(base)} · ${baseIters} iterations on the tag corpus (batch 16 rows × 8 lines, lr 3e-3) · ${baseFacts.reused ? 'reused from an earlier run (same seed and settings)' : `${baseFacts.seconds.toFixed(0)} s`}, mean loss of the last 20 steps ${baseFacts.tailLoss.toFixed(4)} · ${elapsed()}`);

// ---- task -------------------------------------------------------------------------------------
const rnd = lcg(99);
const words = new Set();
while (words.size < 256 + 64) words.add(randWord(rnd));
const all = [...words];
const TRAIN_PROMPTS = all.slice(0, 256).map((w) => [EOT, ...encode(`${w}:`)]);
const EVAL_PROMPTS = all.slice(256).map((w) => [EOT, ...encode(`${w}:`)]);
const NEW_TOKENS = 4;
const isDigit = (c) => c >= '0' && c <= '9';
const isAj = (c) => c >= 'a' && c <= 'j';
/** Reward: share of the first three generated characters in the class the prompt word wants. */
function wantedClass(prompt, completion) {
  const w = decode(prompt.filter((i) => i >= 2)).slice(0, 3);
  const c = decode(completion).slice(0, 3);
  const ok = wantsDigits(w) ? isDigit : isAj;
  let n = 0;
  for (let i = 0; i < 3; i++) if (c[i] !== undefined && ok(c[i])) n++;
  return n / 3;
}

/** Fresh samples on the held-out prompts: mean reward and exact per-token KL(π‖π_ref). */
function measure(policy, reference, seed) {
  const { sequences } = generate(policy, EVAL_PROMPTS, { maxNewTokens: NEW_TOKENS, temperature: 1, seed, eosTokenId: null });
  let kl = 0, n = 0, reward = 0;
  const L = EVAL_PROMPTS[0].length + NEW_TOKENS;
  const P = EVAL_PROMPTS[0].length;
  sequences.forEach((c, b) => (reward += wantedClass(EVAL_PROMPTS[b], c)));
  const ids = sequences.map((c, b) => [...EVAL_PROMPTS[b], ...c]);
  const perPos = tf.tidy(() => {
    const x = tf.tensor2d(ids, [ids.length, L], 'int32');
    const lp = tf.logSoftmax(policy.forward(x));
    const lq = tf.logSoftmax(reference.forward(x));
    return tf.exp(lp).mul(lp.sub(lq)).sum(-1).arraySync(); // [B, L]
  });
  for (const row of perPos) for (let t = P - 1; t < L - 1; t++) {
    kl += row[t];
    n++;
  }
  return { reward: reward / sequences.length, klPerToken: kl / n };
}

// ---- methods ----------------------------------------------------------------------------------
const METHODS = [
  ...[['ppo', opt('--ppo-lr', 3e-4)], ['ppo-lr1e-3', 1e-3]].map(([key, lr]) => ({
    key,
    name: key === 'ppo' ? 'PPO' : 'PPO (lr 1e-3: too high)',
    params: `batch 16, 4 PPO epochs, lr ${lr}, k1 KL penalty β 0.05 (fixed), clip 0.2, value head vf 0.1, γ 1, λ 0.95`,
    rewardKey: 'objective/scores',
    klKey: 'objective/kl',
    klLogged: 'objective/kl ÷ 4 (Σ_t k1 per completion, per token)',
    klScale: 1 / NEW_TOKENS,
    run: (policy, reference, onStep) => ppoTrain(policy, { prompts: TRAIN_PROMPTS, reward: wantedClass, reference, steps, batchSize: 16, numPpoEpochs: 4, maxNewTokens: NEW_TOKENS, eosTokenId: null, learningRate: lr, klCoef: 0.05, adaptiveKl: false, seed: 1, onStep }),
  })),
  {
    key: 'grpo',
    name: 'GRPO',
    params: '4 prompts × 8 generations, lr 1e-3, β 0.1 (k3), ε 0.2, loss dapo, 1 iteration per batch',
    rewardKey: 'reward',
    klKey: 'kl',
    klLogged: 'kl (mean k3 per token)',
    klScale: 1,
    run: (policy, reference, onStep) => grpoTrain(policy, { prompts: TRAIN_PROMPTS, reward: wantedClass, reference, steps, promptsPerStep: 4, numGenerations: 8, maxNewTokens: NEW_TOKENS, eosTokenId: null, learningRate: 1e-3, beta: 0.1, seed: 1, onStep }),
  },
].filter((m) => !only || only.includes(m.key));

mkdirSync(resultsDir, { recursive: true });
const rows = [];
for (const m of METHODS) {
  const policy = cloneModel(base);
  const reference = cloneModel(base);
  const evals = [{ step: 0, ...measure(policy, reference, 1000) }];
  const curve = [];
  const stepMs = [];
  let last = performance.now();
  const t0 = performance.now();
  await m.run(policy, reference, async (metrics, step) => {
    const now = performance.now();
    stepMs.push(now - last);
    const s = step + 1 > curve.length ? curve.length + 1 : step;
    curve.push({ step: s, reward: metrics[m.rewardKey], kl: metrics[m.klKey] });
    if (s % evalEvery === 0 || s === steps) evals.push({ step: s, ...measure(policy, reference, 1000 + s) });
    last = performance.now();
  });
  const seconds = (performance.now() - t0) / 1000;
  const first = evals[0], end = evals.at(-1);
  const maxKl = Math.max(...evals.map((e) => e.klPerToken));
  const k = Math.max(1, Math.round(curve.length / 10));
  const rolloutStart = curve.slice(0, k).reduce((a, c) => a + c.reward, 0) / k;
  const rolloutEnd = curve.slice(-k).reduce((a, c) => a + c.reward, 0) / k;
  const ok = end.reward > first.reward && maxKl <= klBound;
  const verdict = `${m.name}: fresh-sample reward ${fmt(first.reward)} → ${fmt(end.reward)} (rollout mean of the first / last ${k} steps ${fmt(rolloutStart)} → ${fmt(rolloutEnd)}); max exact KL ${fmt(maxKl)} nats/token vs bound ${klBound} — ${ok ? 'PASS' : 'FAIL'}${end.reward > first.reward ? '' : ' (reward did not rise)'}${maxKl <= klBound ? '' : ' (KL over the bound)'}.`;
  const svgPath = join(resultsDir, `align-rl-${m.key}.svg`);
  writeFileSync(
    svgPath,
    renderLossCurve(
      [
        { name: 'rollout reward', points: curve.map((c) => ({ x: c.step, y: c.reward })) },
        { name: 'fresh-sample reward (held-out prompts)', points: evals.map((e) => ({ x: e.step, y: e.reward })) },
        { name: `logged ${m.klLogged}`, points: curve.map((c) => ({ x: c.step, y: c.kl * m.klScale })) },
        { name: 'exact KL(π‖π_ref) per token (fresh samples)', points: evals.map((e) => ({ x: e.step, y: e.klPerToken })) },
        { name: `KL bound ${klBound}`, points: [{ x: 0, y: klBound }, { x: steps, y: klBound }] },
      ],
      { title: `${m.name}: reward and KL to the reference (${quick ? 'quick' : 'full'} mode)`, xLabel: 'step', yLabel: 'reward / KL (nats)' },
    ),
  );
  rows.push({ key: m.key, method: m.name, params: m.params, steps: curve.length, seconds, medianStepMs: median(stepMs), rewardStart: first.reward, rewardEnd: end.reward, rolloutStart, rolloutEnd, maxKlPerToken: maxKl, endKlPerToken: end.klPerToken, klBound, pass: ok, verdict, evals, curve, svg: svgPath.slice(svgPath.indexOf('benchmarks/')) });
  console.log(`  ${verdict} · ${median(stepMs).toFixed(0)} ms/step · ${elapsed()}`);
  policy.dispose();
  reference.dispose();
}

// ---- report -----------------------------------------------------------------------------------
const command = `node benchmarks/align/rl.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const table = [
  '| method | settings | steps | reward (fresh samples) start → end | rollout reward first → last 10% | exact KL/token end (max) | bound | step (s, median) | curve |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.method} | ${r.params} | ${r.steps} | ${fmt(r.rewardStart)} → **${fmt(r.rewardEnd)}** | ${fmt(r.rolloutStart)} → ${fmt(r.rolloutEnd)} | ${fmt(r.endKlPerToken)} (${fmt(r.maxKlPerToken)}) | ${r.klBound} | ${(r.medianStepMs / 1000).toFixed(2)} | [${r.key}](../../${r.svg}) |`),
].join('\n');
const date = new Date().toISOString();
console.log(`\n## RL (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
console.log(`${machine} · ${date.slice(0, 10)} · base GPT-2 2 layers × 64, ${MODEL.vocabSize}-token character vocabulary, ${baseIters} iterations on the tag corpus · reward: share of the first 3 generated characters in the class the prompt wants (digits for a–m words, letters otherwise), ${TRAIN_PROMPTS.length} train / ${EVAL_PROMPTS.length} held-out prompts · ${NEW_TOKENS} new tokens, temperature 1\n`);
console.log(table);
for (const r of rows) console.log(`\n${r.verdict}`);
console.log(`\nTotal ${elapsed()}.`);
writeFileSync(
  outFile ?? join(resultsDir, 'align-rl.json'),
  JSON.stringify({ machine, command, date, mode: quick ? 'quick' : 'full', base: { ...MODEL, ...baseFacts, corpus: 'tag corpus (see preference.mjs), seed 7' }, task: { reward: 'share of the first 3 generated characters in the wanted class (digits if the prompt word starts with a–m, letters a–j otherwise)', trainPrompts: TRAIN_PROMPTS.length, evalPrompts: EVAL_PROMPTS.length, maxNewTokens: NEW_TOKENS, temperature: 1 }, klBound, klBoundDefinition: 'exact per-token KL(π‖π_ref) over completion positions of fresh samples on the held-out prompts', rows, table }, null, 2) + '\n',
);
