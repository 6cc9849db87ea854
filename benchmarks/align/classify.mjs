// Classification benchmark (issue 15): a classifier head on a frozen backbone (@llm/align's HeadModel +
// classifierObjective, freezeBackbone) vs label-token SFT vs prompting (zero- and few-shot), on a
// generated 3-topic task, all from the same small pretrained backbone, accuracy on held-out rows.
//
// Backbone: GPT-2, 2 layers, 2 heads, width 64, context 160, the generated 44-token character
// vocabulary, pretrained here (seeded) on generated sentences about three topics — animals, food,
// sport — of 4–6 words: topic words (12 per topic), shared filler words, now and then a word of
// another topic (a distractor), and in 30% of the sentences the topic's own name ("animal", "food",
// "sport") as one of the words. Nothing in the corpus pairs a sentence with a label in a fixed format.
// Task: the topic of a new sentence from the same generator (600 train / 300 held-out rows, balanced,
// seeded; sentences with the topic name in them are left out of the task, so the answer is not in
// the text).
//   (a) head, frozen backbone: a 3-way linear head (SequenceClassifier, last real token) on "<text>",
//       only `score.weight` trains (cross-entropy); also (a′) the same head with the backbone trained
//   (b) label-token SFT: the whole model trained on "<text> = <label>\n", loss on " <label>\n" only;
//       prediction = argmax over the three labels of Σ log p(" <label>" | "<text> =")
//   (c) prompting, no training: zero-shot argmax of log p(" <label>" | "<text> ") (the LM's next word),
//       and few-shot with three labelled train examples (one per topic) before "<text> =" in (b)'s format
//
//   node benchmarks/align/classify.mjs            1000 base iterations, 400 steps per trained method (≈ 5 min on 2 shared cores)
//   node benchmarks/align/classify.mjs --quick    a smoke test (100 base iterations, 30 steps)
//   --fresh-base retrains the base (else one trained by an earlier run with the same settings is reused from the OS temp dir)
//   options: --base-iters N, --steps N, --batch N, --head-lr X (frozen-backbone head, default 5e-2), --out FILE (default benchmarks/results/align-classify.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, median } from '@llm/kit';
import { initBackend, IGNORE_INDEX } from '@llm/tensor-gpu';
import { SequenceClassifier, summarize } from '@llm/transformer';
import { train, SftSampler, evaluateObjective } from '@llm/train';
import { HeadModel, classifierObjective, textSource } from '@llm/align';
import { MODEL, PAD, EOT, encode, lcg, shuffle, cachedBase, cloneModel, scoreContinuations, pct } from './common.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const baseIters = opt('--base-iters', quick ? 100 : 1000);
const steps = opt('--steps', quick ? 30 : 400);
const batchSize = opt('--batch', 20);
const outFile = sopt('--out');
const here = fileURLToPath(new URL('.', import.meta.url));
const t00 = performance.now();
const elapsed = () => `${((performance.now() - t00) / 60000).toFixed(1)} min`;
const CFG = { ...MODEL, blockSize: 160 };

