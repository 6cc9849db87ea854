// Tokenizer training benchmark: time to train an 8,192-token byte-level BPE vocabulary on 10 MB of
// text with @llm/tokenizer-bpe's trainer (GPT-2 pre-tokenization pattern), against the package's
// naive minbpe-style reference trainer (`trainBpeReference`) timed on a small slice and
// extrapolated. Medians throughout. Both trainers must learn the same merges: on that slice and on
// the first 30 kB of tinyshakespeare (exit code 1 otherwise).
//
//   node benchmarks/tokenizer/train.mjs            full run (≈ 1 min on 2 cores)
//   node benchmarks/tokenizer/train.mjs --quick    one run of each, no scaling table
//
// Our package is imported as '@llm/tokenizer-bpe' (build it first: npm run build --workspace
// @llm/tokenizer-bpe). The corpus is tinyshakespeare (from ../shared/data, when present)
// interleaved with seeded, generated pseudo-English; the exact make-up is printed.
import { readFileSync } from 'node:fs';
import { GPT2_PATTERN, trainBpeReference, trainBpeWithMerges } from '@llm/tokenizer-bpe';
import { machineLine, median, rng, sharedDataDir, sharedDataPath, timeRuns } from '@llm/kit';

const shakespearePath = sharedDataPath('tinyshakespeare.txt');
const quick = process.argv.includes('--quick');

const CORPUS_BYTES = 10_000_000;
const VOCAB = 8192;
const NAIVE_BYTES = 100_000;
const NAIVE_MERGES = 300;
const SHAKESPEARE_COPIES = 4;

const fmt = (n) => n.toLocaleString('en-US');
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

const ONSETS = [
  '',
  'b',
  'br',
  'c',
  'ch',
  'cl',
  'd',
  'dr',
  'f',
  'fl',
  'g',
  'gr',
  'h',
  'j',
  'k',
  'l',
  'm',
  'n',
  'p',
  'pl',
  'pr',
  'qu',
  'r',
  's',
  'sh',
  'sl',
  'st',
  't',
  'th',
  'tr',
  'v',
  'w',
  'wh',
  'y',
  'z',
];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ee', 'ie', 'oo', 'ou', 'y'];
const CODAS = ['', '', 'n', 'r', 's', 't', 'nd', 'ng', 'st', 'rt', 'ck', 'll', 'm', 'x'];
const ACCENTED = ['é', 'è', 'à', 'ü', 'ö', 'ñ', 'ç', 'ø', 'å'];

/**
 * Generated pseudo-English: a 60,000-word synthetic lexicon (1–4 syllables, 3% with an accented
 * letter) sampled with Zipf(1.05) frequencies, 6–24-word sentences with commas, capitals, some
 * numbers (1–4 digits), quotes and parentheses, paragraphs of 2–7 sentences.
 */
function generatedText(bytes, seed) {
  const rnd = rng(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const lexicon = [];
  for (let i = 0; i < 60_000; i++) {
    let w = '';
    const syl = 1 + Math.floor(rnd() * rnd() * 4.99);
    for (let s = 0; s < syl; s++) w += pick(ONSETS) + pick(NUCLEI) + pick(CODAS);
    if (rnd() < 0.03) {
      const at = Math.floor(rnd() * w.length);
      w = w.slice(0, at) + pick(ACCENTED) + w.slice(at + 1);
    }
    lexicon.push(w);
  }
  const cdf = [];
  let acc = 0;
  for (let r = 1; r <= lexicon.length; r++) cdf.push((acc += 1 / r ** 1.05));
  const word = () => {
    const x = rnd() * acc;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lexicon[lo];
  };
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const sentences = 2 + Math.floor(rnd() * 6);
    let para = '';
    for (let s = 0; s < sentences; s++) {
      const n = 6 + Math.floor(rnd() * 19);
      const words = [];
      for (let i = 0; i < n; i++) {
        const r = rnd();
        let w = r < 0.04 ? String(Math.floor(rnd() ** 3 * 10_000)) : word();
        if (i === 0 || r > 0.97) w = w[0].toUpperCase() + w.slice(1);
        if (r > 0.4 && r < 0.47 && i < n - 1) w += ',';
        if (r > 0.2 && r < 0.205) w = `"${w}"`;
        if (r > 0.3 && r < 0.303) w = `(${w})`;
        words.push(w);
      }
      para += words.join(' ') + pick(['.', '.', '.', '?', '!', ';']) + ' ';
    }
    para = para.trimEnd() + '\n\n';
    parts.push(para);
    size += Buffer.byteLength(para);
  }
  return parts.join('');
}

