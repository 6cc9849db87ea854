/**
 * AI feedback (RLAIF): a judge model labels which of two responses is better, read from the
 * log-probabilities of its answer tokens (one scoring forward per order, no sampling), asked in
 * both orders so that a preference for a slot cancels out (Lee et al. 2023; Bai et al. 2022).
 *
 *   const r = await judgePairs(judge, tok, { rows: [{ prompt, a, b }], principle: 'Which reply is less harmful?' });
 *   r.preferences;    // [{ prompt, chosen, rejected, confidence }]   (DPO data)
 *   r.positionBias;   // how much the judge favours the first slot (0 = none)
 *
 * Per row, with the labels A / B (the first / second slot) and ℓ = the judge's log-probability of a
 * label after the judge prompt:
 *
 *   d₁ = ℓ(A) − ℓ(B) with a in slot A         P₁ = σ(d₁) = P(A | a, b), renormalised over the two labels
 *   d₂ = ℓ(B) − ℓ(A) with b in slot A         P₂ = σ(d₂) = P(B | b, a)
 *   p(a ≻ b) = (P₁ + P₂) / 2                  ('probability', default: the RLAIF paper's average)
 *            = σ((d₁ + d₂) / 2)               ('logit': the average log-odds)
 *
 * A judge that adds β to the probability of the first slot has P₁ = q + β, P₂ = q − β: the
 * probability average is q exactly. One that adds δ to the first slot's log-odds has d₁ = s + δ,
 * d₂ = s − δ: the logit average is σ(s) exactly (the probability average is only close). The bias
 * itself is reported: positionBias = mean over rows of (P₁ + (1 − P₂)) / 2 − 0.5 (β for the first
 * judge), positionBiasLogit = mean (d₁ − d₂) / 2 (δ for the second).
 */
import { tf, hashSeed } from '@llm/tensor-gpu';
import type { CausalLMLike, GenerationOptions } from '@llm/sample';
import type { ChatMessage, Tokenizer } from '@llm/tokenizer-bpe';
import { AlignError } from '../errors.js';
import {
  checkModelTokenizer,
  checkOutPath,
  describe,
  generateReplies,
  intOption,
  renderIds,
  seedOption,
  stringList,
  templateOption,
  writeJsonlAtomic,
  type RlaifTemplate,
} from './common.js';

/** A pair to judge: two responses to one prompt. */
export interface JudgeRow {
  prompt: string;
  a: string;
  b: string;
}

/** What the judge prompt is built from (one order: `first` is in the slot of labels[0]). */
export interface JudgePromptInput {
  prompt: string;
  first: string;
  second: string;
  principle: string | null;
  labels: readonly [string, string];
}

export interface JudgeOptions {
  rows: readonly JudgeRow[];
  /** The criterion the judge is asked to apply (e.g. 'Which reply is more helpful and less harmful?'). */
  principle?: string;
  /** Chat template of the judge: 'chatml' (default), a ChatTemplate, Jinja source, or 'none' (raw text). */
  template?: RlaifTemplate;
  /** Answer labels of the first and second slot. Default ['A', 'B'] (with 'none': [' A', ' B'], after "Answer:"). Best as one token each. */
  labels?: readonly [string, string];
  /** The user message of the judge (default: defaultJudgePrompt). */
  judgePrompt?: (input: JudgePromptInput) => string;
  /** A system message for the judge. */
  system?: string;
  /** Text after the generation prompt, before the label (e.g. 'The better response is'). Default ''. */
  answerPrefix?: string;
  /** Rows with |p(a ≻ b) − 0.5| below this are ties, in [0, 0.5). Default 0.05. */
  margin?: number;
  /** 'skip' (default): ties are not emitted as preferences; 'flag': emitted with `tie: true`. */
  ties?: 'skip' | 'flag';
  /** How the two orders are combined: 'probability' (default) or 'logit' (see the module comment). */
  combine?: 'probability' | 'logit';
  /** Write the preference rows here as JSONL, atomically. */
  outPath?: string;
}

