/**
 * Evaluation task files: JSONL, an optional first line `{"task": {...}}` with the task's settings,
 * then one item per line. Multiple-choice items have `choices` and `gold`; generation items have
 * `target`. The kind is the header's `type`, or inferred from the first item.
 *
 *   {"task": {"name": "add", "type": "generate", "extract": "-?\\d+", "until": ["\n"]}}
 *   {"context": "Q: 2 + 3 =\nA:", "target": "5"}
 *   parseTask(text, 'add.jsonl')   // → { name: 'add', type: 'generate', items: [{ context: 'Q: 2 + 3 =\nA:', target: '5' }], … }
 *
 * A k-shot prompt joins k rendered items (context + targetDelimiter + answer) and the item itself
 * (its context) with fewshotDelimiter, as lm-evaluation-harness does.
 */
import { readFile } from 'node:fs/promises';
import { TrainError } from '../errors.js';

export interface McItem {
  context: string;
  choices: string[];
  /** Index of the right choice. */
  gold: number;
}

export interface GenItem {
  context: string;
  /** The answer exact match compares with (after extraction from the generation). */
  target: string;
}

export interface TaskSettings {
  name: string;
  type: 'multiple_choice' | 'generate';
  /** Text in front of every prompt (lm-eval's description). Default ''. */
  description: string;
  /** Between a context and its answer (lm-eval target_delimiter). Default ' '. */
  targetDelimiter: string;
  /** Between shots, and between the last shot and the item (lm-eval fewshot_delimiter). Default '\n\n'. */
  fewshotDelimiter: string;
  /** generate: a generation ends at the first of these strings (not included). Default ['\n\n']. */
  until: string[];
  /** generate: at most this many new tokens. Default 32. */
  maxNewTokens: number;
  /** generate: regex whose first match (its first group, if any) is the answer; null: the whole trimmed output. */
  extract: string | null;
  /** generate: compare case-insensitively. Default false. */
  ignoreCase: boolean;
}

export type Task = (TaskSettings & { type: 'multiple_choice'; items: McItem[] }) | (TaskSettings & { type: 'generate'; items: GenItem[] });

const SETTINGS_KEYS = ['name', 'type', 'description', 'targetDelimiter', 'fewshotDelimiter', 'until', 'maxNewTokens', 'extract', 'ignoreCase'];

/** Parse a task file's text; `source` names it in errors (file:line). */
export function parseTask(text: string, source = 'task'): Task {
  const lines = text.split('\n').map((l, i) => [l.trim(), i + 1] as const).filter(([l]) => l !== '');
  const bad = (line: number, why: string): never => {
    throw new TrainError('DATA_INVALID', `${source}:${line}: ${why}`);
  };
  const records = lines.map(([l, n]) => {
    try {
      const v = JSON.parse(l) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(n, 'each line must be a JSON object');
      return [v as Record<string, unknown>, n] as const;
    } catch (e) {
      if (e instanceof TrainError) throw e;
      return bad(n, `not valid JSON (${(e as Error).message})`);
    }
  });
  let header: Record<string, unknown> = {};
  if (records[0] && 'task' in records[0][0]) {
    const [h, n] = records.shift()!;
    if (typeof h.task !== 'object' || h.task === null || Array.isArray(h.task)) bad(n, '"task" must be an object of settings');
    header = h.task as Record<string, unknown>;
    const unknown = Object.keys(header).filter((k) => !SETTINGS_KEYS.includes(k));
    if (unknown.length) bad(n, `unknown task setting ${unknown.map((k) => `"${k}"`).join(', ')} (valid: ${SETTINGS_KEYS.join(', ')})`);
  }
  if (records.length === 0) throw new TrainError('DATA_EMPTY', `${source}: no items (one JSON object per line: {"context", "choices", "gold"} or {"context", "target"})`);
  const type = header.type ?? ('choices' in records[0]![0] ? 'multiple_choice' : 'generate');
  if (type !== 'multiple_choice' && type !== 'generate') bad(1, `task type must be "multiple_choice" or "generate", got ${JSON.stringify(type)}`);
  const str = (v: unknown, key: string, n: number, def?: string): string => {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string') return bad(n, `"${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const until = header.until ?? ['\n\n'];
  if (!Array.isArray(until) || until.some((u) => typeof u !== 'string' || u === '')) bad(1, '"until" must be a list of non-empty strings');
  const maxNewTokens = header.maxNewTokens ?? 32;
  if (typeof maxNewTokens !== 'number' || !Number.isInteger(maxNewTokens) || maxNewTokens < 1) bad(1, `"maxNewTokens" must be an integer ≥ 1, got ${JSON.stringify(maxNewTokens)}`);
  const extract = header.extract ?? null;
  if (extract !== null) {
    try {
      new RegExp(str(extract, 'extract', 1));
    } catch (e) {
      bad(1, `"extract" is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  const settings: TaskSettings = {
    name: str(header.name, 'name', 1, source.replace(/^.*[\\/]/, '').replace(/\.jsonl?$/, '')),
    type: type as TaskSettings['type'],
    description: str(header.description, 'description', 1, ''),
    targetDelimiter: str(header.targetDelimiter, 'targetDelimiter', 1, ' '),
    fewshotDelimiter: str(header.fewshotDelimiter, 'fewshotDelimiter', 1, '\n\n'),
    until: until as string[],
    maxNewTokens: maxNewTokens as number,
    extract: extract as string | null,
    ignoreCase: header.ignoreCase === undefined ? false : header.ignoreCase === true ? true : header.ignoreCase === false ? false : bad(1, '"ignoreCase" must be true or false'),
  };
  if (settings.type === 'multiple_choice') {
    const items = records.map(([r, n]): McItem => {
      const choices = r.choices;
      if (!Array.isArray(choices) || choices.length < 2 || choices.some((c) => typeof c !== 'string' || c === '')) bad(n, '"choices" must be a list of at least two non-empty strings');
      const gold = r.gold;
      if (typeof gold !== 'number' || !Number.isInteger(gold) || gold < 0 || gold >= (choices as string[]).length) bad(n, `"gold" must be an index into "choices" (0…${(choices as string[]).length - 1}), got ${JSON.stringify(gold)}`);
      return { context: str(r.context, 'context', n), choices: choices as string[], gold: gold as number };
    });
    return { ...settings, type: 'multiple_choice', items };
  }
  const items = records.map(([r, n]): GenItem => ({ context: str(r.context, 'context', n), target: str(r.target, 'target', n) }));
  return { ...settings, type: 'generate', items };
}

/** Read and parse a task file (TrainError DATA_MISSING when it does not exist). */
export async function readTask(path: string): Promise<Task> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new TrainError('DATA_MISSING', `task file ${path} does not exist (a JSONL file: an optional {"task": {...}} line, then one item per line)`);
  }
  return parseTask(text, path);
}
