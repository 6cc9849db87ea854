// PEFT benchmark (issue 14's table): supervised fine-tuning of the `npm start` model shape onto an
// instruction format it has never seen, with full fine-tuning and each @llm/peft method from the
// same base, on the same examples in the same order, for the same number of AdamW steps.
//
// Base: GPT-2, 4 layers, 4 heads, width 128, context 128, no bias, byte vocabulary, tied head, trained
// here for a fixed number of iterations (seeded: the same base on any machine) on the first 90% of
// Tiny Shakespeare. Task: lines of the held-out last 10%, as
//     "### Line:\n<line>\n### Upper:\n"  →  "<LINE UPPERCASED>\n"
// (loss on the response tokens only, the final newline included). Validation loss is the mean
// response-token cross-entropy over every held-out example (the whole val set at each eval).
//
// Methods (learning rates are stated in the table; weight decay 0, β = (0.9, 0.999), clip 1,
// 20 warmup steps then cosine to lr/10):
//   full FT · LoRA r 4, α 8 on c_attn (< 1% trainable) · DoRA (same r / targets) · QLoRA (NF4 +
//   double quant base via prepareQlora, then the same LoRA) · prompt tuning (20 virtual tokens,
//   random init) · prefix tuning (10 virtual tokens, no projection) · IA3 (PEFT's defaults: c_attn,
//   mlp.c_proj) · bottleneck adapter (defaults: reduction 16 → 8, swish, after attn.c_proj / mlp.c_proj)
//
//   node benchmarks/peft/sft.mjs            600 base iterations + 300 steps per method (≈ 30 min on 2 shared cores)
//   node benchmarks/peft/sft.mjs --quick    a smoke test (30 base iterations, 20 steps, small sets)
//   options: --base-iters N, --steps N, --batch N, --train-examples N, --val-examples N,
//            --eval-interval N, --margin X (nats: the LoRA-vs-full-FT verdict, default 0.05),
//            --methods a,b,… (a subset, by key: full,lora,lora-all,dora,qlora,prompt,prefix,ia3,adapter),
//            --n-layer N, --n-head N, --n-embd N (the base's shape; default 4, 4, 128),
//            --lr key=value,… (override a method's learning rate, e.g. lora-all=0.01),
//            --save-base DIR (keep the trained base), --base DIR (reuse a base saved by --save-base),
//            --out FILE (the results JSON; default benchmarks/results/peft.json)
//
// Without ../shared/data/tinyshakespeare.txt the base and the task use a seeded synthetic text
// (apps/trainer is private and not importable from here); the JSON says which.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, benchmarkCorpus, median } from '@llm/kit';
import { initBackend, IGNORE_INDEX } from '@llm/tensor-gpu';
import { TransformerLM, loadModel, summarize } from '@llm/transformer';
import { resolveTokenizer, writeTokenShard, TokenShard, splitTokens, WindowSampler, SftSampler, train } from '@llm/train';
import { getPeftModel, prepareQlora, trainableParameters, memoryFootprint } from '@llm/peft';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const sopt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const baseIters = opt('--base-iters', quick ? 30 : 600);
const steps = opt('--steps', quick ? 20 : 300);
const batchSize = opt('--batch', 8);
const nTrainEx = opt('--train-examples', quick ? 64 : 1100);
const nValEx = opt('--val-examples', quick ? 16 : 96);
const evalInterval = opt('--eval-interval', quick ? 10 : 50);
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
const dataName = bc.synthetic ? bc.name : `${bc.name} (base: first 90%; task lines: the last 10%)`;
if (bc.synthetic) console.log('Tiny Shakespeare not found (../shared/data): a seeded synthetic text instead.');
const tok = await resolveTokenizer('byte');
const T = 128;
const MODEL = { family: 'gpt2', vocabSize: 256, nLayer: opt('--n-layer', 4), nHead: opt('--n-head', 4), nEmbd: opt('--n-embd', 128), blockSize: T, bias: false, dropout: 0, activation: 'gelu_tanh', seed: 1337 };