/** The judge's verdict on one row. */
export interface Judgement {
  index: number;
  prompt: string;
  a: string;
  b: string;
  /** P(a chosen) with a in the first slot (P₁). */
  pAFirst: number;
  /** P(a chosen) with a in the second slot (P₂). */
  pASecond: number;
  /** The combined p(a ≻ b). */
  pA: number;
  /** The log-odds of a per order: [d₁ (a first), d₂ (a second)]. */
  logOdds: [number, number];
  /** (P₁ + (1 − P₂)) / 2: the judge's mean probability of picking the first slot on this row. */
  firstSlot: number;
  /** Both orders prefer the same response. */
  consistent: boolean;
  /** Probability mass of the two labels under the judge's full next-token distribution, per order (low = the judge is not answering in the format). */
  labelMass: [number, number];
  tie: boolean;
}

/** One preference row for DPO: `{ prompt, chosen, rejected }` plus the judge's confidence p(chosen ≻ rejected) ∈ [0.5, 1]. */
export interface PreferenceLabel {
  prompt: string;
  chosen: string;
  rejected: string;
  confidence: number;
  /** Only on ties kept by `ties: 'flag'`. */
  tie?: true;
}

export interface JudgeResult {
  judgements: Judgement[];
  /** Rows to train on (ties skipped or flagged). */
  preferences: PreferenceLabel[];
  /** Mean first-slot probability − 0.5 over the rows, in [−0.5, 0.5] (0 = no position bias). */
  positionBias: number;
  /** Mean (d₁ − d₂) / 2: the first slot's bonus in log-odds. */
  positionBiasLogit: number;
  /** Fraction of rows where both orders agree. */
  consistency: number;
  ties: number;
  /** Mean label mass over rows and orders. */
  meanLabelMass: number;
  /** Rows written to outPath, when given. */
  written?: number;
}

/** The default judge message. */
export function defaultJudgePrompt({ prompt, first, second, principle, labels }: JudgePromptInput): string {
  const [x, y] = [labels[0].trim(), labels[1].trim()];
  return (
    `Compare two responses to the same prompt${principle ? ` by this principle: ${principle}` : ''}.\n\n` +
    `Prompt:\n${prompt}\n\nResponse ${x}:\n${first}\n\nResponse ${y}:\n${second}\n\n` +
    `Which response is better? Answer with ${x} or ${y} only.`
  );
}

const sigmoid = (d: number) => (d >= 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d)));

/** Judges every row in both orders (see the module comment); writes `outPath` only when every row was judged. */
export async function judgePairs(judge: CausalLMLike, tokenizer: Tokenizer, options: JudgeOptions): Promise<JudgeResult> {
  if (!options || typeof options !== 'object') throw new AlignError('INVALID_ARGUMENT', 'judgePairs needs an options object with rows.');
  checkModelTokenizer(judge, tokenizer, 'the judge');
  const rows = checkRows(options.rows);
  const cfg = judgeConfig(options, tokenizer);
  await checkOutPath(options.outPath, 'outPath');
  const judgements: Judgement[] = [];
  rows.forEach((row, i) => judgements.push(judgeRow(judge, tokenizer, row, i, cfg)));
  return finish(judgements, cfg, options.outPath);
}

interface JudgeConfig {
  template: RlaifTemplate;
  principle: string | null;
  labels: readonly [string, string];
  labelIds: [number[], number[]];
  prompt: (input: JudgePromptInput) => string;
  system: string | null;
  prefixIds: number[];
  margin: number;
  ties: 'skip' | 'flag';
  combine: 'probability' | 'logit';
}