/** Cuts `text` into blocks of ~4 KB at line ends. */
function blocks(text) {
  const out = [];
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at + 4096);
    end = end < 0 ? text.length : end + 1;
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/** Exactly CORPUS_BYTES of UTF-8 text, and a sentence saying what it is. */
function buildCorpus() {
  const shakespeare = shakespearePath !== null ? readFileSync(shakespearePath, 'utf8') : null;
  const shakeBytes = shakespeare ? Buffer.byteLength(shakespeare) * SHAKESPEARE_COPIES : 0;
  const gen = generatedText(CORPUS_BYTES - shakeBytes + 8192, 12345);
  const a = shakespeare ? blocks(shakespeare.repeat(SHAKESPEARE_COPIES)) : [];
  const b = blocks(gen);
  // Interleave the two block lists evenly, then trim to the exact byte size.
  const mixed = [];
  for (let i = 0, j = 0; i < a.length || j < b.length; ) {
    if (j >= b.length || (i < a.length && i / a.length <= j / b.length)) mixed.push(a[i++]);
    else mixed.push(b[j++]);
  }
  const buf = Buffer.from(mixed.join(''));
  let end = CORPUS_BYTES;
  while ((buf[end] & 0xc0) === 0x80) end--; // do not cut a UTF-8 sequence
  const text = buf.subarray(0, end).toString('utf8');
  const genBytes = Buffer.byteLength(text) - shakeBytes;
  const what = shakespeare
    ? `${fmt(Buffer.byteLength(text))} bytes = ${SHAKESPEARE_COPIES} × tinyshakespeare.txt (${fmt(
        shakeBytes,
      )} bytes) ` +
      `+ ${fmt(
        genBytes,
      )} bytes of generated pseudo-English (seeded Zipf over a 60k-word synthetic lexicon, ` +
      `numbers, punctuation, 3% accented words), interleaved in ~4 KB blocks`
    : `${fmt(
        Buffer.byteLength(text),
      )} bytes of generated pseudo-English only (seeded Zipf over a 60k-word synthetic ` +
      `lexicon, numbers, punctuation, 3% accented words)`;
  return { text, what, haveShakespeare: shakespeare !== null };
}

/** Pre-tokenized piece counts, as the trainer sees them (GPT-2 pattern). */
function pieceStats(text, pattern) {
  const re = new RegExp(pattern, 'gu');
  const unique = new Set();
  let n = 0;
  for (const m of text.matchAll(re)) {
    unique.add(m[0]);
    n++;
  }
  return `${fmt(n)} pre-tokenized pieces, ${fmt(unique.size)} unique`;
}

/** One training run; returns total ms, the pre-tokenize/count part, and the merge count. */
function timeFast(text, vocabSize) {
  let mergeStart = 0;
  const t0 = performance.now();
  const r = trainBpeWithMerges(text, {
    vocabSize,
    onProgress: (p) => {
      if (p.phase === 'merge' && mergeStart === 0) mergeStart = performance.now();
    },
  });
  const total = performance.now() - t0;
  return { total, count: mergeStart - t0, merges: r.merges.length, result: r };
}

const sameMerges = (a, b) => JSON.stringify(a.merges) === JSON.stringify(b.merges);