// Task examples from the held-out tail of the text (never in the base's training split).
const text = readFileSync(corpus, 'utf8');
const tail = text.slice(Math.floor(text.length * 0.9));
const seen = new Set();
const pool = [];
for (const raw of tail.split('\n')) {
  const line = raw.trim();
  if (line.length < 12 || line.length > 40 || line === line.toUpperCase() || seen.has(line)) continue;
  seen.add(line);
  pool.push(line);
}
{
  let x = 2024; // seeded shuffle
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
}
if (pool.length < nTrainEx + nValEx) throw new Error(`only ${pool.length} distinct held-out lines of 12–40 characters; ask for fewer examples`);
const PROMPT = (line) => `### Line:\n${line}\n### Upper:\n`;
const RESPONSE = (line) => `${line.toUpperCase()}\n`;
/** Plain prompt/response records → ids and labels (IGNORE_INDEX on the prompt), as tokenizeRecords does for a template. */
function example(line) {
  const p = tok.tokenizer.encode(PROMPT(line));
  const r = tok.tokenizer.encode(RESPONSE(line));
  return { ids: [...p, ...r], labels: [...p.map(() => IGNORE_INDEX), ...r] };
}
const trainEx = pool.slice(0, nTrainEx).map(example);
const valEx = pool.slice(nTrainEx, nTrainEx + nValEx).map(example);
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
  { key: 'dora', name: 'DoRA r 4, α 8, c_attn', lr: 3e-3, setup: (m) => getPeftModel(m, { ...LORA, useDora: true }) },
  { key: 'qlora', name: 'QLoRA (NF4 base) r 4, α 8, c_attn', lr: 3e-3, setup: (m) => (prepareQlora(m), getPeftModel(m, LORA)) },
  { key: 'prompt', name: 'prompt tuning, 20 virtual tokens', lr: 3e-2, setup: (m) => getPeftModel(m, { peftType: 'PROMPT_TUNING', numVirtualTokens: 20 }) },
  { key: 'prefix', name: 'prefix tuning, 10 virtual tokens, no projection', lr: 1e-2, setup: (m) => getPeftModel(m, { peftType: 'PREFIX_TUNING', numVirtualTokens: 10, prefixProjection: false }) },
  { key: 'ia3', name: 'IA3 (defaults: c_attn, mlp.c_proj)', lr: 1e-2, setup: (m) => getPeftModel(m, { peftType: 'IA3' }) },
  { key: 'adapter', name: 'bottleneck adapter (defaults: 8 wide, swish)', lr: 3e-3, setup: (m) => getPeftModel(m, { peftType: 'BOTTLENECK_ADAPTER' }) },
].filter((m) => !only || only.includes(m.key));
// --lr key=value,… overrides a method's learning rate (e.g. --lr lora-all=0.01): for sweeps, stated in the table.
for (const kv of sopt('--lr')?.split(',') ?? []) {
  const [k, v] = kv.split('=');
  const m = METHODS.find((x) => x.key === k);
  if (!m || !(Number(v) > 0)) throw new Error(`--lr ${kv}: expected <method key>=<positive number>`);
  m.lr = Number(v);
}

console.log(`\ntask: ${trainEx.length} train / ${valEx.length} val examples (${responseTokens(trainEx).toLocaleString('en-US')} / ${responseTokens(valEx).toLocaleString('en-US')} response tokens, ≤ ${maxLen} tokens each) · ${steps} steps of batch ${batchSize} per method · val every ${evalInterval} steps over all ${valBatches} val batches`);
const rows = [];
for (const m of METHODS) {
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
  console.log(`  ${m.key.padEnd(8)} val ${row.initialValLoss.toFixed(4)} → ${row.finalValLoss.toFixed(4)} (best ${row.bestValLoss.toFixed(4)} @ ${row.bestStep}) · ${count.line} · ${row.medianStepMs?.toFixed(0)} ms/step · ${elapsed()}`);
  model.dispose();
}