function judgeConfig(o: Omit<JudgeOptions, 'rows'>, tokenizer: Tokenizer): JudgeConfig {
  const template = templateOption(o.template ?? 'chatml');
  const raw = template === 'none';
  const labels = o.labels ?? (raw ? ([' A', ' B'] as const) : (['A', 'B'] as const));
  if (!Array.isArray(labels) || labels.length !== 2 || labels.some((l) => typeof l !== 'string' || l === '')) throw new AlignError('CONFIG_INVALID', `labels must be two non-empty strings, got ${describe(labels)}.`);
  const labelIds: [number[], number[]] = [tokenizer.encodeOrdinary(labels[0]), tokenizer.encodeOrdinary(labels[1])];
  if (labelIds[0].join(',') === labelIds[1].join(',')) throw new AlignError('CONFIG_INVALID', `labels ${JSON.stringify(labels)} encode to the same tokens; give two different labels.`);
  if (labelIds.some((l, k) => labelIds[1 - k]!.length > l.length && labelIds[1 - k]!.slice(0, l.length).join(',') === l.join(','))) {
    throw new AlignError('CONFIG_INVALID', `labels ${JSON.stringify(labels)}: one label's tokens begin the other's, so their probabilities overlap; give labels that differ in their first token.`);
  }
  const margin = o.margin ?? 0.05;
  if (typeof margin !== 'number' || !(margin >= 0 && margin < 0.5)) throw new AlignError('CONFIG_INVALID', `margin must be a number in [0, 0.5), got ${describe(margin)}.`);
  const ties = o.ties ?? 'skip';
  if (ties !== 'skip' && ties !== 'flag') throw new AlignError('CONFIG_INVALID', `ties must be 'skip' or 'flag', got ${JSON.stringify(ties)}.`);
  const combine = o.combine ?? 'probability';
  if (combine !== 'probability' && combine !== 'logit') throw new AlignError('CONFIG_INVALID', `combine must be 'probability' or 'logit', got ${JSON.stringify(combine)}.`);
  if (o.principle !== undefined && typeof o.principle !== 'string') throw new AlignError('CONFIG_INVALID', `principle must be a string, got ${describe(o.principle)}.`);
  if (o.system !== undefined && typeof o.system !== 'string') throw new AlignError('CONFIG_INVALID', `system must be a string, got ${describe(o.system)}.`);
  if (o.answerPrefix !== undefined && typeof o.answerPrefix !== 'string') throw new AlignError('CONFIG_INVALID', `answerPrefix must be a string, got ${describe(o.answerPrefix)}.`);
  if (o.judgePrompt !== undefined && typeof o.judgePrompt !== 'function') throw new AlignError('CONFIG_INVALID', 'judgePrompt must be a function (input) => string.');
  const base = o.judgePrompt ?? defaultJudgePrompt;
  const prompt = raw && !o.judgePrompt ? (x: JudgePromptInput) => `${base(x)}\nAnswer:` : base;
  return {
    template,
    principle: o.principle ?? null,
    labels,
    labelIds,
    prompt,
    system: o.system ?? null,
    prefixIds: o.answerPrefix ? tokenizer.encodeOrdinary(o.answerPrefix) : [],
    margin,
    ties,
    combine,
  };
}

function checkRows(rows: unknown): JudgeRow[] {
  if (!Array.isArray(rows) || rows.length === 0) throw new AlignError('INVALID_ARGUMENT', `rows must be a non-empty array of { prompt, a, b }, got ${describe(rows)}.`);
  return rows.map((r: unknown, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new AlignError('DATA_INVALID', `rows[${i}] must be an object { prompt, a, b }, got ${describe(r)}.`);
    const x = r as Record<string, unknown>;
    for (const key of ['prompt', 'a', 'b']) {
      if (typeof x[key] !== 'string' || (x[key] as string).trim() === '') throw new AlignError('DATA_INVALID', `rows[${i}]: field "${key}" must be a non-empty string, got ${describe(x[key])}.`);
    }
    if (x.a === x.b) throw new AlignError('DATA_INVALID', `rows[${i}]: fields "a" and "b" are identical; there is nothing to prefer.`);
    return { prompt: x.prompt as string, a: x.a as string, b: x.b as string };
  });
}

/** ℓ(label 0), ℓ(label 1) after the judge prompt with `first` / `second` in the slots. */
function labelLogps(judge: CausalLMLike, tokenizer: Tokenizer, cfg: JudgeConfig, row: JudgeRow, first: string, second: string, where: string): [number, number] {
  const messages: ChatMessage[] = [];
  if (cfg.system !== null) messages.push({ role: 'system', content: cfg.system });
  messages.push({ role: 'user', content: cfg.prompt({ prompt: row.prompt, first, second, principle: cfg.principle, labels: cfg.labels }) });
  const ids = [...renderIds(tokenizer, messages, cfg.template), ...cfg.prefixIds];
  const longest = Math.max(cfg.labelIds[0].length, cfg.labelIds[1].length);
  const block = judge.config.blockSize;
  if (ids.length === 0) throw new AlignError('INVALID_ARGUMENT', `${where}: the judge prompt is empty.`);
  if (ids.length + longest - 1 > block) {
    throw new AlignError('SEQUENCE_TOO_LONG', `${where}: the judge prompt is ${ids.length} tokens (+ ${longest} of label); the judge's context is ${block}. Shorten the prompt or the responses.`);
  }
  const V = judge.config.vocabSize;
  const single = cfg.labelIds.every((l) => l.length === 1);
  const out: [number, number] = single
    ? (() => {
        const ls = hostLogSoftmax(forwardLogits(judge, ids, 1), V, 0);
        return [ls[cfg.labelIds[0][0]!]!, ls[cfg.labelIds[1][0]!]!];
      })()
    : [sumLogp(judge, ids, cfg.labelIds[0]), sumLogp(judge, ids, cfg.labelIds[1])];
  if (!out.every(Number.isFinite)) throw new AlignError('INVALID_ARGUMENT', `${where}: the judge's log-probabilities of the labels are not finite (${out.join(', ')}); its weights or logits are broken, or it gives a label zero probability.`);
  return out;
}