async function main() {
  console.log(`Tokenizer training benchmark — ${machineLine()}`);
  if (shakespearePath === null) {
    console.log(`NOTE: tinyshakespeare.txt is absent from ${sharedDataDir()} (no ../shared): the corpus is generated text only.`);
  } else {
    const start = readFileSync(shakespearePath, 'utf8').slice(0, 30_000);
    const fast = trainBpeWithMerges(start, { vocabSize: 556 });
    const same = fast.merges.length === 300 && sameMerges(fast, trainBpeReference(start, { vocabSize: 556 }));
    console.log(`trainBpe = trainBpeReference on the first 30 kB of tinyshakespeare, 300 merges: ${same ? 'yes' : 'NO'}`);
    if (!same) process.exitCode = 1;
  }
  const { text, what } = buildCorpus();
  console.log(`corpus: ${what}`);
  console.log(`        ${pieceStats(text, GPT2_PATTERN)}`);
  console.log(
    `task: vocabulary ${fmt(VOCAB)} (256 bytes + ${fmt(
      VOCAB - 256,
    )} merges), GPT-2 pre-tokenization pattern\n`,
  );

  // Fast trainer, full job.
  const runs = [];
  const first = timeFast(text, VOCAB);
  runs.push(first);
  const reps = quick || first.total > 20_000 ? 1 : 3;
  for (let i = 1; i < reps; i++) runs.push(timeFast(text, VOCAB));
  const fastMs = median(runs.map((r) => r.total));
  const countMs = median(runs.map((r) => r.count));
  console.log(`trainBpe (heap + incremental pair counts), 10 MB → ${fmt(VOCAB)} tokens:`);
  console.log(
    `  ${reps === 1 ? '1 run' : `median of ${reps} runs`}: ${secs(fastMs)}  (pre-tokenize + count ${secs(
      countMs,
    )}, pair counts + merges ${secs(fastMs - countMs)}); runs: ${runs.map((r) => secs(r.total)).join(', ')}`,
  );
  if (reps === 1 && !quick) console.log('  (one run only: the first took over 20 s)');
  console.log(`  target ≤ 30 s: ${fastMs <= 30_000 ? 'met' : 'NOT met'}`);

  // Scaling with corpus size (same vocabulary).
  if (!quick) {
    console.log('\nscaling (1 run each, same 8,192 vocabulary):');
    for (const frac of [0.25, 0.5]) {
      const slice = text.slice(0, Math.floor(text.length * frac));
      const r = timeFast(slice, VOCAB);
      console.log(
        `  ${(frac * 10).toFixed(1)} MB: ${secs(r.total)}  (pre-tokenize + count ${secs(
          r.count,
        )}, pair counts + merges ${secs(r.total - r.count)})`,
      );
    }
    console.log(`  10.0 MB: ${secs(fastMs)}  (median above)`);
  }

  // Naive reference on a slice, then extrapolated.
  const slice = Buffer.from(text).subarray(0, NAIVE_BYTES).toString('utf8');
  let naive;
  const { median: naiveMs, times: naiveRuns } = timeRuns(() => (naive = trainBpeReference(slice, { vocabSize: 256 + NAIVE_MERGES })), { reps: quick ? 1 : 3 });
  const fastSlice = timeFast(slice, 256 + NAIVE_MERGES);
  const same = sameMerges(naive, fastSlice.result);
  if (!same) process.exitCode = 1;
  const factor = (CORPUS_BYTES / NAIVE_BYTES) * ((VOCAB - 256) / NAIVE_MERGES);
  console.log(`\ntrainBpeReference (minbpe-style: recount every pair over every piece on every merge):`);
  console.log(
    `  measured: first ${fmt(NAIVE_BYTES)} bytes, ${NAIVE_MERGES} merges: ${secs(naiveMs)} (median of ${
      naiveRuns.length
    }); trainBpe on the same: ${secs(fastSlice.total)}; merges identical: ${same ? 'yes' : 'NO'}`,
  );
  console.log(
    `  EXTRAPOLATED (not measured) to 10 MB and ${fmt(VOCAB - 256)} merges: × ${fmt(
      Math.round(factor),
    )} (size × merges, linear in both) ≈ ${((naiveMs * factor) / 3_600_000).toFixed(1)} h`,
  );
  console.log(
    '  (rough: later merges work on fewer, longer tokens, so the real figure would be somewhat lower)',
  );
  console.log(
    `  speed-up of trainBpe over the extrapolated naive time: ≈ ${fmt(
      Number(((naiveMs * factor) / fastMs).toPrecision(2)),
    )}×`,
  );
}

await main();