// ---- report -----------------------------------------------------------------------------------
const command = `node benchmarks/peft/sft.mjs${args.length ? ' ' + args.join(' ') : ''}`;
const kib = (b) => (b >= 1 << 20 ? `${(b / 2 ** 20).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const lines = [
  `| method | lr | val loss (end) | val loss (best) | trainable params | trainable % | step (ms, median) | AdamW state | weights |`,
  `|---|---|---|---|---|---|---|---|---|`,
  ...rows.map(
    (r) =>
      `| ${r.method} | ${r.lr} | ${r.finalValLoss.toFixed(4)} | ${r.bestValLoss.toFixed(4)} | ${r.trainable.toLocaleString('en-US')} | ${r.trainablePercent.toFixed(3)} | ${r.medianStepMs === null ? '—' : r.medianStepMs.toFixed(0)} | ${kib(r.optimizerBytes)} | ${kib(r.weightBytes)}${r.key === 'qlora' ? ' (NF4 + float)' : ''} |`,
  ),
];
const full = rows.find((r) => r.key === 'full');
const lora = rows.find((r) => r.key === 'lora');
const baseLoss = full?.initialValLoss ?? rows[0]?.initialValLoss;
let verdict = 'LoRA vs full fine-tuning: not both run.';
if (full && lora) {
  const d = lora.bestValLoss - full.bestValLoss;
  const within = d <= margin;
  verdict = `LoRA ${within ? 'is within' : 'is NOT within'} ${margin} nats of full fine-tuning's best val loss (${lora.bestValLoss.toFixed(4)} vs ${full.bestValLoss.toFixed(4)}, ${d >= 0 ? '+' : ''}${d.toFixed(4)}) with ${lora.trainablePercent.toFixed(3)}% of parameters trainable${lora.trainablePercent < 1 ? '' : ' (NOT < 1%)'}; the base alone scores ${baseLoss.toFixed(4)}.`;
}
const date = new Date().toISOString();
console.log(`\n## SFT (${quick ? 'quick' : 'full'} mode) — ${command}\n`);
console.log(`${machine} · ${date.slice(0, 10)} · base GPT-2 ${MODEL.nLayer} layers × ${MODEL.nEmbd}, context ${T}, byte vocab, ${baseFacts.iterations} iterations on ${baseFacts.data} (text val loss ${baseFacts.valLoss.toFixed(4)}) · task "### Line:\\n…\\n### Upper:\\n" → the line uppercased: ${trainEx.length} train / ${valEx.length} val examples · ${steps} AdamW steps of batch ${batchSize} per method · base val loss on the task ${baseLoss.toFixed(4)}\n`);
console.log(lines.join('\n'));
console.log(`\n${verdict} Total ${elapsed()}.`);
mkdirSync(join(here, '../results'), { recursive: true });
writeFileSync(
  outFile ?? join(here, '../results/peft.json'),
  JSON.stringify(
    {
      machine,
      command,
      date,
      mode: quick ? 'quick' : 'full',
      data: dataName,
      base: { ...MODEL, iterations: baseFacts.iterations, seconds: baseFacts.seconds, textValLoss: baseFacts.valLoss },
      task: { format: 'prompt "### Line:\\n<line>\\n### Upper:\\n" → response "<LINE UPPERCASED>\\n", loss on response tokens', trainExamples: trainEx.length, valExamples: valEx.length, trainResponseTokens: responseTokens(trainEx), valResponseTokens: responseTokens(valEx), maxLength: maxLen },
      training: { steps, batchSize, warmupIters: warmup, schedule: 'cosine to lr/10', weightDecay: 0, betas: [0.9, 0.999], gradClip: 1, evalInterval, evalBatches: valBatches },
      baseTaskValLoss: baseLoss,
      margin,
      rows,
      verdict,
      table: lines.join('\n'),
    },
    null,
    2,
  ) + '\n',
);
rmSync(work, { recursive: true, force: true });