/** The last `keep` positions' logits of one row, on the host [keep·V]. */
function forwardLogits(model: CausalLMLike, ids: number[], keep: number): Float32Array {
  return tf.tidy(() => {
    const logits = model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { logitsToKeep: keep }); // [1, keep, V]
    return Float32Array.from(logits.dataSync());
  });
}

/** log-softmax of position `pos` of host logits (float64). */
function hostLogSoftmax(logits: Float32Array, V: number, pos: number): Float64Array {
  const row = logits.subarray(pos * V, (pos + 1) * V);
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/** Σ log p(label tokens | ids): one forward over ids + label[:-1]. */
function sumLogp(model: CausalLMLike, ids: number[], label: number[]): number {
  const logits = forwardLogits(model, [...ids, ...label.slice(0, -1)], label.length);
  const V = model.config.vocabSize;
  let total = 0;
  label.forEach((id, j) => (total += hostLogSoftmax(logits, V, j)[id]!));
  return total;
}

function judgeRow(judge: CausalLMLike, tokenizer: Tokenizer, row: JudgeRow, index: number, cfg: JudgeConfig): Judgement {
  const [l1, l2] = labelLogps(judge, tokenizer, cfg, row, row.a, row.b, `row ${index}, a first`);
  const [m1, m2] = labelLogps(judge, tokenizer, cfg, row, row.b, row.a, `row ${index}, b first`);
  const d1 = l1 - l2; // log-odds of a, a in the first slot
  const d2 = m2 - m1; // log-odds of a, a in the second slot
  const pAFirst = sigmoid(d1);
  const pASecond = sigmoid(d2);
  const pA = cfg.combine === 'logit' ? sigmoid((d1 + d2) / 2) : (pAFirst + pASecond) / 2;
  return {
    index,
    prompt: row.prompt,
    a: row.a,
    b: row.b,
    pAFirst,
    pASecond,
    pA,
    logOdds: [d1, d2],
    firstSlot: (pAFirst + (1 - pASecond)) / 2,
    consistent: d1 !== 0 && d2 !== 0 && d1 > 0 === d2 > 0,
    labelMass: [Math.exp(l1) + Math.exp(l2), Math.exp(m1) + Math.exp(m2)],
    tie: pA === 0.5 || Math.abs(pA - 0.5) < cfg.margin,
  };
}

async function finish(judgements: Judgement[], cfg: JudgeConfig, outPath: string | undefined): Promise<JudgeResult> {
  const n = judgements.length;
  const mean = (f: (j: Judgement) => number) => (n ? judgements.reduce((s, j) => s + f(j), 0) / n : 0);
  const preferences: PreferenceLabel[] = [];
  for (const j of judgements) {
    if (j.tie && cfg.ties === 'skip') continue;
    const aWins = j.pA >= 0.5;
    const row: PreferenceLabel = { prompt: j.prompt, chosen: aWins ? j.a : j.b, rejected: aWins ? j.b : j.a, confidence: aWins ? j.pA : 1 - j.pA };
    if (j.tie) row.tie = true;
    preferences.push(row);
  }
  const result: JudgeResult = {
    judgements,
    preferences,
    positionBias: mean((j) => j.firstSlot) - 0.5,
    positionBiasLogit: mean((j) => (j.logOdds[0] - j.logOdds[1]) / 2),
    consistency: mean((j) => (j.consistent ? 1 : 0)),
    ties: judgements.filter((j) => j.tie).length,
    meanLabelMass: mean((j) => (j.labelMass[0] + j.labelMass[1]) / 2),
  };
  if (outPath !== undefined) result.written = await writeJsonlAtomic(outPath, preferences);
  return result;
}

export interface LabelPreferencesOptions extends Omit<JudgeOptions, 'rows' | 'template'> {
  /** User prompts to sample two responses for. */
  prompts: readonly string[];
  /** The policy's sampling settings (must sample: temperature > 0). `seed` is replaced by seeds derived from `seed`. */
  generation?: GenerationOptions;
  /** Chat template of the policy ('chatml' default, ChatTemplate, Jinja source, 'none'). */
  template?: RlaifTemplate;
  /** Chat template of the judge. Default: `template`. */
  judgeTemplate?: RlaifTemplate;
  /** The judge's tokenizer when it differs from the policy's. */
  judgeTokenizer?: Tokenizer;
  /** System message of the policy's conversations. */
  policySystem?: string;
  /** Seed of sampling. Default 0. */
  seed?: number;
  /** Prompts sampled together (2 rows each), in [1, 512]. Default 4. */
  batchSize?: number;
}

export interface LabelPreferencesResult {
  /** The sampled pairs that were judged. */
  pairs: JudgeRow[];
  /** Prompt indices left out: both samples identical, or one empty. */
  skipped: { identical: number[]; empty: number[] };
  /** The judge's result (preferences, position bias, …); empty judgements when every pair was skipped. */
  judged: JudgeResult;
}

/**
 * Samples two responses per prompt from the policy (seeded; the two are rows of one batch, so they
 * draw from different streams), drops pairs that are identical or have an empty side, and judges
 * the rest with `judgePairs` → preference JSONL for DPO at `outPath`.
 */
export async function labelPreferences(policy: CausalLMLike, judge: CausalLMLike, tokenizer: Tokenizer, options: LabelPreferencesOptions): Promise<LabelPreferencesResult> {
  if (!options || typeof options !== 'object') throw new AlignError('INVALID_ARGUMENT', 'labelPreferences needs an options object with prompts.');
  const judgeTok = options.judgeTokenizer ?? tokenizer;
  checkModelTokenizer(policy, tokenizer, 'the policy');
  checkModelTokenizer(judge, judgeTok, 'the judge');
  const prompts = stringList(options.prompts, 'prompts');
  const template = templateOption(options.template ?? 'chatml');
  const judgeTemplate = templateOption(options.judgeTemplate ?? template);
  const seed = seedOption(options.seed ?? 0);
  const batchSize = intOption(options.batchSize ?? 4, 'batchSize', 1, 512);
  const generation = options.generation ?? {};
  if (generation.temperature === 0 || generation.doSample === false) throw new AlignError('CONFIG_INVALID', 'labelPreferences samples two different responses per prompt: generation must sample (temperature > 0, doSample not false).');
  if (options.policySystem !== undefined && typeof options.policySystem !== 'string') throw new AlignError('CONFIG_INVALID', 'policySystem must be a string.');
  const cfg = judgeConfig({ ...options, template: judgeTemplate }, judgeTok); // options checked before any sampling
  await checkOutPath(options.outPath, 'outPath');

  const pairs: JudgeRow[] = [];
  const skipped = { identical: [] as number[], empty: [] as number[] };
  for (let start = 0, batch = 0; start < prompts.length; start += batchSize, batch++) {
    const idx = prompts.slice(start, start + batchSize).map((_, k) => start + k);
    const rows = idx.flatMap((i) => {
      const messages: ChatMessage[] = [...(options.policySystem !== undefined ? [{ role: 'system', content: options.policySystem }] : []), { role: 'user', content: prompts[i]! }];
      const ids = renderIds(tokenizer, messages, template);
      return [ids, ids];
    });
    const texts = generateReplies(policy, tokenizer, rows, { generation, template, seed: hashSeed(seed, `judge:${batch}`), where: (r) => `prompt ${idx[r >> 1]}, sample ${(r & 1) + 1}` });
    idx.forEach((i, k) => {
      const [a, b] = [texts[2 * k]!, texts[2 * k + 1]!];
      if (a === '' || b === '') skipped.empty.push(i);
      else if (a === b) skipped.identical.push(i);
      else pairs.push({ prompt: prompts[i]!, a, b });
    });
  }
  const judgements = pairs.map((row, i) => judgeRow(judge, judgeTok, row, i, cfg));
  return { pairs, skipped, judged: await finish(judgements, cfg, options.outPath) };
}
