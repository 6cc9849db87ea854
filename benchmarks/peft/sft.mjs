// PEFT benchmark (issue 14's table): supervised fine-tuning of the `npm start` model shape onto an
// instruction format it has never seen, with full fine-tuning and each @llm/peft method from the
// same base, on the same examples in the same order, for the same number of AdamW steps.
//
// Base: GPT-2, 4 layers, 4 heads, width 128, context 128, no bias, byte vocabulary, tied head, trained
// here for a fixed number of iterations (seeded: the same base on any machine) on the first 90% of
// Tiny Shakespeare. Tasks (--task):
//   continue (default) — a new instruction format over content the base already models: pairs of
//     consecutive non-empty lines of the play (line 12–44 characters, next line ≤ 44, prompt +
//     response ≤ 128 tokens), as
//       "### Instruction:\nContinue the play.\n### Input:\n<line>\n### Response:\n"  →  "<next line>\n"
//     Train pairs come from the base's own training text (the first 90%), val pairs from the held-out
//     last 10%, so validation measures the format on unseen lines, not memorisation.
//   upper — the earlier task (a per-byte vocabulary remap, inherently high-rank on a byte model):
//     lines of 12–40 characters of the held-out last 10%, as
//       "### Line:\n<line>\n### Upper:\n"  →  "<LINE UPPERCASED>\n"
// Loss on the response tokens only (the final newline included). Validation loss is the mean
// response-token cross-entropy over every held-out example (the whole val set at each eval):
// continue steps × batch train pairs (one pass) / 384 val pairs, eval every 100 steps; upper 1,100 /
// 96 lines, eval every 50 steps.
// Example order comes from @llm/kit's seeded rng (mulberry32); results before 2026-12-05 05:00 UTC
// used a float LCG that lost precision, so their `upper` examples differ.
//
// Methods (weight decay 0, β = (0.9, 0.999), clip 1, warmup min(20, steps/10) then cosine to lr/10):
//   full FT · LoRA r 4, α 8 on c_attn (0.97% trainable) · LoRA r 1, α 2 on all linears (0.97%) ·
//   LoRA r 2, α 4 on c_attn + attn.c_proj (0.73%) · DoRA (r 4, c_attn) · QLoRA (NF4 + double quant
//   base via prepareQlora, then LoRA r 4 c_attn) · prompt tuning (20 virtual tokens, random init) ·
//   prefix tuning (10 virtual tokens, no projection) · IA3 (PEFT's defaults: c_attn, mlp.c_proj) ·
//   bottleneck adapter (defaults: reduction 16 → 8, swish, after attn.c_proj / mlp.c_proj)
//
//   node benchmarks/peft/sft.mjs            600 base iterations + 300 steps per method
//   node benchmarks/peft/sft.mjs --quick    a smoke test (30 base iterations, 20 steps, small sets)
//   options: --task continue|upper, --base-iters N, --steps N, --batch N, --train-examples N,
//            --val-examples N, --eval-interval N,
//            --margin X (nats: the LoRA-vs-full-FT verdict, default 0.05 — stated before any result),
//            --methods a,b,… (a subset, by key: full,lora,lora-all,lora-attn,dora,qlora,prompt,prefix,ia3,adapter),
//            --n-layer N, --n-head N, --n-embd N (the base's shape; default 4, 4, 128),
//            --lr key=value,… (a method's learning rate, e.g. lora-all=0.01; key=v1/v2/v3 sweeps:
//              one run per value, all in the table),
//            --save-base DIR (keep the trained base), --base DIR (reuse a base saved by --save-base),
//            --out FILE (the results JSON; default benchmarks/results/peft.json)
// benchmarks/peft/table.mjs merges several result files of the same base and task (sweeps run as
// separate processes) into one table, taking each method at its best learning rate.
//
// Without ../shared/data/tinyshakespeare.txt the base and the task use a seeded synthetic text
// (apps/trainer is private and not importable from here); the JSON says which.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, benchmarkCorpus, median, rng } from '@llm/kit';
import { initBackend, IGNORE_INDEX } from '@llm/tensor-gpu';
import { TransformerLM, loadModel, summarize } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, WindowSampler, SftSampler, train } from '@llm/train';
import { getPeftModel, prepareQlora, trainableParameters, memoryFootprint } from '@llm/peft';
import { TASKS, tableOf, verdictOf } from './report.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const task = args.includes('--task') ? args[args.indexOf('--task') + 1] : 'continue';
if (!TASKS[task]) throw new Error(`--task ${task}: expected one of ${Object.keys(TASKS).join(', ')}`);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const baseIters = opt('--base-iters', quick ? 30 : 600);
const steps = opt('--steps', quick ? 20 : 300);
const batchSize = opt('--batch', 8);
const nTrainEx = opt('--train-examples', quick ? 64 : task === 'upper' ? 1100 : steps * batchSize); // continue: one pass
const nValEx = opt('--val-examples', quick ? 16 : task === 'upper' ? 96 : 384); // continue: ≈ 4,800 response tokens
const evalInterval = opt('--eval-interval', quick ? 10 : task === 'upper' ? 50 : 100);
const margin = opt('--margin', 0.05);
const warmup = Math.min(20, Math.max(1, Math.round(steps / 10)));
const saveBaseDir = sopt('--save-base');
const baseDir = sopt('--base');
const only = sopt('--methods')?.split(',');
const outFile = sopt('--out');
const here = fileURLToPath(new URL('.', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'llm-peft-sft-'));
const t00 = performance.now();
const elapsed = () => `${((performance.now() - t00) / 60000).toFixed(1)} min`;

