/**
 * Run one task against a model: k-shot prompts, then log-likelihood scoring (multiple choice:
 * `acc`, `acc_norm`) or greedy generation + regex extraction + exact match (`exact_match`), each with
 * lm-eval's standard error. Tokenization as lm-eval: trailing spaces of the context move to the
 * front of the continuation; the continuation's ids are encode(context + continuation) past the
 * length of encode(context).
 *
 *   const task = await readTask('arithmetic-mc.jsonl');
 *   const r = evaluateTask(model, tokenizer, task, { shots: 3, limit: 100, batchSize: 8 });
 *   r.metrics.acc   // → { value: 0.41, stderr: 0.049 }
 *   console.log(formatResultsTable([r]));
 */
import type { CausalLM } from '@llm/transformer';
import { TrainError } from '../errors.js';
import type { Task } from './task.js';
import { fewShotPrompt } from './prompt.js';
import { loglikelihoods, type LoglikRequest } from './loglik.js';
import { greedyGenerate } from './generate.js';
import { chooseMc, exactMatch, extractAnswer, meanStderr } from './metrics.js';

/** What the harness needs of a tokenizer (@llm/tokenizer-bpe's Tokenizer is one). */
export interface EvalTokenizer {
  encodeOrdinary(text: string): number[];
  decode(ids: number[]): string;
}

export interface EvalTaskOptions {
  /** Solved examples in front of each item. Default 0. */
  shots?: number;
  /** Seed of the shot draw. Default 1234. */
  seed?: number;
  /** Score only the first n items. Default all. */
  limit?: number;
  /** Log-likelihood requests per forward. Default 8. */
  batchSize?: number;
  /** Keep each item's prompt, scores and prediction in the result. Default false. */
  samples?: boolean;
  /** Progress: units done of total (log-likelihood requests, or generated items). */
  onProgress?: (done: number, total: number) => void;
}

export interface MetricValue {
  value: number;
  /** lm-eval's stderr: sample std / √n. */
  stderr: number;
}

export interface TaskSample {
  index: number;
  prompt: string;
  /** multiple choice: the summed log-likelihood of each choice. */
  logprobs?: number[];
  /** generate: the raw output (cut at `until`) and the extracted answer. */
  output?: string;
  answer?: string;
  target: string;
  scores: Record<string, number>;
}

export interface TaskResult {
  task: string;
  type: Task['type'];
  shots: number;
  /** Items scored. */
  n: number;
  metrics: Record<string, MetricValue>;
  samples?: TaskSample[];
}

/** Context and continuation ids as lm-eval's loglikelihood request builds them. */
export function encodePair(tok: EvalTokenizer, context: string, continuation: string): LoglikRequest {
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(context.length - spaces) + continuation;
    context = context.slice(0, context.length - spaces);
  }
  const whole = tok.encodeOrdinary(context + continuation);
  const ctx = tok.encodeOrdinary(context);
  return { context: ctx, continuation: whole.slice(ctx.length) };
}

/** The generation cut at the first `until` string. */
export function cutAtStop(text: string, until: readonly string[]): string {
  let end = text.length;
  for (const u of until) {
    const i = text.indexOf(u);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
}

const hasStop = (text: string, until: readonly string[]) => until.some((u) => text.includes(u));

export function evaluateTask(model: CausalLM, tok: EvalTokenizer, task: Task, opts: EvalTaskOptions = {}): TaskResult {
  const shots = opts.shots ?? 0;
  const limit = opts.limit ?? task.items.length;
  if (!Number.isInteger(limit) || limit < 1) throw new TrainError('INVALID_ARGUMENT', `limit must be an integer ≥ 1, got ${limit}`);
  const n = Math.min(limit, task.items.length);
  const prompts = Array.from({ length: n }, (_, i) => fewShotPrompt(task, i, { shots, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) }));
  const samples: TaskSample[] = [];
  const metrics: Record<string, MetricValue> = {};
  const summarize = (name: string, xs: number[]) => {
    const { mean, stderr } = meanStderr(xs);
    metrics[name] = { value: mean, stderr };
  };
  if (task.type === 'multiple_choice') {
    const requests: LoglikRequest[] = [];
    const spans: Array<[number, number]> = [];
    prompts.forEach((p, i) => {
      const item = task.items[i]!;
      spans.push([requests.length, item.choices.length]);
      for (const c of item.choices) requests.push(encodePair(tok, p, task.targetDelimiter + c));
    });
    const lls = loglikelihoods(model, requests, { batchSize: opts.batchSize ?? 8, ...(opts.onProgress ? { onBatch: opts.onProgress } : {}) });
    const acc: number[] = [];
    const accNorm: number[] = [];
    spans.forEach(([start, count], i) => {
      const item = task.items[i]!;
      const logprobs = lls.slice(start, start + count).map((r) => r.logprob);
      const { pred, predNorm } = chooseMc(logprobs, item.choices);
      acc.push(pred === item.gold ? 1 : 0);
      accNorm.push(predNorm === item.gold ? 1 : 0);
      if (opts.samples) samples.push({ index: i, prompt: prompts[i]!, logprobs, target: item.choices[item.gold]!, scores: { acc: acc[i]!, acc_norm: accNorm[i]! } });
    });
    summarize('acc', acc);
    summarize('acc_norm', accNorm);
  } else {
    const em: number[] = [];
    prompts.forEach((p, i) => {
      const item = task.items[i]!;
      const ids = tok.encodeOrdinary(p);
      if (ids.length === 0) throw new TrainError('DATA_INVALID', `task ${task.name}: item ${i} has an empty prompt`);
      const gen = greedyGenerate(model, ids, { maxNewTokens: task.maxNewTokens, stop: (out) => hasStop(tok.decode([...out]), task.until) });
      const output = cutAtStop(tok.decode(gen), task.until);
      const answer = extractAnswer(output, task.extract);
      em.push(exactMatch(answer, item.target, task.ignoreCase));
      if (opts.samples) samples.push({ index: i, prompt: p, output, answer, target: item.target, scores: { exact_match: em[i]! } });
      opts.onProgress?.(i + 1, n);
    });
    summarize('exact_match', em);
  }
  return { task: task.name, type: task.type, shots, n, metrics, ...(opts.samples ? { samples } : {}) };
}

/**
 * Results as a text table, one row per task and metric (lm-eval's layout):
 *
 *   | task          | n-shot | metric   |  value |   stderr |
 *   | arithmetic-mc |      3 | acc      | 0.4100 | ± 0.0494 |
 */
export function formatResultsTable(results: readonly TaskResult[]): string {
  const rows = results.flatMap((r) => Object.entries(r.metrics).map(([m, v]) => [r.task, String(r.shots), m, v.value.toFixed(4), Number.isFinite(v.stderr) ? `± ${v.stderr.toFixed(4)}` : '± n/a']));
  const head = ['task', 'n-shot', 'metric', 'value', 'stderr'];
  const width = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, j) => (j === 1 || j >= 3 ? c.padStart(width[j]!) : c.padEnd(width[j]!))).join(' | ')} |`;
  return [line(head), `|${width.map((w, j) => (j === 1 || j >= 3 ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`, ...rows.map(line)].join('\n');
}