const info = await initBackend({ backend: 'wasm', log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/align classification benchmark — ${machine}\n`);

// ---- generator --------------------------------------------------------------------------------
const LABELS = ['animal', 'food', 'sport'];
const TOPIC = [
  ['cat', 'dog', 'horse', 'bird', 'fish', 'cow', 'sheep', 'lion', 'tiger', 'mouse', 'wolf', 'bear'],
  ['bread', 'cheese', 'apple', 'rice', 'soup', 'cake', 'egg', 'milk', 'meat', 'bean', 'pear', 'corn'],
  ['ball', 'goal', 'team', 'race', 'match', 'coach', 'swim', 'kick', 'score', 'bat', 'net', 'game'],
];
const FILLER = ['the', 'a', 'my', 'his', 'her', 'big', 'small', 'red', 'old', 'new', 'saw', 'had', 'likes', 'near', 'with', 'and', 'one', 'good'];
/** One sentence of topic y (4–6 words, at least two topic words); withName puts the topic's name in. */
function sentence(rnd, y, withName) {
  const n = 4 + Math.floor(rnd() * 3);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const words = Array.from({ length: n }, () => (rnd() < 0.5 ? pick(TOPIC[y]) : pick(FILLER)));
  words[Math.floor(rnd() * n)] = pick(TOPIC[y]);
  let k;
  do k = Math.floor(rnd() * n); while (TOPIC[y].includes(words[k]) && words.filter((w) => TOPIC[y].includes(w)).length < 2);
  if (rnd() < 0.25) words[k] = pick(TOPIC[(y + 1 + Math.floor(rnd() * 2)) % 3]); // a distractor
  if (withName) words[Math.floor(rnd() * n)] = LABELS[y];
  return words.join(' ');
}
const corpus = () => {
  const rnd = lcg(17);
  return Array.from({ length: 3000 }, () => Array.from({ length: 4 }, () => sentence(rnd, Math.floor(rnd() * 3), rnd() < 0.3)).join('\n') + '\n');
};
const rndTask = lcg(23);
const rowsOf = (n) => shuffle(Array.from({ length: n }, (_, i) => ({ text: sentence(rndTask, i % 3, false), label: i % 3 })), rndTask);
const TRAIN = rowsOf(600);
const HELD = rowsOf(300);
const seenTexts = new Set(TRAIN.map((r) => r.text));
const overlap = HELD.filter((r) => seenTexts.has(r.text)).length;

// ---- backbone ---------------------------------------------------------------------------------
const { model: base, facts: baseFacts } = await cachedBase('topics', corpus, { iters: baseIters, lr: 3e-3, seed: 13, log: console.log, config: CFG, batchSize: 16 });
console.log(`backbone: ${summarize(base)} · ${baseIters} iterations on the topic corpus · ${baseFacts.reused ? 'reused from an earlier run (same seed and settings)' : `${baseFacts.seconds.toFixed(0)} s`}, mean loss of the last 20 steps ${baseFacts.tailLoss.toFixed(4)} · ${elapsed()}`);
console.log(`task: ${TRAIN.length} train / ${HELD.length} held-out rows (3 balanced topics; ${overlap} held-out sentences also occur in train)\n`);

const label = (y) => encode(` ${LABELS[y]}`);
/** argmax over the labels of Σ log p(label tokens | prefix(text)). */
function labelScoreAccuracy(model, prefix) {
  const rows = HELD.flatMap((r) => LABELS.map((_, y) => ({ prefix: prefix(r.text), cont: label(y) })));
  const s = scoreContinuations(model, rows);
  let ok = 0;
  HELD.forEach((r, i) => {
    const sc = [0, 1, 2].map((y) => s[3 * i + y]);
    if (sc.indexOf(Math.max(...sc)) === r.label) ok++;
  });
  return ok / HELD.length;
}
const results = [];
const stepTimer = () => {
  const ms = [];
  let last = null;
  return { ms, onStep: () => { const now = performance.now(); if (last !== null) ms.push(now - last); last = now; } };
};

// (c) prompting
const FEW = [0, 1, 2].map((y) => TRAIN.find((r) => r.label === y));
const fewPrefix = FEW.map((r) => `${r.text} = ${LABELS[r.label]}\n`).join('');
const zeroShot = labelScoreAccuracy(base, (t) => [EOT, ...encode(t)]); // cont " <label>": the next word
results.push({ key: 'zero-shot', method: 'prompting, zero-shot (next word after "<text>")', trained: '—', steps: 0, accuracy: zeroShot });
const fewShot = labelScoreAccuracy(base, (t) => [EOT, ...encode(`${fewPrefix}${t} =`)]);
results.push({ key: 'few-shot', method: 'prompting, 3-shot ("<text> = <label>" examples)', trained: '—', steps: 0, accuracy: fewShot });
console.log(`  prompting: zero-shot ${pct(zeroShot)}, 3-shot ${pct(fewShot)} · ${elapsed()}`);

// (a) heads
const textEx = (rows) => rows.map((r) => ({ ids: [EOT, ...encode(r.text)], label: r.label }));
for (const frozen of [true, false]) {
  const clf = new HeadModel(new SequenceClassifier(cloneModel(base), { numLabels: 3 }), { freezeBackbone: frozen });
  const lr = frozen ? opt('--head-lr', 5e-2) : 1e-3;
  const data = { train: textSource(textEx(TRAIN), { batchSize, seed: 1, padId: PAD }), val: textSource(textEx(HELD), { batchSize, seed: 0, padId: PAD, shuffle: false }) };
  const valIters = Math.ceil(HELD.length / batchSize);
  const before = evaluateObjective(clf, data.val, valIters, classifierObjective()).metrics;
  const timer = stepTimer();
  let after = null;
  await train(clf, data, { maxIters: steps, lr, minLr: lr / 10, warmupIters: Math.min(10, steps), weightDecay: 0, gradClip: 1, evalInterval: steps, evalIters: valIters, evalTrain: false, logInterval: 1_000_000 }, { objective: classifierObjective(), onStep: timer.onStep, onEval: (e) => (after = e.metrics) });
  const trainable = clf.trainableParameters().reduce((a, [, v]) => a + v.size, 0);
  results.push({ key: frozen ? 'head-frozen' : 'head-full', method: frozen ? 'classifier head, frozen backbone' : 'classifier head, backbone trained too', trained: `${trainable.toLocaleString('en-US')} params, lr ${lr}`, steps, before: before.accuracy, accuracy: after.eval_accuracy, f1: after.eval_f1, medianStepMs: median(timer.ms) });
  console.log(`  head (${frozen ? 'frozen' : 'full'}): ${pct(before.accuracy)} → ${pct(after.eval_accuracy)} (F1 ${after.eval_f1.toFixed(3)}) · ${median(timer.ms).toFixed(0)} ms/step · ${elapsed()}`);
  clf.classifier.dispose();
  clf.classifier.backbone.dispose();
}

// (b) label-token SFT
{
  const model = cloneModel(base);
  const sftEx = (rows) => rows.map((r) => {
    const p = [EOT, ...encode(`${r.text} =`)];
    const resp = encode(` ${LABELS[r.label]}\n`);
    return { ids: [...p, ...resp], labels: [...p.map(() => IGNORE_INDEX), ...resp] };
  });
  const lr = 1e-3;
  const before = labelScoreAccuracy(model, (t) => [EOT, ...encode(`${t} =`)]);
  const timer = stepTimer();
  await train(model, { train: new SftSampler(sftEx(TRAIN), { batchSize, seed: 1, padId: PAD, maxLength: CFG.blockSize }) }, { maxIters: steps, lr, minLr: lr / 10, warmupIters: Math.min(10, steps), weightDecay: 0, gradClip: 1, evalInterval: 0, evalTrain: false, logInterval: 1_000_000 }, { onStep: timer.onStep });
  const acc = labelScoreAccuracy(model, (t) => [EOT, ...encode(`${t} =`)]);
  const trainable = model.trainableParameters().reduce((a, [, v]) => a + v.size, 0);
  results.push({ key: 'sft', method: 'label-token SFT ("<text> =" → " <label>")', trained: `${trainable.toLocaleString('en-US')} params, lr ${lr}`, steps, before, accuracy: acc, medianStepMs: median(timer.ms) });
  console.log(`  label-token SFT: ${pct(before)} → ${pct(acc)} · ${median(timer.ms).toFixed(0)} ms/step · ${elapsed()}`);
  model.dispose();
}

// ---- report -----------------------------------------------------------------------------------
const order = ['head-frozen', 'head-full', 'sft', 'zero-shot', 'few-shot'];
results.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
const command = `node benchmarks/align/classify.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const table = [
  '| method | trained | steps (batch ' + batchSize + ') | held-out accuracy (before →) after | macro F1 | step (ms, median) |',
  '|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.method} | ${r.trained} | ${r.steps} | ${r.before === undefined ? '' : `${pct(r.before)} → `}**${pct(r.accuracy)}** | ${r.f1 === undefined ? '—' : r.f1.toFixed(3)} | ${r.medianStepMs === undefined ? '—' : r.medianStepMs.toFixed(0)} |`),
].join('\n');
const date = new Date().toISOString();
console.log(`\n## Classification (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
console.log(`${machine} · ${date.slice(0, 10)} · backbone GPT-2 2 layers × 64, context 160, ${CFG.vocabSize}-token character vocabulary, ${baseIters} iterations on the generated topic corpus · ${TRAIN.length} train / ${HELD.length} held-out sentences, 3 topics (chance 33.3%)\n`);
console.log(table);
console.log(`\nTotal ${elapsed()}.`);
mkdirSync(outFile ? dirname(outFile) : join(here, '../results'), { recursive: true });
writeFileSync(
  outFile ?? join(here, '../results/align-classify.json'),
  JSON.stringify({ machine, command, date, mode: quick ? 'quick' : 'full', base: { ...CFG, ...baseFacts, corpus: '3000 rows × 4 generated topic sentences (seed 17); 30% of sentences contain the topic name' }, task: { labels: LABELS, trainRows: TRAIN.length, heldOutRows: HELD.length, heldOutAlsoInTrain: overlap, fewShotPrefix: fewPrefix }, rows: results, table }, null, 2) + '\n',
);