const info = await initBackend({ log: false });
const machine = machineLine(`backend ${info.backend}`);
console.log(`# @llm/peft SFT benchmark — ${machine}\n`);

// ---- data -------------------------------------------------------------------------------------
const bc = benchmarkCorpus(work); // Tiny Shakespeare, or a seeded synthetic text on a fresh clone
const corpus = bc.path;
const dataName = bc.synthetic ? bc.name : `${bc.name} (base: first 90%; ${task === 'upper' ? 'task lines: the last 10%' : 'train pairs: the first 90%, val pairs: the last 10%'})`;
if (bc.synthetic) console.log('Tiny Shakespeare not found (../shared/data): a seeded synthetic text instead.');
const tok = await resolveTokenizer('byte');
const T = 128;
const MODEL = { family: 'gpt2', vocabSize: 256, nLayer: opt('--n-layer', 4), nHead: opt('--n-head', 4), nEmbd: opt('--n-embd', 128), blockSize: T, bias: false, dropout: 0, activation: 'gelu_tanh', seed: 1337 };

const text = readFileSync(corpus, 'utf8');
const head = text.slice(0, Math.floor(text.length * 0.9)); // the base's training split (bytes = chars: ASCII)
const tail = text.slice(Math.floor(text.length * 0.9)); // held out from the base
/** Fisher–Yates with @llm/kit's seeded rng (mulberry32: integer arithmetic, the same on every platform). */
function shuffle(xs, seed) {
  const rnd = rng(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
/** Distinct lines of 12–40 characters that uppercasing changes (the `upper` task). */
function upperPool(s) {
  const seen = new Set();
  const pool = [];
  for (const raw of s.split('\n')) {
    const line = raw.trim();
    if (line.length < 12 || line.length > 40 || line === line.toUpperCase() || seen.has(line)) continue;
    seen.add(line);
    pool.push({ line });
  }
  return shuffle(pool, 2024);
}
/** Distinct (line, next non-empty line) pairs that fit the context with the template (the `continue` task). */
function continuePool(s) {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const seen = new Set();
  const pool = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i];
    const next = lines[i + 1];
    if (line.length < 12 || line.length > 44 || next.length > 44) continue;
    if (line.endsWith(':') && line === line.toUpperCase()) continue; // a speaker's name as the input
    if (TASKS.continue.prompt({ line }).length + TASKS.continue.response({ line, next }).length > T) continue;
    const key = `${line}\n${next}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pool.push({ line, next });
  }
  return shuffle(pool, 2024);
}
let trainPool;
let valPool;
if (task === 'upper') {
  const pool = upperPool(tail);
  if (pool.length < nTrainEx + nValEx) throw new Error(`only ${pool.length} distinct held-out lines of 12–40 characters; ask for fewer examples`);
  trainPool = pool.slice(0, nTrainEx);
  valPool = pool.slice(nTrainEx, nTrainEx + nValEx);
} else {
  trainPool = continuePool(head);
  valPool = continuePool(tail);
  if (trainPool.length < nTrainEx) throw new Error(`only ${trainPool.length} line pairs in the base's training text fit; ask for fewer --train-examples`);
  if (valPool.length < nValEx) throw new Error(`only ${valPool.length} line pairs in the held-out text fit; ask for fewer --val-examples`);
  trainPool = trainPool.slice(0, nTrainEx);
  valPool = valPool.slice(0, nValEx);
}
const PROMPT = TASKS[task].prompt;
const RESPONSE = TASKS[task].response;
/** Plain prompt/response records → ids and labels (IGNORE_INDEX on the prompt), as tokenizeRecords does for a template. */
function example(ex) {
  const p = tok.tokenizer.encode(PROMPT(ex));
  const r = tok.tokenizer.encode(RESPONSE(ex));
  return { ids: [...p, ...r], labels: [...p.map(() => IGNORE_INDEX), ...r] };
}
const trainEx = trainPool.map(example);
const valEx = valPool.map(example);
const maxLen = Math.max(...[...trainEx, ...valEx].map((e) => e.ids.length));
const valBatches = Math.ceil(valEx.length / batchSize);
const responseTokens = (xs) => xs.reduce((a, e) => a + e.labels.filter((l) => l !== IGNORE_INDEX).length, 0);

// ---- base -------------------------------------------------------------------------------------
let ckpt = join(work, 'base');
let baseFacts;
if (baseDir) {
  ckpt = baseDir;
  baseFacts = JSON.parse(readFileSync(join(baseDir, 'peft-base.json'), 'utf8'));
  console.log(`base: ${baseDir} (${baseFacts.iterations} iterations, val loss ${baseFacts.valLoss.toFixed(4)}, by an earlier run)`);
} else {
  await writeTokenShard(join(work, 'tokens'), [corpus], tok);
  const shard = await TokenShard.open(join(work, 'tokens'));
  const { train: trainRange, val } = splitTokens(shard, 0.1);
  const model0 = new TransformerLM(MODEL);
  console.log(`base: ${summarize(model0)} · byte vocabulary · ${dataName}`);
  console.log(`training the base ${baseIters} iterations (batch 8 × ${T}, lr 1e-3 cosine to 1e-4)…`);
  const tBase = performance.now();
  let valLoss = null;
  await train(
    model0,
    { train: new WindowSampler(trainRange, { batchSize: 8, blockSize: T, seed: 1337 }), val: new WindowSampler(val, { batchSize: 8, blockSize: T, seed: 1338 }) },
    { maxIters: baseIters, lr: 1e-3, minLr: 1e-4, warmupIters: Math.min(100, Math.round(baseIters / 10)), weightDecay: 0.1, decayRule: 'all-2d', beta1: 0.9, beta2: 0.99, gradClip: 1, evalInterval: 0, evalIters: quick ? 2 : 10, evalTrain: false, logInterval: 1_000_000 },
    {
      onStep: (s) => {
        if (s.step % 100 === 0) console.log(`  step ${s.step}: loss ${s.loss.toFixed(4)} · ${elapsed()}`);
      },
      onEval: (e) => (valLoss = e.valLoss),
    },
  );
  baseFacts = { iterations: baseIters, seconds: (performance.now() - tBase) / 1000, valLoss, data: dataName, config: MODEL };
  console.log(`base: ${baseIters} iterations in ${baseFacts.seconds.toFixed(0)} s, val loss ${valLoss.toFixed(4)} (text)`);
  if (saveBaseDir) ckpt = saveBaseDir;
  await model0.save(ckpt);
  writeFileSync(join(ckpt, 'peft-base.json'), JSON.stringify(baseFacts) + '\n');
  model0.dispose();
}

// ---- methods ----------------------------------------------------------------------------------
const LORA = { peftType: 'LORA', r: 4, loraAlpha: 8, loraDropout: 0, targetModules: ['c_attn'] };
const METHODS = [
  { key: 'full', name: 'full fine-tuning', lr: 3e-4, setup: (m) => m },
  { key: 'lora', name: 'LoRA r 4, α 8, c_attn', lr: 3e-3, setup: (m) => getPeftModel(m, LORA) },
  { key: 'lora-all', name: 'LoRA r 1, α 2, all linears', lr: 3e-3, setup: (m) => getPeftModel(m, { peftType: 'LORA', r: 1, loraAlpha: 2, targetModules: 'all-linear' }) },
  { key: 'lora-attn', name: 'LoRA r 2, α 4, c_attn + attn.c_proj', lr: 3e-3, setup: (m) => getPeftModel(m, { peftType: 'LORA', r: 2, loraAlpha: 4, targetModules: ['c_attn', 'attn.c_proj'] }) },
  { key: 'dora', name: 'DoRA r 4, α 8, c_attn', lr: 3e-3, setup: (m) => getPeftModel(m, { ...LORA, useDora: true }) },
  { key: 'qlora', name: 'QLoRA (NF4 base) r 4, α 8, c_attn', lr: 3e-3, setup: (m) => (prepareQlora(m), getPeftModel(m, LORA)) },
  { key: 'prompt', name: 'prompt tuning, 20 virtual tokens', lr: 3e-2, virtual: 20, setup: (m) => getPeftModel(m, { peftType: 'PROMPT_TUNING', numVirtualTokens: 20 }) },
  { key: 'prefix', name: 'prefix tuning, 10 virtual tokens, no projection', lr: 1e-2, virtual: 10, setup: (m) => getPeftModel(m, { peftType: 'PREFIX_TUNING', numVirtualTokens: 10, prefixProjection: false }) },
  { key: 'ia3', name: 'IA3 (defaults: c_attn, mlp.c_proj)', lr: 1e-2, setup: (m) => getPeftModel(m, { peftType: 'IA3' }) },
  { key: 'adapter', name: 'bottleneck adapter (defaults: 8 wide, swish)', lr: 3e-3, setup: (m) => getPeftModel(m, { peftType: 'BOTTLENECK_ADAPTER' }) },
];
for (const k of only ?? []) if (!METHODS.some((m) => m.key === k)) throw new Error(`--methods ${k}: expected keys from ${METHODS.map((m) => m.key).join(',')}`);
// --lr key=value,… sets a method's learning rate (e.g. --lr lora-all=0.01); key=v1/v2/… sweeps it (one run per value).
const lrs = new Map();
for (const kv of sopt('--lr')?.split(',') ?? []) {
  const [k, v] = kv.split('=');
  const vals = (v ?? '').split('/').map(Number);
  if (!METHODS.some((x) => x.key === k) || !vals.every((x) => x > 0)) throw new Error(`--lr ${kv}: expected <method key>=<positive number>[/<positive number>…]`);
  lrs.set(k, vals);
}
const RUNS = METHODS.filter((m) => !only || only.includes(m.key)).flatMap((m) => (lrs.get(m.key) ?? [m.lr]).map((lr) => ({ ...m, lr })));

console.log(`\ntask: ${trainEx.length} train / ${valEx.length} val examples (${responseTokens(trainEx).toLocaleString('en-US')} / ${responseTokens(valEx).toLocaleString('en-US')} response tokens, ≤ ${maxLen} tokens each) · ${steps} steps of batch ${batchSize} per method · val every ${evalInterval} steps over all ${valBatches} val batches`);
const rows = [];
const skipped = [];
for (const m of RUNS) {
  // Virtual tokens take positions of the context: the longest example plus them must fit in T.
  if (m.virtual && maxLen + m.virtual > T) {
    const why = `${m.key}: skipped — its ${m.virtual} virtual tokens + the longest example (${maxLen} tokens) exceed the ${T}-token context (the train loop's CONTEXT_OVERFLOW); run it on --task upper or with shorter examples`;
    console.log(`  ${why}`);
    skipped.push(why);
    continue;
  }
  const base = await loadModel(ckpt);
  const model = m.setup(base);
  const count = trainableParameters(model);
  const mem = memoryFootprint(model);
  const evals = [];
  const stepMs = [];
  let last = null;
  let afterEval = true;
  const res = await train(
    model,
    {
      train: new SftSampler(trainEx, { batchSize, seed: 7, padId: 0, maxLength: T }),
      val: new SftSampler(valEx, { batchSize, seed: 8, padId: 0, maxLength: T }),
    },
    { maxIters: steps, lr: m.lr, minLr: m.lr / 10, warmupIters: warmup, weightDecay: 0, beta1: 0.9, beta2: 0.999, gradClip: 1, evalInterval, evalIters: valBatches, evalTrain: false, logInterval: 1_000_000 },
    {
      onStep: (s) => {
        const now = performance.now();
        if (last !== null && !afterEval && s.step > 5) stepMs.push(now - last);
        last = now;
        afterEval = false;
      },
      onEval: (e) => {
        evals.push({ step: e.step, valLoss: e.valLoss });
        afterEval = true;
      },
    },
  );
  const row = {
    key: m.key,
    method: m.name,
    lr: m.lr,
    steps: res.steps,
    initialValLoss: evals[0].valLoss,
    finalValLoss: res.lastValLoss,
    bestValLoss: res.bestValLoss,
    bestStep: evals.reduce((a, e) => (e.valLoss < a.valLoss ? e : a)).step,
    lastTrainLoss: res.lastLoss,
    trainable: count.trainable,
    allParams: count.all,
    trainablePercent: count.percent,
    peftLine: count.line,
    medianStepMs: stepMs.length ? median(stepMs) : null,
    optimizerBytes: mem.optimizerBytes,
    weightBytes: mem.weightBytes,
    evals,
  };
  rows.push(row);
  console.log(`  ${m.key.padEnd(9)} lr ${m.lr} val ${row.initialValLoss.toFixed(4)} → ${row.finalValLoss.toFixed(4)} (best ${row.bestValLoss.toFixed(4)} @ ${row.bestStep}) · ${count.line} · ${row.medianStepMs?.toFixed(0)} ms/step · ${elapsed()}`);
  model.dispose();
  report(false);
}

// ---- report -----------------------------------------------------------------------------------
// Written after every run (a long sweep that is stopped keeps what it finished), then printed at the end.
function report(final) {
  const command = `node benchmarks/peft/sft.mjs${args.length ? ' ' + args.join(' ') : ''}`;
  const lines = tableOf(rows);
  const baseLoss = rows[0]?.initialValLoss;
  const verdict = verdictOf(rows, margin);
  const date = new Date().toISOString();
  if (final) {
    console.log(`\n## SFT (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
    console.log(`${machine} · ${date.slice(0, 10)} · base GPT-2 ${MODEL.nLayer} layers × ${MODEL.nEmbd}, context ${T}, byte vocab, ${baseFacts.iterations} iterations on ${bc.synthetic ? bc.name : `${bc.name} (first 90%)`} (text val loss ${baseFacts.valLoss.toFixed(4)}) · task ${task}: ${TASKS[task].describe}: ${trainEx.length} train / ${valEx.length} val examples · ${steps} AdamW steps of batch ${batchSize} per method · base val loss on the task ${baseLoss.toFixed(4)}\n`);
    console.log(lines.join('\n'));
    console.log(`\n${verdict} Total ${elapsed()}.`);
  }
  mkdirSync(join(here, '../results'), { recursive: true });
  writeFileSync(
    outFile ?? join(here, '../results/peft.json'),
    JSON.stringify(
      {
        machine,
        command,
        date,
        complete: final,
        mode: quick ? 'quick' : 'full',
        data: dataName,
        base: { ...MODEL, iterations: baseFacts.iterations, seconds: baseFacts.seconds, textValLoss: baseFacts.valLoss },
        task: { name: task, format: TASKS[task].format, trainExamples: trainEx.length, valExamples: valEx.length, trainResponseTokens: responseTokens(trainEx), valResponseTokens: responseTokens(valEx), maxLength: maxLen },
        training: { steps, batchSize, warmupIters: warmup, schedule: 'cosine to lr/10', weightDecay: 0, betas: [0.9, 0.999], gradClip: 1, evalInterval, evalBatches: valBatches },
        baseTaskValLoss: baseLoss,
        margin,
        rows,
        skipped,
        verdict,
        table: lines.join('\n'),
      },
      null,
      2,
    ) + '\n',
  );
}
report(true);
rmSync(work, { recursive: true, force: true });
